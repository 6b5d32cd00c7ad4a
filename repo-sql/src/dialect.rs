//! Per-dialect SQL details: identifier quoting, placeholders, bind-parameter limits, and
//! [`Sql`], one statement's text per dialect.
//!
//! The derive renders with it what depends only on an entity, at compile time; the runtime
//! renders with it what depends on the call (batch `VALUES` lists, `IN` lists, ordering) and
//! the DDL, always from identifiers that came from the derive.

use std::fmt::{self, Write};

/// The SQL dialect of a database handle, chosen at run time from the connection URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite 3.35 or newer (the embedded default).
    Sqlite,
    /// PostgreSQL 12 or newer.
    Postgres,
    /// MySQL 8 or MariaDB 10.5 or newer.
    MySql,
}

impl Dialect {
    /// Every dialect, in a fixed order.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    /// The dialect's name as used in file paths and logs: `sqlite`, `postgres`, `mysql`.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    /// The most bind parameters one statement may carry.
    pub const fn bind_limit(self) -> usize {
        match self {
            Dialect::Sqlite => 32_766,
            Dialect::Postgres | Dialect::MySql => 65_535,
        }
    }

    /// Appends `ident` quoted for this dialect.
    ///
    /// Identifiers reaching this function were validated by the derive, so they contain no
    /// quote character; doubling one anyway keeps the function safe on its own.
    pub fn push_ident(self, out: &mut String, ident: &str) {
        let quote = match self {
            Dialect::MySql => '`',
            Dialect::Sqlite | Dialect::Postgres => '"',
        };
        out.push(quote);
        for c in ident.chars() {
            if c == quote {
                out.push(quote);
            }
            out.push(c);
        }
        out.push(quote);
    }

    /// `ident` quoted for this dialect.
    pub fn quote(self, ident: &str) -> String {
        let mut out = String::with_capacity(ident.len() + 2);
        self.push_ident(&mut out, ident);
        out
    }

    /// `names` quoted for this dialect and separated by commas: `"a", "b"`.
    pub fn quote_list<'a>(self, names: impl IntoIterator<Item = &'a str>) -> String {
        let mut out = String::new();
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.push_ident(&mut out, name);
        }
        out
    }

    /// The placeholder of the `index`-th bind parameter (1-based): `$n` or `?`.
    pub fn placeholder(self, index: usize) -> String {
        let mut out = String::new();
        self.push_placeholder(&mut out, index);
        out
    }

    /// Appends the placeholder of the `index`-th bind parameter (1-based).
    pub fn push_placeholder(self, out: &mut String, index: usize) {
        match self {
            Dialect::Postgres => {
                // Writing to a String cannot fail.
                let _ = write!(out, "${index}");
            }
            Dialect::Sqlite | Dialect::MySql => out.push('?'),
        }
    }

    /// Appends `rows` groups of `width` placeholders, `(?, ?), (?, ?)`, numbered from `first`.
    /// A group of width one is written without parentheses when `bare_single` is set.
    pub fn push_placeholder_groups(
        self,
        out: &mut String,
        rows: usize,
        width: usize,
        first: usize,
        bare_single: bool,
    ) {
        let mut index = first;
        for row in 0..rows {
            if row > 0 {
                out.push_str(", ");
            }
            let parens = !(bare_single && width == 1);
            if parens {
                out.push('(');
            }
            for column in 0..width {
                if column > 0 {
                    out.push_str(", ");
                }
                self.push_placeholder(out, index);
                index += 1;
            }
            if parens {
                out.push(')');
            }
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One statement's text for each dialect, rendered at compile time by the derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sql {
    /// The text for SQLite.
    pub sqlite: &'static str,
    /// The text for PostgreSQL.
    pub postgres: &'static str,
    /// The text for MySQL and MariaDB.
    pub mysql: &'static str,
}

impl Sql {
    /// The text for `dialect`.
    #[inline]
    pub const fn get(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
            Dialect::MySql => self.mysql,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_uses_each_dialects_quote_and_doubles_it_inside() {
        assert_eq!(Dialect::Sqlite.quote("user"), "\"user\"");
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    }

    #[test]
    fn placeholder_groups_are_numbered_on_postgres_only() {
        let mut pg = String::new();
        Dialect::Postgres.push_placeholder_groups(&mut pg, 2, 2, 3, false);
        assert_eq!(pg, "($3, $4), ($5, $6)");
        let mut my = String::new();
        Dialect::MySql.push_placeholder_groups(&mut my, 3, 1, 1, true);
        assert_eq!(my, "?, ?, ?");
    }
}
