//! Plans of statements as each database's planner states them, read into one summary
//! ([`QueryPlan`]): what is logged for a slow statement when
//! [`DbOptions::explain_slow_statements`](crate::DbOptions::explain_slow_statements) is on.
//!
//! A plan is asked for the statement's own text with a copy of its own bound values, on
//! another connection of the handle's pool, after the statement and off the caller's path:
//! PostgreSQL `EXPLAIN (FORMAT JSON)`, MySQL/MariaDB `EXPLAIN FORMAT=JSON`, SQLite
//! `EXPLAIN QUERY PLAN`. Neither runs the statement. The values never leave the copy: the
//! summary names tables and indexes only.

use std::fmt;

use sqlx::SqlStr;

use crate::backend::SqlConnection;
use crate::db::Db;
use crate::error::{FromSqlx, RepoError};
#[cfg(feature = "migrate")]
use crate::schema::Column;
use crate::schema::Table;
use crate::statement::Query;

/// A statement's plan in summary: which tables it reads whole, which indexes it reads, and
/// whether it sorts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryPlan {
    /// Tables the plan reads row by row (a sequential scan, `ALL` or a full index scan on
    /// MySQL/MariaDB, SQLite's `SCAN`).
    pub scans: Vec<String>,
    /// Indexes the plan looks rows up in (a primary key's too).
    pub indexes: Vec<String>,
    /// Whether it sorts rows itself rather than reading them in an index's order.
    pub sorts: bool,
    /// The planner's estimate of the rows the statement returns or reads, where it gives one
    /// (not SQLite).
    pub estimated_rows: Option<f64>,
}

impl QueryPlan {
    /// Whether the plan reads some table row by row.
    pub fn scans_a_table(&self) -> bool {
        !self.scans.is_empty()
    }
}

impl fmt::Display for QueryPlan {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.scans.is_empty() {
            parts.push(format!("scans {}", self.scans.join(", ")));
        }
        if !self.indexes.is_empty() {
            parts.push(format!("uses {}", self.indexes.join(", ")));
        }
        if self.sorts {
            parts.push(String::from("sorts"));
        }
        if let Some(rows) = self.estimated_rows {
            parts.push(format!("~{rows} rows"));
        }
        if parts.is_empty() {
            parts.push(String::from("reads no table"));
        }
        out.write_str(&parts.join("; "))
    }
}

/// A statement's text and a copy of its bound values, taken before it runs.
pub(crate) enum Captured {
    #[cfg(feature = "sqlite")]
    Sqlite(SqlStr, sqlx::sqlite::SqliteArguments),
    #[cfg(feature = "postgres")]
    Postgres(SqlStr, sqlx::postgres::PgArguments),
    #[cfg(feature = "mysql")]
    MySql(SqlStr, sqlx::mysql::MySqlArguments),
    #[cfg(feature = "rusqlite")]
    Rusqlite(SqlStr, Vec<rusqlite::types::Value>),
}

/// Puts a copy of `query`'s values aside and gives it back whole. A value that failed to bind
/// is an error (the statement is failed with it).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn copy_arguments<DB>(
    query: &mut sqlx::query::Query<'static, DB, <DB as sqlx::Database>::Arguments>,
    text: &SqlStr,
) -> Result<<DB as sqlx::Database>::Arguments, String>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Arguments: Clone + sqlx::IntoArguments<DB>,
{
    use sqlx::Execute;
    let (arguments, failed) = match query.take_arguments() {
        Ok(arguments) => (arguments.unwrap_or_default(), None),
        Err(error) => (Default::default(), Some(error.to_string())),
    };
    let copy = arguments.clone();
    *query = sqlx::query_with(text.clone(), arguments);
    failed.map_or(Ok(copy), Err)
}

