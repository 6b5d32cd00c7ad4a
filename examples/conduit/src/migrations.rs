//! The migration files under `migrations/`, compiled into the binary (written by
//! `conduit-migrate generate`; a new one is listed here).

use repo_runtime::Dialect;

/// `(file name, contents)` of each migration of `dialect`.
pub(crate) fn files(dialect: Dialect) -> &'static [(&'static str, &'static str)] {
    match dialect {
        Dialect::Sqlite => &[
            (
                "20261207141021_create_conduit.down.sql",
                include_str!("../migrations/sqlite/20261207141021_create_conduit.down.sql"),
            ),
            (
                "20261207141021_create_conduit.up.sql",
                include_str!("../migrations/sqlite/20261207141021_create_conduit.up.sql"),
            ),
            (
                "20261207172023_index_comment_authors.down.sql",
                include_str!("../migrations/sqlite/20261207172023_index_comment_authors.down.sql"),
            ),
            (
                "20261207172023_index_comment_authors.up.sql",
                include_str!("../migrations/sqlite/20261207172023_index_comment_authors.up.sql"),
            ),
        ],
        Dialect::Postgres => &[
            (
                "20261207141021_create_conduit.down.sql",
                include_str!("../migrations/postgres/20261207141021_create_conduit.down.sql"),
            ),
            (
                "20261207141021_create_conduit.up.sql",
                include_str!("../migrations/postgres/20261207141021_create_conduit.up.sql"),
            ),
            (
                "20261207172023_index_comment_authors.down.sql",
                include_str!(
                    "../migrations/postgres/20261207172023_index_comment_authors.down.sql"
                ),
            ),
            (
                "20261207172023_index_comment_authors.up.sql",
                include_str!("../migrations/postgres/20261207172023_index_comment_authors.up.sql"),
            ),
        ],
        Dialect::MySql => &[
            (
                "20261207141021_create_conduit.down.sql",
                include_str!("../migrations/mysql/20261207141021_create_conduit.down.sql"),
            ),
            (
                "20261207141021_create_conduit.up.sql",
                include_str!("../migrations/mysql/20261207141021_create_conduit.up.sql"),
            ),
            (
                "20261207172023_index_comment_authors.down.sql",
                include_str!("../migrations/mysql/20261207172023_index_comment_authors.down.sql"),
            ),
            (
                "20261207172023_index_comment_authors.up.sql",
                include_str!("../migrations/mysql/20261207172023_index_comment_authors.up.sql"),
            ),
        ],
    }
}
