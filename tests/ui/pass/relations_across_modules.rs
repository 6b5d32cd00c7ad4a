//! Relations to entities in other modules, a nullable foreign key, a link entity tying an
//! entity to itself (follows), and relations used as loads and filters.

use repo_runtime::prelude::*;

mod people {
    use repo_runtime::Repository;

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(
        has_many(posts = crate::content::Post::author_id),
        many_to_many(following = Follow::follower_id, to = followee_id),
        many_to_many(followers = Follow::followee_id, to = follower_id)
    )]
    pub struct Person {
        #[repo(id, generated)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Debug, Clone, PartialEq, Repository)]
    pub struct Follow {
        #[repo(id, references = Person)]
        pub follower_id: i64,
        #[repo(id, references = Person)]
        pub followee_id: i64,
    }
}

mod content {
    use repo_runtime::Repository;

    #[derive(Debug, Clone, PartialEq, Repository)]
    pub struct Post {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(references = crate::people::Person)]
        pub author_id: i64,
        #[repo(references = crate::people::Person, relation = reviewer)]
        pub reviewed_by: Option<i64>,
    }
}

use content::Post;
use people::Person;

#[allow(dead_code)]
async fn page(db: &Db, people: &[Person]) -> Result<(), RepoError> {
    let loaded: Vec<(Vec<(Post, Option<Person>)>, Vec<Person>)> = (
        Person::POSTS.with(Post::REVIEWER),
        Person::FOLLOWERS,
    )
        .load(db, people)
        .await?;
    let _ = loaded;
    let _: Filter<Post> = Post::AUTHOR.has(Person::NAME.eq("ann"));
    let _: Filter<Person> = Person::FOLLOWING.has(Person::NAME.eq("bob"));
    Ok(())
}

fn main() {}
