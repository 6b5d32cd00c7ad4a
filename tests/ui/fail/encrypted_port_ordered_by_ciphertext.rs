use repo_core::{RepoError, port};
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub id: i64,
    pub email: String,
    pub ward: String,
}

#[port]
pub trait Patients: Send + Sync {
    async fn find_all_by_ward_order_by_email(&self, ward: &str) -> Result<Vec<Patient>, RepoError>;
}

#[derive(Repository)]
#[repo(domain = Patient, port = Patients)]
pub struct PatientRecord {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(encrypted, unique)]
    pub email: String,
    pub ward: String,
}

fn main() {}
