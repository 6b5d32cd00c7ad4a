//! Conduit, the RealWorld blogging platform's backend, on the generated persistence layer:
//!
//! - the domain (`conduit-domain`): entities and repository ports, with no database code;
//! - [`application`]: the use cases, over the ports and the query side;
//! - [`infrastructure`]: the records implementing the ports (every method generated), the
//!   query side written with filters, relation loads and projections, the store on a `Db`;
//! - [`http`]: the API of the RealWorld specification on axum.
//!
//! Every statement comes from the library: there is no SQL in this crate.

pub mod application;
pub mod http;
pub mod infrastructure;
mod migrations;
pub mod seeds;

use std::sync::Arc;

use repo_runtime::prelude::*;

/// The service on `db`: its schema migrated, its router ready to serve.
pub async fn service(
    db: Db,
    secret: &[u8],
) -> Result<(axum::Router, Arc<infrastructure::Persistence>), RepoError> {
    let persistence = Arc::new(infrastructure::Persistence::open(db).await?);
    let conduit = application::Conduit::new(persistence.clone());
    Ok((
        http::router(conduit, http::Tokens::new(secret)),
        persistence,
    ))
}
