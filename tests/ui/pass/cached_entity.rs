use repo_runtime::{Entity, Repository};

/// A cached entity with a composite key and unique keys of several parameter types.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(cache(capacity = 500, ttl = "250ms"), unique(org_id, nickname))]
pub struct Member {
    #[repo(id)]
    pub org_id: i32,
    #[repo(id)]
    pub user_name: String,
    pub nickname: String,
    #[repo(unique)]
    pub token: Vec<u8>,
    #[repo(unique)]
    pub badge: i64,
}

fn main() {
    let spec = Member::CACHE.expect("cached");
    assert_eq!(spec.capacity, 500);
    assert_eq!(spec.ttl, std::time::Duration::from_millis(250));
}
