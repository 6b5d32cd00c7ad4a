use repo_core::{RepoError, port};
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub id: i64,
    pub email: String,
}

#[port]
pub trait Patients: Send + Sync {
    async fn find_all_by_email_ending_with(&self, domain: &str) -> Result<Vec<Patient>, RepoError>;
}

#[derive(Repository)]
#[repo(domain = Patient, port = Patients)]
pub struct PatientRecord {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(encrypted, unique)]
    pub email: String,
}

fn main() {}
