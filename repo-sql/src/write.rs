//! The writes of one entity as data: [`Insert`], [`Update`] and [`Upsert`], each with its
//! rendering per dialect. What a backend cannot do is decided here, once: PostgreSQL returns a
//! generated key with `RETURNING`, SQLite and MySQL report it as the last insert id; MySQL has
//! no `RETURNING` on an update and upserts with `ON DUPLICATE KEY UPDATE`.

use crate::Dialect;

/// `"a", "b"` in `dialect`.
fn quoted(dialect: Dialect, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|column| dialect.quote(column))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, ..., $first + count - 1` (or `?, ...`).
fn placeholders(dialect: Dialect, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|index| dialect.placeholder(index))
        .collect::<Vec<_>>()
        .join(", ")
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

/// An `INSERT` of `columns` into `table`; `generated` is the key the database assigns, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insert<'a> {
    /// The table.
    pub table: &'a str,
    /// The columns written, in bind order.
    pub columns: &'a [&'a str],
    /// The key the database generates, returned as `BIGINT` where the backend returns it.
    pub generated: Option<&'a str>,
}

impl Insert<'_> {
    /// `INSERT INTO t (cols) VALUES `: the head a batch appends its rows to.
    pub fn head(&self, dialect: Dialect) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ",
            dialect.quote(self.table),
            quoted(dialect, self.columns)
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
        let returning = if dialect == Dialect::Postgres {
            self.returning_key(dialect)
        } else {
            String::new()
        };
        format!(
            "{}({}){returning}",
            self.head(dialect),
            placeholders(dialect, 1, self.columns.len())
        )
    }

    /// What a batch appends to return its generated keys: `RETURNING` on PostgreSQL and
    /// MariaDB; nothing on SQLite, which numbers a batch from its last insert id.
    pub fn batch_returning(&self, dialect: Dialect) -> String {
        if dialect == Dialect::Sqlite {
            String::new()
        } else {
            self.returning_key(dialect)
        }
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
            quoted(dialect, self.columns),
            self.returning_key(dialect)
        )
    }
}

/// An `UPDATE` of one row by its key, returning the row where the backend can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update<'a> {
    /// The table.
    pub table: &'a str,
    /// Every column, in the order a row is read (what `RETURNING` returns).
    pub columns: &'a [&'a str],
    /// The columns set, bound first; empty when every column is in the key.
    pub set: &'a [&'a str],
    /// The key's columns, bound after the set ones.
    pub key: &'a [&'a str],
}

impl Update<'_> {
    /// The statement; MySQL has no `RETURNING` on an update. An entity made only of key columns
    /// sets its key to itself, so the statement still matches, and reports, the row.
    pub fn render(&self, dialect: Dialect) -> String {
        let (assignments, first_key) = if self.set.is_empty() {
            let same = self
                .key
                .iter()
                .map(|column| {
                    let column = dialect.quote(column);
                    format!("{column} = {column}")
                })
                .collect::<Vec<_>>();
            (same.join(", "), 1)
        } else {
            let set = self
                .set
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    format!("{} = {}", dialect.quote(column), dialect.placeholder(i + 1))
                })
                .collect::<Vec<_>>();
            (set.join(", "), self.set.len() + 1)
        };
        let returning = if dialect == Dialect::MySql {
            String::new()
        } else {
            format!(" RETURNING {}", quoted(dialect, self.columns))
        };
        format!(
            "UPDATE {} SET {assignments} WHERE {}{returning}",
            dialect.quote(self.table),
            key_condition(dialect, self.key, first_key)
        )
    }
}

/// An insert of every column that updates the row with the same key instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upsert<'a> {
    /// The table.
    pub table: &'a str,
    /// Every column, in bind order.
    pub columns: &'a [&'a str],
    /// The columns an existing row gets from the new one; the key when there are no others.
    pub set: &'a [&'a str],
    /// The key's columns.
    pub key: &'a [&'a str],
}

impl Upsert<'_> {
    /// `INSERT` of every column, the statement's first part (MySQL's upsert, and the plain
    /// insert of an entity without a generated key).
    pub fn insert_all(&self, dialect: Dialect) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            dialect.quote(self.table),
            quoted(dialect, self.columns),
            placeholders(dialect, 1, self.columns.len())
        )
    }

    /// `ON CONFLICT (key) DO UPDATE ... RETURNING` on SQLite and PostgreSQL; `ON DUPLICATE KEY
    /// UPDATE` on MySQL, which fires on any unique key (the runtime uses it only when the table
    /// has no other).
    pub fn render(&self, dialect: Dialect) -> String {
        let insert = self.insert_all(dialect);
        let assign = |to: &dyn Fn(&str) -> String| {
            self.set
                .iter()
                .map(|column| {
                    let column = dialect.quote(column);
                    format!("{column} = {}", to(&column))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match dialect {
            Dialect::MySql => {
                let assignments = assign(&|column| format!("VALUES({column})"));
                format!("{insert} ON DUPLICATE KEY UPDATE {assignments}")
            }
            Dialect::Sqlite | Dialect::Postgres => {
                let assignments = assign(&|column| format!("excluded.{column}"));
                format!(
                    "{insert} ON CONFLICT ({}) DO UPDATE SET {assignments} RETURNING {}",
                    quoted(dialect, self.key),
                    quoted(dialect, self.columns)
                )
            }
        }
    }
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
            insert.batch_returning(Dialect::MySql),
            " RETURNING CAST(`id` AS SIGNED)"
        );
        assert_eq!(insert.batch_returning(Dialect::Sqlite), "");
    }

    #[test]
    fn updates_and_upserts_per_dialect() {
        let update = Update {
            table: "users",
            columns: &["id", "name"],
            set: &["name"],
            key: &["id"],
        };
        assert_eq!(
            update.render(Dialect::Postgres),
            "UPDATE \"users\" SET \"name\" = $1 WHERE \"id\" = $2 RETURNING \"id\", \"name\""
        );
        assert_eq!(
            update.render(Dialect::MySql),
            "UPDATE `users` SET `name` = ? WHERE `id` = ?"
        );
        let upsert = Upsert {
            table: "users",
            columns: &["id", "name"],
            set: &["name"],
            key: &["id"],
        };
        assert_eq!(
            upsert.render(Dialect::MySql),
            "INSERT INTO `users` (`id`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)"
        );
        assert_eq!(
            upsert.render(Dialect::Sqlite),
            "INSERT INTO \"users\" (\"id\", \"name\") VALUES (?, ?) ON CONFLICT (\"id\") DO UPDATE \
             SET \"name\" = excluded.\"name\" RETURNING \"id\", \"name\""
        );
    }
}