/// The text and a copy of the values of a statement's `query`, for its plan if it turns out
/// slow; `None` on the in-memory store, which has no planner.
pub(crate) fn capture(query: &mut Query, text: &SqlStr) -> Result<Option<Captured>, String> {
    let text = text.clone();
    Ok(Some(match query {
        #[cfg(feature = "sqlite")]
        Query::Sqlite(query) => {
            let arguments = copy_arguments(query, &text)?;
            Captured::Sqlite(text, arguments)
        }
        #[cfg(feature = "postgres")]
        Query::Postgres(query) => {
            let arguments = copy_arguments(query, &text)?;
            Captured::Postgres(text, arguments)
        }
        #[cfg(feature = "mysql")]
        Query::MySql(query) => {
            let arguments = copy_arguments(query, &text)?;
            Captured::MySql(text, arguments)
        }
        #[cfg(feature = "rusqlite")]
        Query::Rusqlite(query) => Captured::Rusqlite(text, query.values.clone()),
        _ => return Ok(None),
    }))
}

/// Logs the plan of a statement that was slow, from a task of its own: the caller does not
/// wait for it, and inside a transaction it waits for a connection other than the
/// transaction's.
pub(crate) fn log_plan(
    db: &Db,
    table: &'static Table,
    operation: &'static str,
    captured: Box<Captured>,
    span: tracing::Span,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let db = db.clone();
    runtime.spawn(async move {
        match plan_of(&db, *captured).await {
            Ok(plan) => tracing::warn!(
                target: "repo_runtime::plan",
                parent: &span,
                table = table.name,
                operation,
                scans = %plan.scans.join(", "),
                indexes = %plan.indexes.join(", "),
                sorts = plan.sorts,
                estimated_rows = plan.estimated_rows,
                "plan of a slow statement: {plan}"
            ),
            Err(error) => tracing::debug!(
                target: "repo_runtime::plan",
                parent: &span,
                table = table.name,
                operation,
                %error,
                "the plan of a slow statement could not be read"
            ),
        }
    });
}

/// The plan of a captured statement, asked on a connection of `db`'s pool.
async fn plan_of(db: &Db, captured: Captured) -> Result<QueryPlan, RepoError> {
    let pool = db.sql_pool()?;
    let failed = |error: sqlx::Error| RepoError::from_sqlx(error, None);
    let mut connection = pool.acquire_for(true).await.map_err(failed)?;
    match (captured, &mut connection) {
        #[cfg(feature = "postgres")]
        (Captured::Postgres(text, arguments), SqlConnection::Postgres(conn)) => {
            let sql = format!("EXPLAIN (FORMAT JSON) {}", text.as_str());
            let document = explain_text::<sqlx::Postgres>(conn, sql, arguments).await?;
            postgres_plan(&document)
        }
        #[cfg(feature = "mysql")]
        (Captured::MySql(text, arguments), SqlConnection::MySql(conn)) => {
            let sql = format!("EXPLAIN FORMAT=JSON {}", text.as_str());
            let document = explain_text::<sqlx::MySql>(conn, sql, arguments).await?;
            mysql_plan(&document)
        }
        #[cfg(feature = "sqlite")]
        (Captured::Sqlite(text, arguments), SqlConnection::Sqlite(conn)) => {
            use sqlx::Row;
            let sql = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {}", text.as_str()));
            conn.in_flight();
            let rows = sqlx::query_with(sql, arguments)
                .persistent(false)
                .fetch_all(&mut **conn)
                .await
                .map_err(failed)?;
            conn.completed();
            let details = rows
                .iter()
                .map(|row| row.try_get::<String, _>(3))
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed)?;
            Ok(sqlite_plan(details.iter().map(String::as_str)))
        }
        #[cfg(feature = "rusqlite")]
        (Captured::Rusqlite(text, values), SqlConnection::Rusqlite(session)) => {
            let sql = format!("EXPLAIN QUERY PLAN {}", text.as_str());
            let details =
                crate::backend::rusqlite::explain(session, &sql, &values).map_err(failed)?;
            Ok(sqlite_plan(details.iter().map(String::as_str)))
        }
        #[allow(unreachable_patterns)]
        _ => {
            let _ = connection;
            Err(RepoError::config(
                "a statement's plan was asked of another backend than its own",
            ))
        }
    }
}

