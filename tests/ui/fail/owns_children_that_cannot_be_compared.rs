use repo_runtime::Repository;

#[derive(Debug, Clone, Repository)]
#[repo(owns(lines = OrderLine::order_id))]
pub struct Order {
    #[repo(id, generated)]
    pub id: i64,
    pub customer: String,
    #[repo(skip)]
    pub lines: Vec<OrderLine>,
}

/// Not `PartialEq`: a save could not tell a changed line from an unchanged one.
#[derive(Debug, Clone, Repository)]
pub struct OrderLine {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Order)]
    pub order_id: i64,
}

fn main() {}
