use repo_runtime::prelude::*;

#[derive(Clone, PartialEq, Repository)]
pub struct Patient {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(encrypted, unique)]
    pub email: String,
    #[repo(encrypted)]
    pub notes: String,
}

fn main() {
    let _ = Patient::EMAIL.contains("@example.com");
    let _ = Patient::EMAIL.gt("a");
    let _ = Patient::NOTES.eq("x");
    let _ = ListOptions::new().order_by(PatientColumn::Email, Order::Asc);
}