/// The one text value an `EXPLAIN ... FORMAT JSON` returns, for `sql` with `arguments`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn explain_text<DB>(
    conn: &mut crate::backend::Loan<DB>,
    sql: String,
    arguments: <DB as sqlx::Database>::Arguments,
) -> Result<String, RepoError>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
    String: for<'r> sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<<DB as sqlx::Database>::Row>,
{
    use sqlx::Row;
    let failed = |error: sqlx::Error| RepoError::from_sqlx(error, None);
    conn.in_flight();
    let row = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments)
        .persistent(false)
        .fetch_one(&mut **conn)
        .await
        .map_err(failed)?;
    conn.completed();
    // PostgreSQL types the plan `json`, which reads as its text.
    row.try_get_unchecked::<String, _>(0).map_err(failed)
}

#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
fn unreadable(error: serde_json::Error) -> RepoError {
    RepoError::config(format!("a plan that is not the JSON expected: {error}"))
}

/// PostgreSQL's plan: nodes with a `Node Type`, their children under `Plans`.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn postgres_plan(document: &str) -> Result<QueryPlan, RepoError> {
    let value: serde_json::Value = serde_json::from_str(document).map_err(unreadable)?;
    let mut plan = QueryPlan::default();
    let top = value.get(0).and_then(|entry| entry.get("Plan"));
    plan.estimated_rows = top
        .and_then(|node| node.get("Plan Rows"))
        .and_then(serde_json::Value::as_f64);
    fn visit(node: &serde_json::Value, plan: &mut QueryPlan) {
        let text = |key: &str| node.get(key).and_then(serde_json::Value::as_str);
        match text("Node Type") {
            Some("Seq Scan") => plan.scans.extend(text("Relation Name").map(String::from)),
            Some("Index Scan" | "Index Only Scan" | "Bitmap Index Scan") => {
                plan.indexes.extend(text("Index Name").map(String::from));
            }
            Some("Sort" | "Incremental Sort") => plan.sorts = true,
            _ => {}
        }
        for child in node
            .get("Plans")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            visit(child, plan);
        }
    }
    if let Some(top) = top {
        visit(top, &mut plan);
    }
    Ok(plan)
}

/// MySQL's and MariaDB's plan: a tree whose table nodes carry `table_name` and `access_type`
/// (`ALL`, a full read; `index`, a full index read; anything else a lookup by `key`), and a
/// `filesort` where rows are sorted.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn mysql_plan(document: &str) -> Result<QueryPlan, RepoError> {
    let value: serde_json::Value = serde_json::from_str(document).map_err(unreadable)?;
    let mut plan = QueryPlan::default();
    fn visit(node: &serde_json::Value, plan: &mut QueryPlan) {
        match node {
            serde_json::Value::Object(fields) => {
                if fields.contains_key("filesort") {
                    plan.sorts = true;
                }
                let text = |key: &str| fields.get(key).and_then(serde_json::Value::as_str);
                if let (Some(table), Some(access)) = (text("table_name"), text("access_type")) {
                    if plan.estimated_rows.is_none() {
                        plan.estimated_rows =
                            fields.get("rows").and_then(serde_json::Value::as_f64);
                    }
                    match (access, text("key")) {
                        ("ALL" | "index", _) => plan.scans.push(table.to_owned()),
                        (_, Some(key)) => plan.indexes.push(format!("{table}.{key}")),
                        _ => {}
                    }
                }
                for child in fields.values() {
                    visit(child, plan);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    visit(item, plan);
                }
            }
            _ => {}
        }
    }
    visit(&value, &mut plan);
    Ok(plan)
}

