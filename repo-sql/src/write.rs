//! The writes of one row as data: [`Insert`] and [`RowWrite`] (an update or an upsert by key),
//! each with its rendering per dialect. What a backend cannot do is decided here, once: PostgreSQL returns a
//! generated key with `RETURNING`, SQLite and MySQL report it as the last insert id; MySQL has
//! no `RETURNING` on an update and upserts with `ON DUPLICATE KEY UPDATE`.

use crate::{Dialect, Stamps};

/// `($1, $2, ...)` (or `(?, ?, ...)`): the values of one row of `count` columns.
fn one_row_of_values(dialect: Dialect, count: usize) -> String {
    let mut out = String::new();
    dialect.push_placeholder_groups(&mut out, 1, count, 1, false);
    out
}

/// `"a" = $first AND "b" = $first + 1`.
fn key_condition(dialect: Dialect, key: &[&str], first: usize) -> String {
    key.iter()
        .enumerate()
        .map(|(i, column)| {
            format!(
                "{} = {}",
                dialect.quote(column),
                dialect.placeholder(first + i)
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// What an insert does with a row whose conflict key holds the values of a stored row (or of
/// an earlier row of the same statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnConflict {
    /// Leaves the stored row alone and skips the new one.
    Ignore,
    /// Writes the new row's other columns, outside the primary key, into the stored row.
    Update,
}

/// An `INSERT` of `columns` into `table`; `generated` is the key the database assigns, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insert<'a> {
    /// The table.
    pub table: &'a str,
    /// The columns written, in bind order.
    pub columns: &'a [&'a str],
    /// The key the database generates, returned as `BIGINT` where the backend returns it.
    pub generated: Option<&'a str>,
    /// The policy columns: what an update on conflict increments or leaves alone.
    pub stamps: Stamps<'a>,
}

impl Insert<'_> {
    /// `INSERT INTO t (cols) VALUES `: the head a batch appends its rows to.
    fn head(&self, dialect: Dialect) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ",
            dialect.quote(self.table),
            dialect.quote_list(self.columns.iter().copied())
        )
    }

    /// ` RETURNING CAST(key AS BIGINT)` (`SIGNED` on MySQL), or nothing without a generated key.
    pub fn returning_key(&self, dialect: Dialect) -> String {
        let Some(key) = self.generated else {
            return String::new();
        };
        let cast = if dialect == Dialect::MySql {
            "SIGNED"
        } else {
            "BIGINT"
        };
        format!(" RETURNING CAST({} AS {cast})", dialect.quote(key))
    }

    /// One row. Only PostgreSQL returns the generated key: SQLite and MySQL report it as the
    /// last insert id.
    pub fn one_row(&self, dialect: Dialect) -> String {
        self.batch(dialect, 1, dialect == Dialect::Postgres)
    }

    /// A batch of `rows` rows as `VALUES` lists, returning the generated keys when
    /// `returning` (PostgreSQL, MariaDB; SQLite numbers a batch from its last insert id).
    pub fn batch(&self, dialect: Dialect, rows: usize, returning: bool) -> String {
        let mut sql = self.head(dialect);
        dialect.push_placeholder_groups(&mut sql, rows, self.columns.len(), 1, false);
        if returning {
            sql.push_str(&self.returning_key(dialect));
        }
        sql
    }

    /// PostgreSQL's batch: one array parameter per column, unnested into rows (sqlx sends each
    /// array's type with the statement, so no cast is needed).
    pub fn postgres_unnest(&self) -> String {
        let dialect = Dialect::Postgres;
        let arrays = (1..=self.columns.len())
            .map(|index| format!("${index}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({arrays}){}",
            dialect.quote(self.table),
            dialect.quote_list(self.columns.iter().copied()),
            self.returning_key(dialect)
        )
    }

    /// A conditional insert of `rows` rows (PostgreSQL's arrays when `unnest`, else `VALUES`
    /// lists) on SQLite or PostgreSQL: a row whose `key` columns hold a stored row's values is
    /// skipped or written into that row (every inserted column outside `key` and `primary`),
    /// as `action` says; the rows written come back, every column of `returning`.
    pub fn on_conflict(
        &self,
        dialect: Dialect,
        rows: usize,
        unnest: bool,
        conflict: &ConflictTarget<'_>,
        action: OnConflict,
    ) -> String {
        let mut sql = if unnest {
            let arrays = (1..=self.columns.len())
                .map(|index| dialect.placeholder(index))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "INSERT INTO {} ({}) SELECT * FROM UNNEST({arrays})",
                dialect.quote(self.table),
                dialect.quote_list(self.columns.iter().copied()),
            )
        } else {
            let mut sql = self.head(dialect);
            dialect.push_placeholder_groups(&mut sql, rows, self.columns.len(), 1, false);
            sql
        };
        sql.push_str(" ON CONFLICT (");
        sql.push_str(&dialect.quote_list(conflict.key.iter().copied()));
        sql.push(')');
        // A unique key of a table with soft delete is a partial index, over the rows that live:
        // the conflict target names its predicate for the database to infer it.
        if let Some(deleted) = self.stamps.deleted
            && conflict.key != conflict.primary
        {
            sql.push_str(&format!(" WHERE {} IS NULL", dialect.quote(deleted)));
        }
        sql.push_str(" DO ");
        match action {
            OnConflict::Ignore => sql.push_str("NOTHING"),
            OnConflict::Update => {
                sql.push_str("UPDATE SET ");
                let assigned = self.assigned_on_conflict(conflict);
                let mut assignments = assigned
                    .iter()
                    .map(|column| {
                        let column = dialect.quote(column);
                        format!("{column} = excluded.{column}")
                    })
                    .collect::<Vec<_>>();
                assignments.extend(incremented(dialect, self.table, self.stamps.version));
                sql.push_str(&assignments.join(", "));
                // A deleted row holding the primary key is left alone (the partial unique
                // indexes do not see deleted rows; the primary key does), as is another
                // tenant's.
                let mut checks: Vec<String> = same_tenant(dialect, self.table, self.stamps.tenant)
                    .into_iter()
                    .collect();
                if let Some(deleted) = self.stamps.deleted
                    && conflict.key == conflict.primary
                {
                    checks.push(format!(
                        "{}.{} IS NULL",
                        dialect.quote(self.table),
                        dialect.quote(deleted)
                    ));
                }
                if !checks.is_empty() {
                    sql.push_str(" WHERE ");
                    sql.push_str(&checks.join(" AND "));
                }
            }
        }
        sql.push_str(" RETURNING ");
        sql.push_str(&dialect.quote_list(conflict.returning.iter().copied()));
        sql
    }

    /// MySQL's update of a stored row from an inserted one: `ON DUPLICATE KEY UPDATE` of the
    /// same columns as [`Insert::on_conflict`]. It fires on whichever unique key the row
    /// conflicts on first: the runtime runs it only once a plain insert conflicted on `key`.
    pub fn on_duplicate_key_update(&self, conflict: &ConflictTarget<'_>) -> String {
        let dialect = Dialect::MySql;
        let mut assignments = self
            .assigned_on_conflict(conflict)
            .iter()
            .map(|column| {
                let column = dialect.quote(column);
                format!("{column} = VALUES({column})")
            })
            .collect::<Vec<_>>();
        assignments.extend(incremented(dialect, self.table, self.stamps.version));
        let assignments = assignments.join(", ");
        format!(
            "{} ON DUPLICATE KEY UPDATE {assignments}",
            self.batch(dialect, 1, false)
        )
    }

    /// The columns a conflicting row writes into the stored one: those outside the conflict
    /// key and the primary key that an update writes (not the version, which is incremented,
    /// nor what the insert set once), or the conflict key itself when there are none and no
    /// version moves, so that the statement still reports the row.
    fn assigned_on_conflict<'a>(&'a self, conflict: &ConflictTarget<'a>) -> Vec<&'a str> {
        let assigned: Vec<&str> = self
            .columns
            .iter()
            .copied()
            .filter(|column| {
                !conflict.key.contains(column)
                    && !conflict.primary.contains(column)
                    && self.stamps.writes(column)
            })
            .collect();
        if assigned.is_empty() && self.stamps.version.is_none() {
            conflict.key.to_vec()
        } else {
            assigned
        }
    }
}

