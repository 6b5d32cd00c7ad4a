//! Statement text rendered at compile time, one string per dialect, from the validated model.
//! Identifiers are always quoted; values are always placeholders.

use repo_sql::{Operator, Plan, PlanAction, PlanCondition, PlanLimit, PlanTable};

use crate::model::{Entity, Field};

pub(crate) use repo_sql::Dialect;

pub(crate) const DIALECTS: [Dialect; 3] = Dialect::ALL;

/// One statement in the three dialects, in `DIALECTS` order.
pub(crate) type PerDialect = [String; 3];

fn per_dialect(render: impl Fn(Dialect) -> String) -> PerDialect {
    DIALECTS.map(render)
}

/// Every column of `fields`, an embedded field's several columns included.
fn column_names<'a>(fields: impl Iterator<Item = &'a Field>) -> impl Iterator<Item = &'a str> {
    fields.flat_map(|field| field.columns.iter().map(|column| column.name.as_str()))
}

pub(crate) fn column_list<'a>(d: Dialect, fields: impl Iterator<Item = &'a Field>) -> String {
    column_names(fields)
        .map(|column| d.quote(column))
        .collect::<Vec<_>>()
        .join(", ")
}

fn placeholders(d: Dialect, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| d.placeholder(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Equality of each of `fields` with a parameter: a finder's conditions.
pub(crate) fn equal_each<'a>(fields: &[&'a Field]) -> Vec<PlanCondition<'a>> {
    fields
        .iter()
        .map(|field| PlanCondition {
            column: &field.column,
            operator: Operator::Equal,
        })
        .collect()
}

