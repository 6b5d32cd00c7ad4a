//! [`Linked`]: the rows of a table reached from some parents through a link table (a
//! many-to-many relation), each with the parent it was reached from, in one statement.

use crate::{Dialect, Operator, PlanTable};

/// A select of the rows of a target table linked to some parents: the link table's `from`
/// column holds a parent's key and its `to` column the target's (single-column) key. Each
/// result row is the target's columns, then the parent's key; rows come in the order of the
/// target's key, then the parent's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Linked<'a> {
    /// The link table.
    pub link: &'a str,
    /// Its column that holds a parent's key.
    pub from: &'a str,
    /// Its column that holds a target's key.
    pub to: &'a str,
    /// How many parent keys are bound (one array on PostgreSQL, whatever its length).
    pub keys: usize,
    /// The target's soft-delete column: a target a soft delete marked is not reached.
    pub target_deleted: Option<&'a str>,
    /// The link table's soft-delete column: a marked link ties nothing.
    pub link_deleted: Option<&'a str>,
    /// The target's tenant column: only the targets of the tenant bound after the keys are
    /// reached.
    pub target_tenant: Option<&'a str>,
    /// The link table's tenant column: only the links of the tenant bound last tie anything.
    pub link_tenant: Option<&'a str>,
}

impl Linked<'_> {
    /// The statement's SQL for `dialect`, reading `target`, whose key is one column.
    pub fn render(&self, dialect: Dialect, target: &PlanTable<'_>) -> String {
        let mut sql = String::from("SELECT ");
        for (index, column) in target.columns.iter().enumerate() {
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push_str("t.");
            dialect.push_ident(&mut sql, column);
        }
        sql.push_str(", l.");
        dialect.push_ident(&mut sql, self.from);
        sql.push_str(" FROM ");
        dialect.push_ident(&mut sql, target.name);
        sql.push_str(" t JOIN ");
        dialect.push_ident(&mut sql, self.link);
        sql.push_str(" l ON l.");
        dialect.push_ident(&mut sql, self.to);
        sql.push_str(" = t.");
        let key = target.key.first().copied().unwrap_or_default();
        dialect.push_ident(&mut sql, key);
        sql.push_str(" WHERE ");
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            dialect.placeholder(next)
        };
        let from = format!("l.{}", dialect.quote(self.from));
        sql.push_str(&Operator::In.render_list(dialect, &from, self.keys, &mut placeholder));
        for (alias, deleted) in [("t", self.target_deleted), ("l", self.link_deleted)] {
            if let Some(deleted) = deleted {
                sql.push_str(&format!(" AND {alias}.{} IS NULL", dialect.quote(deleted)));
            }
        }
        for (alias, tenant) in [("t", self.target_tenant), ("l", self.link_tenant)] {
            if let Some(tenant) = tenant {
                let column = format!("{alias}.{}", dialect.quote(tenant));
                sql.push_str(" AND ");
                sql.push_str(&Operator::Equal.render(dialect, &column, &mut placeholder));
            }
        }
        sql.push_str(" ORDER BY t.");
        dialect.push_ident(&mut sql, key);
        sql.push_str(", l.");
        dialect.push_ident(&mut sql, self.from);
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: PlanTable<'static> = PlanTable {
        name: "tags",
        columns: &["id", "name"],
        key: &["id"],
    };

    const LINKED: Linked<'static> = Linked {
        link: "article_tags",
        from: "article_id",
        to: "tag_id",
        keys: 2,
        target_deleted: None,
        link_deleted: None,
        target_tenant: None,
        link_tenant: None,
    };

    #[test]
    fn a_link_joins_the_target_and_returns_the_parent_key_last() {
        assert_eq!(
            LINKED.render(Dialect::Sqlite, &TAGS),
            "SELECT t.\"id\", t.\"name\", l.\"article_id\" FROM \"tags\" t JOIN \"article_tags\" l \
             ON l.\"tag_id\" = t.\"id\" WHERE l.\"article_id\" IN (?, ?) ORDER BY t.\"id\", l.\"article_id\""
        );
        assert_eq!(
            LINKED.render(Dialect::Postgres, &TAGS),
            "SELECT t.\"id\", t.\"name\", l.\"article_id\" FROM \"tags\" t JOIN \"article_tags\" l \
             ON l.\"tag_id\" = t.\"id\" WHERE l.\"article_id\" = ANY($1) ORDER BY t.\"id\", l.\"article_id\""
        );
        assert_eq!(
            LINKED.render(Dialect::MySql, &TAGS),
            "SELECT t.`id`, t.`name`, l.`article_id` FROM `tags` t JOIN `article_tags` l \
             ON l.`tag_id` = t.`id` WHERE l.`article_id` IN (?, ?) ORDER BY t.`id`, l.`article_id`"
        );
    }

    #[test]
    fn a_scoped_link_reaches_its_tenants_targets_through_its_tenants_links() {
        let scoped = Linked {
            target_tenant: Some("org"),
            link_tenant: Some("org"),
            ..LINKED
        };
        assert_eq!(
            scoped.render(Dialect::Postgres, &TAGS),
            "SELECT t.\"id\", t.\"name\", l.\"article_id\" FROM \"tags\" t JOIN \"article_tags\" l \
             ON l.\"tag_id\" = t.\"id\" WHERE l.\"article_id\" = ANY($1) AND t.\"org\" = $2 AND \
             l.\"org\" = $3 ORDER BY t.\"id\", l.\"article_id\""
        );
    }
}
