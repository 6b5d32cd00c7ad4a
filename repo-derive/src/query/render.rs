//! A derived query as SQL per dialect and as the body that binds its parameters and maps its
//! rows. `IN` lists are one array on PostgreSQL (`= ANY($n)`) and a marker elsewhere, which
//! the runtime expands to the list's placeholders; text matches are `LIKE ... ESCAPE '!'` on
//! the servers and `instr` / `substr` on SQLite, whose `LIKE` ignores case.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::grammar::{Action, Operator};
use super::{Bound, Fetch, Query, Returns, run, value_ident};
use crate::expand::{PlanLimit, plan_literal, sql_literal};
use crate::model::{Entity, option_inner};
use crate::sql::{DIALECTS, Dialect, column_list};

/// Numbers placeholders as they are written.
struct Placeholders {
    dialect: Dialect,
    next: usize,
}

impl Placeholders {
    fn next(&mut self) -> String {
        self.next += 1;
        self.dialect.placeholder(self.next)
    }
}

fn condition(d: Dialect, bound: &Bound<'_>, placeholders: &mut Placeholders) -> String {
    let column = d.quote(&bound.field.column);
    let compare = |placeholders: &mut Placeholders, op: &str| {
        format!("{column} {op} {}", placeholders.next())
    };
    match bound.operator {
        Operator::Equal => compare(placeholders, "="),
        Operator::NotEqual => compare(placeholders, "<>"),
        Operator::GreaterThan => compare(placeholders, ">"),
        Operator::GreaterThanEqual => compare(placeholders, ">="),
        Operator::LessThan => compare(placeholders, "<"),
        Operator::LessThanEqual => compare(placeholders, "<="),
        Operator::IsNull => format!("{column} IS NULL"),
        Operator::IsNotNull => format!("{column} IS NOT NULL"),
        Operator::Between => {
            let (low, high) = (placeholders.next(), placeholders.next());
            format!("{column} BETWEEN {low} AND {high}")
        }
        Operator::In | Operator::NotIn => {
            let negated = bound.operator == Operator::NotIn;
            match d {
                Dialect::Postgres if negated => {
                    format!("NOT ({column} = ANY({}))", placeholders.next())
                }
                Dialect::Postgres => format!("{column} = ANY({})", placeholders.next()),
                _ if negated => format!("{{not_in:{column}}}"),
                _ => format!("{{in:{column}}}"),
            }
        }
        Operator::Containing | Operator::StartingWith | Operator::EndingWith => {
            if d != Dialect::Sqlite {
                return format!("{column} LIKE {} ESCAPE '!'", placeholders.next());
            }
            match bound.operator {
                Operator::Containing => format!("instr({column}, ?) > 0"),
                Operator::StartingWith => format!("substr({column}, 1, length(?)) = ?"),
                _ => format!("(length(?) = 0 OR substr({column}, -length(?)) = ?)"),
            }
        }
    }
}

fn where_clause(d: Dialect, query: &Query<'_>, placeholders: &mut Placeholders) -> String {
    let groups: Vec<String> = query
        .any_of
        .iter()
        .map(|all| {
            all.iter()
                .map(|bound| condition(d, bound, placeholders))
                .collect::<Vec<_>>()
                .join(" AND ")
        })
        .collect();
    if groups.len() == 1 {
        groups.into_iter().next().unwrap_or_default()
    } else {
        groups
            .iter()
            .map(|group| format!("({group})"))
            .collect::<Vec<_>>()
            .join(" OR ")
    }
}