/// `"a" = $n AND "b" = $n+1`.
fn conditions<'a>(d: Dialect, fields: impl Iterator<Item = &'a Field>, first: usize) -> String {
    fields
        .enumerate()
        .map(|(i, field)| format!("{} = {}", d.quote(&field.column), d.placeholder(first + i)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The statements of `EntitySql` and of the finders.
pub(crate) struct Statements<'a> {
    entity: &'a Entity,
}

impl<'a> Statements<'a> {
    pub(crate) fn new(entity: &'a Entity) -> Self {
        Statements { entity }
    }

    fn table(&self, d: Dialect) -> String {
        d.quote(&self.entity.table)
    }

    fn all_columns(&self, d: Dialect) -> String {
        column_list(d, self.entity.fields.iter())
    }

    fn returning(&self, d: Dialect) -> String {
        format!(" RETURNING {}", self.all_columns(d))
    }

    /// ` RETURNING ...` except on MySQL, which has none.
    fn returning_unless_mysql(&self, d: Dialect) -> String {
        if d == Dialect::MySql {
            String::new()
        } else {
            self.returning(d)
        }
    }

    /// Renders `plan` on the entity's table in every dialect.
    pub(crate) fn plan(&self, plan: &Plan<'_>) -> PerDialect {
        let columns: Vec<&str> = column_names(self.entity.fields.iter()).collect();
        let key: Vec<&str> = self
            .entity
            .key_fields()
            .map(|field| field.column.as_str())
            .collect();
        let table = PlanTable {
            name: &self.entity.table,
            columns: &columns,
            key: &key,
        };
        per_dialect(|d| plan.render(d, &table))
    }

    /// `action` on the rows where each key column equals a parameter.
    fn by_key(&self, action: PlanAction) -> PerDialect {
        let key: Vec<&Field> = self.entity.key_fields().collect();
        let conditions = equal_each(&key);
        self.plan(&Plan {
            action,
            any_of: &[&conditions],
            order: &[],
            limit: PlanLimit::All,
        })
    }

    /// `action` on every row.
    fn every_row(&self, action: PlanAction) -> PerDialect {
        self.plan(&Plan {
            action,
            any_of: &[],
            order: &[],
            limit: PlanLimit::All,
        })
    }

    pub(crate) fn select(&self) -> PerDialect {
        self.every_row(PlanAction::Select)
    }

    pub(crate) fn select_by_id(&self) -> PerDialect {
        self.by_key(PlanAction::Select)
    }

    pub(crate) fn exists_by_id(&self) -> PerDialect {
        self.by_key(PlanAction::Exists)
    }

    pub(crate) fn count(&self) -> PerDialect {
        self.every_row(PlanAction::Count)
    }

    fn insert_head(&self, d: Dialect) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table(d),
            column_list(d, self.entity.insert_fields())
        )
    }

    /// `INSERT` of the insert columns. Only PostgreSQL returns the generated key: SQLite and
    /// MySQL report it as the last insert id.
    pub(crate) fn insert(&self) -> PerDialect {
        let width = self.insert_width();
        per_dialect(|d| {
            let returning = if d == Dialect::Postgres {
                self.returning_key(d)
            } else {
                String::new()
            };
            format!(
                "{}({}){returning}",
                self.insert_head(d),
                placeholders(d, 1, width)
            )
        })
    }

    /// ` RETURNING <generated key as BIGINT>`, or nothing when no key is generated.
    fn returning_key(&self, d: Dialect) -> String {
        match self.entity.generated() {
            Some(key) => {
                let cast = if d == Dialect::MySql {
                    "SIGNED"
                } else {
                    "BIGINT"
                };
                format!(" RETURNING CAST({} AS {cast})", d.quote(&key.column))
            }
            None => String::new(),
        }
    }

    pub(crate) fn insert_values(&self) -> PerDialect {
        per_dialect(|d| self.insert_head(d))
    }

    /// What a batch appends to return its generated keys: PostgreSQL and MariaDB use
    /// `RETURNING`; SQLite numbers the rows from the last insert id.
    pub(crate) fn returning_keys(&self) -> PerDialect {
        per_dialect(|d| {
            if d == Dialect::Sqlite {
                String::new()
            } else {
                self.returning_key(d)
            }
        })
    }

    /// PostgreSQL's batch insert: one array parameter per insert column, unnested into rows.
    /// Empty for an entity with embedded values, which batches as `VALUES` lists.
    pub(crate) fn postgres_unnest_insert(&self) -> String {
        if self.entity.has_embedded() {
            return String::new();
        }
        let d = Dialect::Postgres;
        let arrays = column_names(self.entity.insert_fields())
            .enumerate()
            // sqlx sends each array's type with the statement: no cast is needed.
            .map(|(i, _)| format!("${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({arrays}){}",
            self.table(d),
            column_list(d, self.entity.insert_fields()),
            self.returning_key(d)
        )
    }

    pub(crate) fn insert_width(&self) -> usize {
        column_names(self.entity.insert_fields()).count()
    }

    fn insert_all_text(&self, d: Dialect) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.table(d),
            self.all_columns(d),
            placeholders(d, 1, column_names(self.entity.fields.iter()).count())
        )
    }

    pub(crate) fn insert_all(&self) -> PerDialect {
        per_dialect(|d| self.insert_all_text(d))
    }

    /// The columns an update sets: the non-key columns, or the key itself when there are none
    /// (so the statement still matches, and reports, the row).
    fn set_fields(&self) -> Vec<&Field> {
        let non_key: Vec<&Field> = self.entity.non_key_fields().collect();
        if non_key.is_empty() {
            self.entity.key_fields().collect()
        } else {
            non_key
        }
    }

    pub(crate) fn update(&self) -> PerDialect {
        let set_fields = self.set_fields();
        let set_columns: Vec<&str> = column_names(set_fields.iter().copied()).collect();
        let has_non_key = self.entity.non_key_fields().next().is_some();
        per_dialect(|d| {
            let assignments = set_columns
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    let column = d.quote(column);
                    if has_non_key {
                        format!("{column} = {}", d.placeholder(i + 1))
                    } else {
                        format!("{column} = {column}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let first_key = if has_non_key {
                set_columns.len() + 1
            } else {
                1
            };
            format!(
                "UPDATE {} SET {} WHERE {}{}",
                self.table(d),
                assignments,
                conditions(d, self.entity.key_fields(), first_key),
                self.returning_unless_mysql(d)
            )
        })
    }

    pub(crate) fn upsert(&self) -> PerDialect {
        let set_fields = self.set_fields();
        let set_columns: Vec<&str> = column_names(set_fields.iter().copied()).collect();
        per_dialect(|d| {
            let insert = self.insert_all_text(d);
            match d {
                Dialect::MySql => {
                    let assignments = set_columns
                        .iter()
                        .map(|column| {
                            let column = d.quote(column);
                            format!("{column} = VALUES({column})")
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("{insert} ON DUPLICATE KEY UPDATE {assignments}")
                }
                Dialect::Sqlite | Dialect::Postgres => {
                    let assignments = set_columns
                        .iter()
                        .map(|column| {
                            let column = d.quote(column);
                            format!("{column} = excluded.{column}")
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(
                        "{insert} ON CONFLICT ({}) DO UPDATE SET {assignments}{}",
                        column_list(d, self.entity.key_fields()),
                        self.returning(d)
                    )
                }
            }
        })
    }

    pub(crate) fn delete_by_id(&self) -> PerDialect {
        self.by_key(PlanAction::Delete)
    }

    pub(crate) fn key_columns(&self) -> PerDialect {
        per_dialect(|d| {
            let list = column_list(d, self.entity.key_fields());
            if self.entity.key.len() == 1 {
                list
            } else {
                format!("({list})")
            }
        })
    }
}
