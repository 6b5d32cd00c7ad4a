use repo_runtime::Repository;

struct Opaque {
    inner: std::sync::Mutex<u8>,
}

#[derive(Repository)]
struct Document {
    #[repo(id)]
    id: i64,
    #[repo(json)]
    body: Opaque,
}

fn main() {}