fn sql(entity: &Entity, query: &Query<'_>, d: Dialect) -> String {
    let mut placeholders = Placeholders {
        dialect: d,
        next: 0,
    };
    let table = d.quote(&entity.table);
    let conditions = where_clause(d, query, &mut placeholders);
    match query.name.action {
        Action::Count => format!("SELECT COUNT(*) FROM {table} WHERE {conditions}"),
        Action::Exists => format!("SELECT 1 FROM {table} WHERE {conditions} LIMIT 1"),
        Action::Delete => format!("DELETE FROM {table} WHERE {conditions}"),
        Action::Find | Action::Get | Action::FindAll => {
            let columns = column_list(d, entity.fields.iter());
            let mut sql = format!("SELECT {columns} FROM {table} WHERE {conditions}");
            let mut order: Vec<String> = query
                .order
                .iter()
                .map(|(field, descending)| {
                    format!(
                        "{}{}",
                        d.quote(&field.column),
                        if *descending { " DESC" } else { "" }
                    )
                })
                .collect();
            // A page of an unordered query would be arbitrary: the key orders it.
            if order.is_empty() && (query.page.is_some() || query.name.limit.is_some_and(|n| n > 1))
            {
                order = entity
                    .key_fields()
                    .map(|field| d.quote(&field.column))
                    .collect();
            }
            if !order.is_empty() {
                sql.push_str(" ORDER BY ");
                sql.push_str(&order.join(", "));
            }
            if let Some(limit) = query.name.limit {
                sql.push_str(&format!(" LIMIT {limit}"));
            } else if query.page.is_some() {
                let (limit, offset) = (placeholders.next(), placeholders.next());
                sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
            }
            sql
        }
    }
}