/// SQLite's plan: one line per step, `SCAN t` for a full read (of the table, or of an index
/// in its order), `SEARCH t USING INDEX i (...)` for a lookup, `USE TEMP B-TREE FOR ORDER BY`
/// for a sort.
#[cfg_attr(not(any(feature = "sqlite", feature = "rusqlite")), allow(dead_code))]
fn sqlite_plan<'a>(details: impl Iterator<Item = &'a str>) -> QueryPlan {
    let mut plan = QueryPlan::default();
    for detail in details {
        let mut words = detail.split_whitespace();
        match (words.next(), words.next()) {
            (Some("SCAN"), Some(table)) => plan.scans.push(table.to_owned()),
            (Some("SEARCH"), Some(table)) => {
                let index = detail
                    .split_once(" USING ")
                    .map(|(_, using)| using.split(" (").next().unwrap_or(using))
                    .map(|using| {
                        using
                            .trim_start_matches("COVERING ")
                            .trim_start_matches("INDEX ")
                            .to_owned()
                    });
                plan.indexes.push(
                    index.map_or_else(|| table.to_owned(), |index| format!("{table}.{index}")),
                );
            }
            _ if detail.starts_with("USE TEMP B-TREE FOR") && detail.contains("ORDER BY") => {
                plan.sorts = true;
            }
            _ => {}
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_plans_name_their_scans_indexes_and_sorts() {
        let document = r#"[{"Plan": {"Node Type": "Sort", "Plan Rows": 7, "Plans": [
            {"Node Type": "Nested Loop", "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "posts"},
                {"Node Type": "Bitmap Heap Scan", "Relation Name": "users", "Plans": [
                    {"Node Type": "Bitmap Index Scan", "Index Name": "users_email_key"}]}]}]}}]"#;
        let plan = postgres_plan(document).unwrap();
        assert_eq!(plan.scans, ["posts"]);
        assert_eq!(plan.indexes, ["users_email_key"]);
        assert!(plan.sorts);
        assert_eq!(plan.estimated_rows, Some(7.0));
        assert_eq!(
            plan.to_string(),
            "scans posts; uses users_email_key; sorts; ~7 rows"
        );
    }

    #[test]
    fn mysql_plans_name_their_scans_indexes_and_sorts() {
        let document = r#"{"query_block": {"select_id": 1, "nested_loop": [
            {"read_sorted_file": {"filesort": {"table": {"table_name": "posts",
                "access_type": "ALL", "rows": 120}}}},
            {"table": {"table_name": "users", "access_type": "eq_ref", "key": "PRIMARY",
                "rows": 1}}]}}"#;
        let plan = mysql_plan(document).unwrap();
        assert_eq!(plan.scans, ["posts"]);
        assert_eq!(plan.indexes, ["users.PRIMARY"]);
        assert!(plan.sorts);
        assert_eq!(plan.estimated_rows, Some(120.0));
    }

    #[test]
    fn sqlite_plans_name_their_scans_indexes_and_sorts() {
        let plan = sqlite_plan(
            [
                "SCAN posts",
                "SEARCH users USING INDEX users_email (email=?)",
                "SEARCH tags USING INTEGER PRIMARY KEY (rowid=?)",
                "USE TEMP B-TREE FOR ORDER BY",
            ]
            .into_iter(),
        );
        assert_eq!(plan.scans, ["posts"]);
        assert_eq!(
            plan.indexes,
            ["users.users_email", "tags.INTEGER PRIMARY KEY"]
        );
        assert!(plan.sorts);
        assert_eq!(plan.estimated_rows, None);
        assert_eq!(QueryPlan::default().to_string(), "reads no table");
    }
}

/// A read the schema declares (a port's derived query, a lookup by foreign key) and its plan
/// on a database: what [`Schema::explain_queries`](crate::migrate::Schema::explain_queries)
/// reports.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    /// The entity whose table is read.
    pub entity: &'static str,
    /// The table.
    pub table: &'static str,
    /// What reads it: a port's method, or `foreign key author_id`.
    pub query: String,
    /// Its plan.
    pub plan: QueryPlan,
}

impl fmt::Display for PlannedQuery {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            out,
            "{} ({}): {}: {}",
            self.entity, self.table, self.query, self.plan
        )
    }
}

