use repo_runtime::Repository;

#[derive(Repository)]
#[repo(many_to_many(tags = ArticleTag::article_id))]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository)]
pub struct ArticleTag {
    #[repo(id, references = Article)]
    pub article_id: i64,
    #[repo(id)]
    pub tag_id: i64,
}

fn main() {}