/// Converts parameters of fields mapped with `domain_with` to the record's column type,
/// before the statement is built (once, outside the retry loop).
fn conversions(entity: &Entity, query: &Query<'_>) -> TokenStream {
    let krate = &entity.krate;
    let name = entity.ident.to_string();
    let name = &name;
    let steps = query.any_of.iter().flatten().flat_map(|bound| {
        let field = bound.field;
        bound.parameters.iter().filter_map(move |(parameter, _)| {
            let path = field.domain_with.as_ref()?;
            let value = value_ident(parameter);
            let (field_name, sensitive) = (&field.name, field.sensitive);
            let error = quote! {
                |error| #krate::__private::domain::field_error(#name, #field_name, #sensitive, error)
            };
            Some(match bound.operator {
                Operator::In | Operator::NotIn => quote_spanned! {path.span()=>
                    let #value = #parameter
                        .iter()
                        .map(|__repo_item| #path::from_domain(__repo_item).map_err(#error))
                        .collect::<::core::result::Result<::std::vec::Vec<_>, _>>()?;
                },
                _ => quote_spanned! {path.span()=>
                    let #value = #path::from_domain(&#parameter).map_err(#error)?;
                },
            })
        })
    });
    quote! { #(#steps)* }
}

fn binds(entity: &Entity, query: &Query<'_>, operation: &str) -> (TokenStream, Vec<TokenStream>) {
    let krate = &entity.krate;
    let ports = quote! { #krate::__private::ports };
    let mut lengths = Vec::new();
    let mut statements = Vec::new();
    for bound in query.any_of.iter().flatten() {
        let field = bound.field;
        let inner = option_inner(&field.ty).unwrap_or(&field.ty);
        for (parameter, ty) in &bound.parameters {
            let value = if field.domain_with.is_some() {
                let value = value_ident(parameter);
                quote! { #value }
            } else {
                quote! { #parameter }
            };
            let kind = match bound.operator {
                Operator::Containing => Some(quote! { Containing }),
                Operator::StartingWith => Some(quote! { StartingWith }),
                Operator::EndingWith => Some(quote! { EndingWith }),
                _ => None,
            };
            statements.push(match (bound.operator, kind) {
                (Operator::In | Operator::NotIn, _) => {
                    lengths
                        .push(quote! { ::core::convert::AsRef::<[#inner]>::as_ref(&#value).len() });
                    quote_spanned! {ty.span()=>
                        #ports::bind_list::<#inner>(
                            &mut __repo_statement,
                            ::core::convert::AsRef::<[#inner]>::as_ref(&#value),
                        );
                    }
                }
                (_, Some(kind)) => quote_spanned! {ty.span()=>
                    #ports::bind_text(
                        &mut __repo_statement,
                        #ports::Match::#kind,
                        #ports::TextParam::text(&#value),
                    );
                },
                _ => quote_spanned! {ty.span()=>
                    #ports::QueryParam::<#inner>::bind_param(&#value, &mut __repo_statement);
                },
            });
        }
    }
    if let Some(page) = query.page {
        statements.push(quote! { #ports::bind_page(&mut __repo_statement, #page); });
    }
    let statement_start = if lengths.is_empty() {
        quote! { self.executor.statement_with_plan(#operation, &__REPO_SQL, &__REPO_PLAN) }
    } else {
        quote! {
            #ports::statement_with_lists(
                &self.executor,
                #operation,
                &__REPO_SQL,
                &__REPO_PLAN,
                &[#(#lengths),*],
            )
        }
    };
    (statement_start, statements)
}

/// The query as data, for the in-memory store: the same conditions, order and limit.
fn plan(entity: &Entity, query: &Query<'_>) -> TokenStream {
    let action = match query.name.action {
        Action::Count => "Count",
        Action::Exists => "Exists",
        Action::Delete => "Delete",
        Action::Find | Action::Get | Action::FindAll => "Select",
    };
    let any_of: Vec<Vec<(&str, &str)>> = query
        .any_of
        .iter()
        .map(|all| {
            all.iter()
                .map(|bound| {
                    let operator = match bound.operator {
                        Operator::Equal => "Equal",
                        Operator::NotEqual => "NotEqual",
                        Operator::IsNull => "IsNull",
                        Operator::IsNotNull => "IsNotNull",
                        Operator::In => "In",
                        Operator::NotIn => "NotIn",
                        Operator::Containing => "Containing",
                        Operator::StartingWith => "StartingWith",
                        Operator::EndingWith => "EndingWith",
                        Operator::GreaterThan => "GreaterThan",
                        Operator::GreaterThanEqual => "GreaterThanEqual",
                        Operator::LessThan => "LessThan",
                        Operator::LessThanEqual => "LessThanEqual",
                        Operator::Between => "Between",
                    };
                    (bound.field.column.as_str(), operator)
                })
                .collect()
        })
        .collect();
    let order: Vec<(&str, bool)> = query
        .order
        .iter()
        .map(|(field, descending)| (field.column.as_str(), *descending))
        .collect();
    let limit = match (query.name.limit, query.page) {
        (Some(limit), _) => PlanLimit::Fixed(limit),
        (None, Some(_)) => PlanLimit::Page,
        (None, None) => PlanLimit::All,
    };
    plan_literal(&entity.krate, action, &any_of, &order, limit)
}

/// The body of a derived query method.
pub(super) fn body(
    entity: &Entity,
    query: &Query<'_>,
    shape: Returns,
    method: &syn::Ident,
) -> TokenStream {
    let krate = &entity.krate;
    let text = DIALECTS.map(|d| sql(entity, query, d));
    let sql = sql_literal(krate, &text);
    let plan = plan(entity, query);
    let conversions = conversions(entity, query);
    let operation = method.to_string();
    let (start, binds) = binds(entity, query, &operation);
    let build = quote! {
        let mut __repo_statement = #start;
        #(#binds)*
    };
    let fetch = match (query.name.action, shape) {
        (Action::Count, _) => Fetch::Count,
        (Action::Exists, _) => Fetch::Exists,
        (Action::Delete, _) => Fetch::Execute,
        (Action::FindAll, _) => Fetch::Rows(Returns::Vec),
        (_, shape) => Fetch::Rows(shape),
    };
    let run = run(entity, fetch, &build);
    quote! {
        const __REPO_SQL: #krate::Sql = #sql;
        const __REPO_PLAN: #krate::__private::Plan = #plan;
        #conversions
        #run
    }
}