/// A value of `column`'s type for a planner that needs one (MySQL/MariaDB and SQLite plan the
/// statement with values bound): neither a value of the application nor `NULL`, which some
/// planners read as "no row" before choosing an access path.
#[cfg(feature = "migrate")]
fn bind_sample(statement: &mut crate::statement::Statement, column: Option<&Column>) {
    use crate::schema::ColumnType;
    match column.map(|column| column.ty) {
        Some(
            ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt | ColumnType::Boolean,
        ) => statement.bind(1_i64),
        Some(ColumnType::Real | ColumnType::Double) => statement.bind(1.0_f64),
        Some(ColumnType::Bytes | ColumnType::Uuid) => statement.bind(vec![1_u8; 16]),
        Some(ColumnType::Date | ColumnType::Timestamp | ColumnType::TimestampTz) => {
            statement.bind("2000-01-01 00:00:00")
        }
        Some(ColumnType::Time) => statement.bind("00:00:00"),
        Some(ColumnType::Decimal) => statement.bind("1"),
        Some(ColumnType::Json) => statement.bind("{}"),
        Some(ColumnType::Enum(values)) => statement.bind(values.first().copied().unwrap_or("")),
        Some(ColumnType::Text) | None => statement.bind("a"),
    }
}

/// `plan`'s statement on `table` for `db`'s dialect, with a sample bound for each of its
/// placeholders, in the order it renders them (PostgreSQL binds none: its plan is the
/// generic one).
#[cfg(feature = "migrate")]
fn sampled(
    db: &Db,
    table: &'static Table,
    plan: &repo_sql::Plan<'_>,
) -> crate::statement::Statement {
    use repo_sql::{Dialect, PlanLimit};
    let dialect = db.dialect();
    let columns: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    let plan_table = repo_sql::PlanTable {
        name: table.name,
        columns: &columns,
        key: table.primary_key.columns,
    };
    let conditions = || plan.any_of.iter().flat_map(|group| group.iter());
    let lists: Vec<usize> = conditions()
        .filter(|condition| condition.operator.takes_list())
        .map(|_| 1)
        .collect();
    let sql = plan.render_with_lists(dialect, &plan_table, Some(&lists));
    let mut statement = crate::executor::Executor::from(db).assembled("explain", sql);
    if dialect == Dialect::Postgres {
        return statement;
    }
    for condition in conditions() {
        let operator = condition.operator;
        let times = if operator.matches_text() {
            operator.text_binds(dialect)
        } else {
            operator.arity()
        };
        for _ in 0..times {
            bind_sample(&mut statement, table.column(condition.column));
        }
    }
    if let Some(tenant) = plan.scope {
        bind_sample(&mut statement, table.column(tenant));
    }
    if plan.limit == PlanLimit::Page {
        statement.bind(10_i64);
        statement.bind(0_i64);
    }
    statement
}