/// The unique key a conditional insert tests, and what it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictTarget<'a> {
    /// The unique key's columns: the primary key's, or a unique constraint's.
    pub key: &'a [&'a str],
    /// The primary key's columns, which an update on conflict never writes.
    pub primary: &'a [&'a str],
    /// Every column of the table, in row order: what the statement returns.
    pub returning: &'a [&'a str],
}

/// A write of one whole row found by its key: an `UPDATE`, or an insert that updates the row
/// with the same key instead (an upsert).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowWrite<'a> {
    /// The table.
    pub table: &'a str,
    /// Every column, in the order a row is read and bound.
    pub columns: &'a [&'a str],
    /// The columns outside the key; empty when every column is in it. The policy columns an
    /// update does not bind (see `stamps`) are left out of what it writes.
    pub set: &'a [&'a str],
    /// The key's columns.
    pub key: &'a [&'a str],
    /// The policy columns: the version an update checks and increments, and those it keeps.
    pub stamps: Stamps<'a>,
}

impl RowWrite<'_> {
    /// The columns an update binds, in order: those of `set` the policies let it write.
    pub fn written(&self) -> Vec<&str> {
        self.set
            .iter()
            .copied()
            .filter(|column| self.stamps.writes(column))
            .collect()
    }

    /// What an existing row takes from the written one: the columns an update binds, or the key
    /// itself when there are none and no version moves, so that the statement still matches,
    /// and reports, the row.
    fn assigned(&self) -> Vec<&str> {
        let written = self.written();
        if written.is_empty() && self.stamps.version.is_none() {
            self.key.to_vec()
        } else {
            written
        }
    }

    /// `UPDATE ... SET <outside the key> WHERE <key>`, binding the written columns then the
    /// key, then the tenant when the table has one (no write reaches another tenant's row),
    /// then the version read when there is one (the row is written only at that version, and
    /// its version moves on); `RETURNING` the row except on MySQL, which has none on an
    /// update.
    pub fn update(&self, dialect: Dialect) -> String {
        self.update_returning(dialect, dialect != Dialect::MySql)
    }

    /// [`RowWrite::update`] returning nothing: one statement on every backend, for a caller
    /// that does not need the row back.
    pub fn update_in_place(&self, dialect: Dialect) -> String {
        self.update_returning(dialect, false)
    }

    fn update_returning(&self, dialect: Dialect, returning: bool) -> String {
        let written = self.written();
        let mut assignments = self
            .assigned()
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let quoted = dialect.quote(column);
                if written.is_empty() {
                    format!("{quoted} = {quoted}")
                } else {
                    format!("{quoted} = {}", dialect.placeholder(i + 1))
                }
            })
            .collect::<Vec<_>>();
        assignments.extend(incremented(dialect, self.table, self.stamps.version));
        let returning = if returning {
            format!(
                " RETURNING {}",
                dialect.quote_list(self.columns.iter().copied())
            )
        } else {
            String::new()
        };
        let mut condition = key_condition(dialect, self.key, written.len() + 1);
        let mut next = written.len() + self.key.len() + 1;
        if let Some(tenant) = self.stamps.tenant {
            condition.push_str(&format!(
                " AND {} = {}",
                dialect.quote(tenant),
                dialect.placeholder(next)
            ));
            next += 1;
        }
        if let Some(version) = self.stamps.version {
            condition.push_str(&format!(
                " AND {} = {}",
                dialect.quote(version),
                dialect.placeholder(next)
            ));
        }
        if let Some(deleted) = self.stamps.deleted {
            condition.push_str(&format!(" AND {} IS NULL", dialect.quote(deleted)));
        }
        format!(
            "UPDATE {} SET {} WHERE {condition}{returning}",
            dialect.quote(self.table),
            assignments.join(", ")
        )
    }

    /// `INSERT` of every column: the upsert's first part, and the plain insert of an entity
    /// without a generated key.
    pub fn insert_all(&self, dialect: Dialect) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            dialect.quote(self.table),
            dialect.quote_list(self.columns.iter().copied()),
            one_row_of_values(dialect, self.columns.len())
        )
    }

    /// The upsert: `ON CONFLICT (key) DO UPDATE ... RETURNING` on SQLite and PostgreSQL, which
    /// with a version updates only the row at the version bound after the row's columns, and
    /// with soft delete only a row that lives (none returned otherwise); `ON DUPLICATE KEY
    /// UPDATE` on MySQL, which fires on any unique key and checks neither (the runtime uses it
    /// only when the table has no other unique key and no such policy).
    pub fn upsert(&self, dialect: Dialect) -> String {
        let insert = self.insert_all(dialect);
        let assign = |to: &dyn Fn(&str) -> String| {
            let mut assignments = self
                .assigned()
                .iter()
                .map(|column| {
                    let column = dialect.quote(column);
                    format!("{column} = {}", to(&column))
                })
                .collect::<Vec<_>>();
            assignments.extend(incremented(dialect, self.table, self.stamps.version));
            assignments.join(", ")
        };
        match dialect {
            Dialect::MySql => {
                let assignments = assign(&|column| format!("VALUES({column})"));
                format!("{insert} ON DUPLICATE KEY UPDATE {assignments}")
            }
            Dialect::Sqlite | Dialect::Postgres => {
                let assignments = assign(&|column| format!("excluded.{column}"));
                // The stored row is written only at the version read, only while it lives,
                // and only when it belongs to the inserted row's tenant.
                let mut checks = Vec::new();
                checks.extend(same_tenant(dialect, self.table, self.stamps.tenant));
                if let Some(version) = self.stamps.version {
                    checks.push(format!(
                        "{}.{} = {}",
                        dialect.quote(self.table),
                        dialect.quote(version),
                        dialect.placeholder(self.columns.len() + 1)
                    ));
                }
                if let Some(deleted) = self.stamps.deleted {
                    checks.push(format!(
                        "{}.{} IS NULL",
                        dialect.quote(self.table),
                        dialect.quote(deleted)
                    ));
                }
                let checked = if checks.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", checks.join(" AND "))
                };
                format!(
                    "{insert} ON CONFLICT ({}) DO UPDATE SET {assignments}{checked} RETURNING {}",
                    dialect.quote_list(self.key.iter().copied()),
                    dialect.quote_list(self.columns.iter().copied())
                )
            }
        }
    }
}

