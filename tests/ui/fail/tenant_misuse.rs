use repo_runtime::Repository;

/// Every row belongs to a tenant: not an `Option`.
#[derive(Repository)]
struct Optional {
    #[repo(id, generated)]
    id: i64,
    #[repo(tenant)]
    org: Option<i64>,
}

/// A unique key holds within each tenant: it names the tenant.
#[derive(Repository)]
#[repo(unique(org, title))]
struct UniqueAcrossTenants {
    #[repo(id, generated)]
    id: i64,
    #[repo(tenant)]
    org: i64,
    #[repo(unique)]
    slug: String,
    title: String,
}

/// A key of several columns holds within each tenant too.
#[derive(Repository)]
struct CompositeKey {
    #[repo(id)]
    project: i64,
    #[repo(id)]
    label: i64,
    #[repo(tenant)]
    org: i64,
}

/// Two tenants make no sense.
#[derive(Repository)]
struct TwoTenants {
    #[repo(id, generated)]
    id: i64,
    #[repo(tenant)]
    org: i64,
    #[repo(tenant)]
    team: i64,
}

/// Row-Level Security scopes by the tenant column.
#[derive(Repository)]
struct SecuredWithoutTenant {
    #[repo(id, generated)]
    id: i64,
    #[repo(row_level_security)]
    org: i64,
}

/// The policy is named after the table: `<table>_tenant` must fit PostgreSQL's 63 bytes.
#[derive(Repository)]
#[repo(table = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
struct LongName {
    #[repo(id, generated)]
    id: i64,
    #[repo(tenant, row_level_security)]
    org: i64,
}

fn main() {}