/// The highest `$n` of PostgreSQL text: how many values its statement takes.
#[cfg(all(feature = "postgres", feature = "migrate"))]
fn placeholders(sql: &str) -> usize {
    sql.split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// PostgreSQL's generic plans of `statements` with sequential scans off, so that a scan in
/// a plan means that no index serves it: each prepared without values (PostgreSQL infers
/// their types) and explained with `NULL`s on a connection that is closed afterwards.
#[cfg(all(feature = "postgres", feature = "migrate"))]
async fn postgres_generic_plans(
    db: &Db,
    statements: &[String],
) -> Result<Vec<QueryPlan>, RepoError> {
    let failed = |error: sqlx::Error| RepoError::from_sqlx(error, None);
    let pool = db.sql_pool()?;
    let mut connection = pool.acquire_for(true).await.map_err(failed)?;
    // Its session settings are changed for good: it does not go back to the pool.
    connection.discard();
    #[allow(irrefutable_let_patterns)]
    let SqlConnection::Postgres(conn) = &mut connection else {
        return Err(RepoError::config(
            "a PostgreSQL plan asked of another backend",
        ));
    };
    let run = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
    run(String::from(
        "SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan",
    ))
    .execute(&mut **conn)
    .await
    .map_err(failed)?;
    let mut plans = Vec::with_capacity(statements.len());
    for (index, sql) in statements.iter().enumerate() {
        run(format!("PREPARE repo_advice_{index} AS {sql}"))
            .execute(&mut **conn)
            .await
            .map_err(failed)?;
        let nulls = vec!["NULL"; placeholders(sql)].join(", ");
        let arguments = if nulls.is_empty() {
            String::new()
        } else {
            format!("({nulls})")
        };
        use sqlx::Row;
        let row = run(format!(
            "EXPLAIN (FORMAT JSON) EXECUTE repo_advice_{index}{arguments}"
        ))
        .fetch_one(&mut **conn)
        .await
        .map_err(failed)?;
        let document = row.try_get_unchecked::<String, _>(0).map_err(failed)?;
        plans.push(postgres_plan(&document)?);
    }
    Ok(plans)
}

#[cfg(feature = "migrate")]
impl crate::migrate::Schema {
    /// Each read the schema declares (its ports' derived queries, a lookup by each foreign
    /// key), planned by `db`'s database on the tables as they are (create them first; an
    /// empty schema will do): the run-time side of
    /// [`Schema::index_advice`](crate::migrate::Schema::index_advice), in the planner's own
    /// words. A plan that [`scans a table`](QueryPlan::scans_a_table) has no index serving
    /// it. PostgreSQL plans with sequential scans off and generic values, so that it reports
    /// a scan only where no index exists; MySQL/MariaDB and SQLite plan with sample values
    /// bound (MariaDB reads a lookup by a unique key of an empty table as "no row", which
    /// names no scan). The in-memory store has no planner: [`RepoError::Config`].
    pub async fn explain_queries(&self, db: &Db) -> Result<Vec<PlannedQuery>, RepoError> {
        if db.is_memory() {
            return Err(RepoError::config(
                "the in-memory store has no query planner: explain the queries on an SQL backend",
            ));
        }
        // The reads, each with its statement; foreign keys as a one-column lookup.
        let mut reads: Vec<(&'static Table, String, crate::statement::Statement)> = Vec::new();
        for &table in self.tables() {
            for query in table.queries {
                reads.push((
                    table,
                    query.method.to_owned(),
                    sampled(db, table, query.plan),
                ));
            }
            for key in table.foreign_keys {
                let conditions: Vec<repo_sql::PlanCondition<'_>> = key
                    .columns
                    .iter()
                    .map(|column| repo_sql::PlanCondition {
                        column,
                        operator: repo_sql::Operator::Equal,
                    })
                    .collect();
                let lookup = repo_sql::Plan {
                    action: repo_sql::PlanAction::Select,
                    any_of: &[&conditions],
                    order: &[],
                    limit: repo_sql::PlanLimit::All,
                    scope: None,
                };
                let name = table.foreign_key_read(key);
                reads.push((table, name, sampled(db, table, &lookup)));
            }
        }
        #[cfg(feature = "postgres")]
        if db.dialect() == repo_sql::Dialect::Postgres {
            let texts: Vec<String> = reads
                .iter()
                .map(|(_, _, statement)| statement.sql().unwrap_or_default().to_owned())
                .collect();
            let plans = postgres_generic_plans(db, &texts).await?;
            return Ok(reads
                .into_iter()
                .zip(plans)
                .map(|((table, query, _), plan)| PlannedQuery {
                    entity: table.entity,
                    table: table.name,
                    query,
                    plan,
                })
                .collect());
        }
        let mut planned = Vec::with_capacity(reads.len());
        for (table, query, mut statement) in reads {
            let captured = statement
                .capture()
                .ok_or_else(|| RepoError::config("a sample value of the plan failed to bind"))?;
            planned.push(PlannedQuery {
                entity: table.entity,
                table: table.name,
                query,
                plan: plan_of(db, *captured).await?,
            });
        }
        Ok(planned)
    }
}