/// `"t"."tenant" = excluded."tenant"`: an upsert writes into a stored row of its own tenant
/// only, if the table has one.
fn same_tenant(dialect: Dialect, table: &str, tenant: Option<&str>) -> Option<String> {
    tenant.map(|tenant| {
        let column = dialect.quote(tenant);
        format!("{}.{column} = excluded.{column}", dialect.quote(table))
    })
}

/// `"version" = "t"."version" + 1`: the version's move on a write, if the table has one.
pub(crate) fn incremented(dialect: Dialect, table: &str, version: Option<&str>) -> Option<String> {
    version.map(|version| {
        let column = dialect.quote(version);
        format!("{column} = {}.{column} + 1", dialect.quote(table))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_returns_its_key_only_where_the_backend_must() {
        let insert = Insert {
            table: "users",
            columns: &["email", "name"],
            generated: Some("id"),
            stamps: Stamps::NONE,
        };
        assert_eq!(
            insert.one_row(Dialect::Postgres),
            "INSERT INTO \"users\" (\"email\", \"name\") VALUES ($1, $2) RETURNING CAST(\"id\" AS BIGINT)"
        );
        assert_eq!(
            insert.one_row(Dialect::MySql),
            "INSERT INTO `users` (`email`, `name`) VALUES (?, ?)"
        );
        assert_eq!(
            insert.batch(Dialect::MySql, 2, true),
            "INSERT INTO `users` (`email`, `name`) VALUES (?, ?), (?, ?) RETURNING CAST(`id` AS SIGNED)"
        );
        assert_eq!(
            insert.batch(Dialect::Postgres, 2, false),
            "INSERT INTO \"users\" (\"email\", \"name\") VALUES ($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn updates_and_upserts_per_dialect() {
        let row = RowWrite {
            table: "users",
            columns: &["id", "name"],
            set: &["name"],
            key: &["id"],
            stamps: Stamps::NONE,
        };
        assert_eq!(
            row.update(Dialect::Postgres),
            "UPDATE \"users\" SET \"name\" = $1 WHERE \"id\" = $2 RETURNING \"id\", \"name\""
        );
        assert_eq!(
            row.update(Dialect::MySql),
            "UPDATE `users` SET `name` = ? WHERE `id` = ?"
        );
        assert_eq!(
            row.update_in_place(Dialect::Postgres),
            "UPDATE \"users\" SET \"name\" = $1 WHERE \"id\" = $2"
        );
        assert_eq!(
            row.upsert(Dialect::MySql),
            "INSERT INTO `users` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)"
        );
        let key_only = RowWrite {
            table: "follows",
            columns: &["a", "b"],
            set: &[],
            key: &["a", "b"],
            stamps: Stamps::NONE,
        };
        assert_eq!(
            key_only.update(Dialect::Sqlite),
            "UPDATE \"follows\" SET \"a\" = \"a\", \"b\" = \"b\" WHERE \"a\" = ? AND \"b\" = ? \
             RETURNING \"a\", \"b\""
        );
        assert_eq!(
            row.upsert(Dialect::Sqlite),
            "INSERT INTO \"users\" (\"id\", \"name\") VALUES (?, ?) ON CONFLICT (\"id\") DO UPDATE \
             SET \"name\" = excluded.\"name\" RETURNING \"id\", \"name\""
        );
    }

    #[test]
    fn conditional_inserts_skip_or_update_on_the_key_they_name() {
        let insert = Insert {
            table: "tags",
            columns: &["name", "hits"],
            generated: Some("id"),
            stamps: Stamps::NONE,
        };
        let by_name = ConflictTarget {
            key: &["name"],
            primary: &["id"],
            returning: &["id", "name", "hits"],
        };
        assert_eq!(
            insert.on_conflict(Dialect::Sqlite, 2, false, &by_name, OnConflict::Ignore),
            "INSERT INTO \"tags\" (\"name\", \"hits\") VALUES (?, ?), (?, ?) ON CONFLICT \
             (\"name\") DO NOTHING RETURNING \"id\", \"name\", \"hits\""
        );
        assert_eq!(
            insert.on_conflict(Dialect::Postgres, 3, true, &by_name, OnConflict::Update),
            "INSERT INTO \"tags\" (\"name\", \"hits\") SELECT * FROM UNNEST($1, $2) ON \
             CONFLICT (\"name\") DO UPDATE SET \"hits\" = excluded.\"hits\" RETURNING \"id\", \
             \"name\", \"hits\""
        );
        assert_eq!(
            insert.on_duplicate_key_update(&by_name),
            "INSERT INTO `tags` (`name`, `hits`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `hits` = \
             VALUES(`hits`)"
        );
        let names_only = Insert {
            table: "tags",
            columns: &["name"],
            generated: Some("id"),
            stamps: Stamps::NONE,
        };
        assert_eq!(
            names_only.on_duplicate_key_update(&by_name),
            "INSERT INTO `tags` (`name`) VALUES (?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)"
        );
    }

    #[test]
    fn a_version_is_checked_and_moved_and_what_an_insert_set_is_kept() {
        let row = RowWrite {
            table: "posts",
            columns: &["id", "title", "version", "created_at", "updated_at"],
            set: &["title", "version", "created_at", "updated_at"],
            key: &["id"],
            stamps: Stamps {
                version: Some("version"),
                kept: &["created_at"],
                deleted: None,
                tenant: None,
            },
        };
        assert_eq!(
            row.update(Dialect::Postgres),
            "UPDATE \"posts\" SET \"title\" = $1, \"updated_at\" = $2, \"version\" = \
             \"posts\".\"version\" + 1 WHERE \"id\" = $3 AND \"version\" = $4 RETURNING \"id\", \
             \"title\", \"version\", \"created_at\", \"updated_at\""
        );
        assert_eq!(
            row.upsert(Dialect::Sqlite),
            "INSERT INTO \"posts\" (\"id\", \"title\", \"version\", \"created_at\", \"updated_at\") \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (\"id\") DO UPDATE SET \"title\" = excluded.\"title\", \
             \"updated_at\" = excluded.\"updated_at\", \"version\" = \"posts\".\"version\" + 1 \
             WHERE \"posts\".\"version\" = ? RETURNING \"id\", \"title\", \"version\", \
             \"created_at\", \"updated_at\""
        );
        let insert = Insert {
            table: "posts",
            columns: &["title", "version", "created_at", "updated_at"],
            generated: Some("id"),
            stamps: row.stamps,
        };
        let by_title = ConflictTarget {
            key: &["title"],
            primary: &["id"],
            returning: row.columns,
        };
        assert_eq!(
            insert.on_duplicate_key_update(&by_title),
            "INSERT INTO `posts` (`title`, `version`, `created_at`, `updated_at`) VALUES (?, ?, ?, \
             ?) ON DUPLICATE KEY UPDATE `updated_at` = VALUES(`updated_at`), `version` = \
             `posts`.`version` + 1"
        );
    }

    #[test]
    fn no_write_reaches_another_tenants_row() {
        let row = RowWrite {
            table: "notes",
            columns: &["id", "org", "body", "version"],
            set: &["org", "body", "version"],
            key: &["id"],
            stamps: Stamps {
                version: Some("version"),
                kept: &["org"],
                deleted: None,
                tenant: Some("org"),
            },
        };
        assert_eq!(
            row.update(Dialect::Postgres),
            "UPDATE \"notes\" SET \"body\" = $1, \"version\" = \"notes\".\"version\" + 1 WHERE \
             \"id\" = $2 AND \"org\" = $3 AND \"version\" = $4 RETURNING \"id\", \"org\", \"body\", \
             \"version\""
        );
        assert_eq!(
            row.upsert(Dialect::Sqlite),
            "INSERT INTO \"notes\" (\"id\", \"org\", \"body\", \"version\") VALUES (?, ?, ?, ?) ON \
             CONFLICT (\"id\") DO UPDATE SET \"body\" = excluded.\"body\", \"version\" = \
             \"notes\".\"version\" + 1 WHERE \"notes\".\"org\" = excluded.\"org\" AND \
             \"notes\".\"version\" = ? RETURNING \"id\", \"org\", \"body\", \"version\""
        );
        let insert = Insert {
            table: "notes",
            columns: &["id", "org", "body", "version"],
            generated: None,
            stamps: row.stamps,
        };
        let by_id = ConflictTarget {
            key: &["id"],
            primary: &["id"],
            returning: row.columns,
        };
        assert_eq!(
            insert.on_conflict(Dialect::Postgres, 1, false, &by_id, OnConflict::Update),
            "INSERT INTO \"notes\" (\"id\", \"org\", \"body\", \"version\") VALUES ($1, $2, $3, \
             $4) ON CONFLICT (\"id\") DO UPDATE SET \"body\" = excluded.\"body\", \"version\" = \
             \"notes\".\"version\" + 1 WHERE \"notes\".\"org\" = excluded.\"org\" RETURNING \
             \"id\", \"org\", \"body\", \"version\""
        );
    }
}
