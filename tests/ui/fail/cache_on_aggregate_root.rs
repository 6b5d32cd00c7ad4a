use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(owns(lines = OrderLine::order_id), cache)]
pub struct Order {
    #[repo(id, generated)]
    pub id: i64,
    pub customer: String,
    #[repo(skip)]
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct OrderLine {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Order)]
    pub order_id: i64,
}

fn main() {}
