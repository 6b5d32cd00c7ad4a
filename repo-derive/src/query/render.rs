//! A derived query as SQL per dialect and as the body that binds its parameters and maps its
//! rows. `IN` lists are one array on PostgreSQL (`= ANY($n)`) and a marker elsewhere, which
//! the runtime expands to the list's placeholders; text matches are `LIKE ... ESCAPE '!'` on
//! the servers and `instr` / `substr` on SQLite, whose `LIKE` ignores case.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use repo_sql::{Plan, PlanAction, PlanCondition, PlanLimit};

use super::grammar::{Action, Operator};
use super::{Columns, Fetch, Query, Returns, run, value_ident};
use crate::expand::sql_literal;
use crate::model::{Entity, option_inner};
use crate::sql::Statements;

/// The query as a plan: its conditions, order and limit. The SQL of every dialect is rendered
/// from it, and the in-memory store evaluates it: one description of the query.
pub(super) fn with_plan<R>(
    entity: &Entity,
    query: &Query<'_>,
    use_plan: impl FnOnce(&Plan<'_>) -> R,
) -> R {
    let action = match query.name.action {
        Action::Count => PlanAction::Count,
        Action::Exists => PlanAction::Exists,
        Action::Delete => PlanAction::Delete,
        Action::Find | Action::Get | Action::FindAll => PlanAction::Select,
    };
    let groups: Vec<Vec<PlanCondition<'_>>> = query
        .any_of
        .iter()
        .map(|all| {
            all.iter()
                .filter_map(|bound| {
                    let field = bound.field()?;
                    let column = match bound.operator {
                        Operator::IsNull | Operator::IsNotNull => field.column.as_str(),
                        _ => field.lookup_column(),
                    };
                    Some(PlanCondition {
                        column,
                        operator: bound.operator,
                    })
                })
                .collect()
        })
        .collect();
    let groups = crate::sql::live_groups(entity, groups);
    let any_of: Vec<&[PlanCondition<'_>]> = groups.iter().map(Vec::as_slice).collect();
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
    use_plan(&Plan {
        action,
        any_of: &any_of,
        order: &order,
        limit,
        scope: crate::sql::scope(entity),
    })
}

/// Converts parameters of fields mapped with `domain_with` to the record's column type,
/// before the statement is built (once, outside the retry loop).
pub(super) fn conversions(entity: &Entity, query: &Query<'_>) -> TokenStream {
    let krate = &entity.krate;
    let name = entity.ident.to_string();
    let name = &name;
    let steps = query.any_of.iter().flatten().flat_map(|bound| {
        let field = bound.field();
        bound.parameters.iter().filter_map(move |(parameter, _)| {
            let field = field?;
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
    let record = &entity.ident;
    let ports = quote! { #krate::__private::ports };
    let mut lengths = Vec::new();
    let mut statements = Vec::new();
    for bound in query.any_of.iter().flatten() {
        let Some(field) = bound.field() else {
            continue;
        };
        let inner = option_inner(&field.ty).unwrap_or(&field.ty);
        for (parameter, ty) in &bound.parameters {
            let value = if field.domain_with.is_some() {
                let value = value_ident(parameter);
                quote! { #value }
            } else {
                quote! { #parameter }
            };
            let text_match = bound.operator.matches_text().then(|| {
                bound
                    .operator
                    .to_tokens_under(&quote! { #krate::__private })
            });
            if field.encrypted() {
                let encrypted = crate::expand::row::encrypted_column(entity, field);
                let encryption = quote! { #krate::__private::encryption };
                statements.push(match bound.operator {
                    Operator::In | Operator::NotIn => {
                        lengths.push(
                            quote! { ::core::convert::AsRef::<[#inner]>::as_ref(&#value).len() },
                        );
                        quote_spanned! {ty.span()=>
                            #encryption::bind_lookup_list::<#inner>(
                                ::core::convert::AsRef::<[#inner]>::as_ref(&#value),
                                &mut __repo_statement,
                                #encrypted,
                            );
                        }
                    }
                    _ => quote_spanned! {ty.span()=>
                        #encryption::bind_lookup_param::<#inner, _>(
                            &#value,
                            &mut __repo_statement,
                            #encrypted,
                        );
                    },
                });
                continue;
            }
            statements.push(match (bound.operator, text_match) {
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
                (_, Some(operator)) => quote_spanned! {ty.span()=>
                    #ports::bind_text(
                        &mut __repo_statement,
                        #operator,
                        #ports::TextParam::text(&#value),
                    );
                },
                _ => quote_spanned! {ty.span()=>
                    #ports::QueryParam::<#inner>::bind_param(&#value, &mut __repo_statement);
                },
            });
        }
    }
    // The tenant follows the conditions' values, before a page's.
    let scoped = crate::sql::scope(entity).is_some();
    if scoped {
        statements.push(quote! { #ports::bind_scope::<#record>(&mut __repo_statement); });
    }
    if let Some(page) = query.page {
        statements.push(quote! { #ports::bind_page(&mut __repo_statement, #page); });
    }
    let statement_start = if lengths.is_empty() && !scoped {
        quote! { self.executor.statement_with_plan(#operation, &__REPO_SQL, __REPO_PLAN) }
    } else {
        quote! {
            #ports::statement_with_lists::<#record>(
                &self.executor,
                #operation,
                &__REPO_SQL,
                __REPO_PLAN,
                &[#(#lengths),*],
            )
        }
    };
    (statement_start, statements)
}

/// The body of a derived query method.
pub(super) fn body(
    entity: &Entity,
    query: &Query<'_>,
    shape: Returns,
    method: &syn::Ident,
) -> TokenStream {
    let krate = &entity.krate;
    let record = &entity.ident;
    let text = with_plan(entity, query, |plan| Statements::new(entity).plan(plan));
    let sql = sql_literal(krate, &text);
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
    let run = run(entity, fetch, Columns::InOrder, &build);
    quote! {
        const __REPO_SQL: #krate::Sql = #sql;
        const __REPO_PLAN: &#krate::__private::Plan = #krate::__private::ports::declared_plan(
            <#record as #krate::__private::DerivedQueries>::QUERIES,
            #operation,
        );
        #conversions
        #run
    }
}
