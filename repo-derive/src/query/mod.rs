//! The implementation of a repository port (`#[port]` trait) for an entity's SQL repository:
//! methods named like the repository's own are forwarded to it, the others are derived
//! queries whose SQL is rendered here, per dialect, from the method's name.

mod custom;
pub(crate) mod grammar;
mod related;
mod render;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;

use crate::embed::Collected;
use crate::expand::repository::api;
use crate::model::{self, Entity, Field, Mapping};
use crate::names::closest;
use grammar::{Action, NameError, Operator, QueryName};

/// `{ record } [leaves]... port { trait }`, as the port's description macro hands it over.
pub(crate) struct PortInput {
    collected: Collected,
    port: syn::ItemTrait,
    /// Where the port's description macro wrote `port { ... }`: the context the trait's
    /// tokens, its parameters among them, resolve in.
    site: proc_macro2::Span,
}

impl Parse for PortInput {
    fn parse(stream: ParseStream<'_>) -> syn::Result<Self> {
        let collected: Collected = stream.parse()?;
        let keyword: syn::Ident = stream.parse()?;
        if keyword != "port" {
            return Err(syn::Error::new(keyword.span(), "expected `port { ... }`"));
        }
        let content;
        syn::braced!(content in stream);
        Ok(PortInput {
            collected,
            port: content.parse()?,
            site: keyword.span(),
        })
    }
}

/// The repository methods a port may declare by name, forwarded as they are.
const FORWARDED: &[&str] = &[
    "insert",
    "insert_many",
    "get",
    "find",
    "get_many",
    "list",
    "count",
    "exists",
    "update",
    "delete",
    "upsert",
];

pub(crate) fn implement(input: &PortInput) -> TokenStream {
    resolved_at(implementation(input), input.site)
}

/// `tokens`, each resolving names as if written at `site`, where it keeps its place for
/// errors. The implementation is called back from inside the port's `macro_rules!`, whose
/// hygiene keeps the trait's parameters (and the `self` that `async_trait` renames) from
/// names this macro writes at its own call site: the two must share one context. Which
/// context a macro's call site gets there is not something to rely on.
fn resolved_at(tokens: TokenStream, site: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), resolved_at(group.stream(), site));
                respanned.set_span(group.span().resolved_at(site));
                return proc_macro2::TokenTree::Group(respanned);
            }
            tree.set_span(tree.span().resolved_at(site));
            tree
        })
        .collect()
}

fn implementation(input: &PortInput) -> TokenStream {
    let collected = &input.collected;
    // The derive itself reports an invalid entity; nothing more to say here.
    let Ok(entity) = model::parse(&collected.input, &collected.leaves) else {
        return TokenStream::new();
    };
    let Some(port) = &entity.port else {
        return TokenStream::new();
    };
    let krate = &entity.krate;
    let api = api(&entity);
    let sql_repository = &api.sql_ident;
    let record = &entity.ident;
    let mapping = &api.mapping;
    let repository = quote! { #krate::Repository<#record #mapping> };
    let mut errors = TokenStream::new();
    let mut declared = Vec::new();
    let methods: Vec<TokenStream> = input
        .port
        .items
        .iter()
        .filter_map(|item| match item {
            syn::TraitItem::Fn(method) => Some(method),
            _ => None,
        })
        .map(|method| {
            let signature = &method.sig;
            let name = signature.ident.to_string();
            let custom = method
                .attrs
                .iter()
                .find(|attr| attr.path().is_ident("query"));
            let body = if let Some(attr) = custom {
                attr.parse_args::<syn::LitStr>()
                    .and_then(|sql| custom::body(&entity, signature, &sql))
            } else if FORWARDED.contains(&name.as_str()) {
                forward(signature, &repository)
            } else {
                derived(&entity, signature).map(|(body, plan)| {
                    declared.push(quote! {
                        #krate::DeclaredQuery { method: #name, plan: &#plan }
                    });
                    body
                })
            };
            match body {
                Ok(body) => quote! { #signature { #body } },
                Err(error) => {
                    errors.extend(error.to_compile_error());
                    // A body that type-checks, so the error above is the only one.
                    quote! { #signature { ::core::unreachable!() } }
                }
            }
        })
        .collect();
    quote! {
        #errors
        #[automatically_derived]
        #[#krate::__private::async_trait]
        impl<B: #krate::Backing> #port for #sql_repository<B> {
            #(#methods)*
        }

        #[automatically_derived]
        impl #krate::__private::DerivedQueries for #record {
            const QUERIES: &'static [#krate::DeclaredQuery] = &[#(#declared),*];
        }
    }
}

/// The parameters after `&self`, each a plain identifier.
fn parameters(signature: &syn::Signature) -> syn::Result<Vec<(&syn::Ident, &syn::Type)>> {
    signature
        .inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(typed) => Some(typed),
            syn::FnArg::Receiver(_) => None,
        })
        .map(|typed| match &*typed.pat {
            syn::Pat::Ident(ident) => Ok((&ident.ident, &*typed.ty)),
            other => Err(syn::Error::new(
                other.span(),
                "a port method's parameters are plain names: `email: &Email`",
            )),
        })
        .collect()
}

/// `<Self as Repository<Record>>::name(self, a, b).await`.
fn forward(signature: &syn::Signature, repository: &TokenStream) -> syn::Result<TokenStream> {
    let name = &signature.ident;
    let arguments = parameters(signature)?.into_iter().map(|(ident, _)| ident);
    Ok(quote_spanned! {name.span()=>
        <Self as #repository>::#name(self, #(#arguments),*).await
    })
}

/// The shape of a query method's result, read from its declared return type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Returns {
    Option,
    Vec,
    One,
}

/// `Result<Option<T>, E>` -> `Option`, `Result<Vec<T>, E>` -> `Vec`, else `One`.
fn returns(signature: &syn::Signature) -> Returns {
    let syn::ReturnType::Type(_, ty) = &signature.output else {
        return Returns::One;
    };
    let inner = last_generic(ty);
    match inner.and_then(|ty| last_segment_ident(ty)) {
        Some(ident) if ident == "Option" => Returns::Option,
        Some(ident) if ident == "Vec" => Returns::Vec,
        _ => Returns::One,
    }
}

fn last_segment_ident(ty: &syn::Type) -> Option<&syn::Ident> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|segment| &segment.ident),
        _ => None,
    }
}

/// The first generic argument of the type's last segment: `T` of `Result<T, E>`.
fn last_generic(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(arguments) = &path.path.segments.last()?.arguments
    else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// What a condition compares: a field of the entity, or one of the row a relation reaches.
pub(crate) enum Subject<'a> {
    Field(&'a Field),
    Related {
        relation: &'a model::Relation,
        /// The related entity's field, as the method's name spells it.
        property: String,
    },
}

/// A condition with its subject and parameters.
pub(crate) struct Bound<'a> {
    pub subject: Subject<'a>,
    pub operator: Operator,
    pub parameters: Vec<(&'a syn::Ident, &'a syn::Type)>,
}

impl<'a> Bound<'a> {
    /// The entity's field it compares, unless it compares a related row's.
    pub(crate) fn field(&self) -> Option<&'a Field> {
        match self.subject {
            Subject::Field(field) => Some(field),
            Subject::Related { .. } => None,
        }
    }
}

/// A derived query, resolved against the entity and the method's parameters.
pub(crate) struct Query<'a> {
    pub name: QueryName,
    pub any_of: Vec<Vec<Bound<'a>>>,
    pub order: Vec<(&'a Field, bool)>,
    pub page: Option<&'a syn::Ident>,
}

/// A derived query's body, and its plan as a constant expression (what the index advice
/// reads).
fn derived(entity: &Entity, signature: &syn::Signature) -> syn::Result<(TokenStream, TokenStream)> {
    let method = &signature.ident;
    let properties: Vec<String> = entity
        .fields
        .iter()
        .map(|field| {
            field
                .domain_field
                .to_string()
                .trim_start_matches("r#")
                .to_owned()
        })
        .collect();
    let relations: Vec<String> = entity
        .relations
        .iter()
        .map(|relation| relation.name().unraw().to_string())
        .collect();
    let name = match grammar::parse(&method.to_string(), &properties, &relations) {
        Ok(name) => name,
        Err(NameError::NotAQuery) => {
            return Err(syn::Error::new(
                method.span(),
                format!(
                    "`{method}` is neither a repository method ({}) nor a derived query (`find_by_...`, `count_by_...`, ...)",
                    FORWARDED.join(", ")
                ),
            ));
        }
        Err(NameError::UnknownProperty(unknown)) => {
            let known = properties.iter().chain(&relations).map(String::as_str);
            let suggestion = closest(&unknown, known)
                .map(str::to_owned)
                .or_else(|| closest_path(&unknown, &relations));
            let message = match suggestion.as_deref() {
                Some(close) => format!("`{method}`: no field `{unknown}`; did you mean `{close}`?"),
                None => format!(
                    "`{method}`: no field `{unknown}`; the fields are {}",
                    properties.join(", ")
                ),
            };
            return Err(syn::Error::new(method.span(), message));
        }
        Err(NameError::Malformed(message)) => {
            return Err(syn::Error::new(
                method.span(),
                format!("`{method}`: {message}"),
            ));
        }
    };
    if name.action == grammar::Action::Delete
        && let Some(deleted) = entity.policy_field(crate::model::Policy::DeletedAt)
    {
        return Err(syn::Error::new(
            method.span(),
            format!(
                "`{method}` would remove rows of `{}`, whose deletes are soft (`{}`): take a \
                 filter and call the repository's `delete_where`, which marks them",
                entity.ident, deleted.name
            ),
        ));
    }
    let field_of = |property: &str| {
        entity
            .fields
            .iter()
            .zip(&properties)
            .find(|(_, name)| *name == property)
            .map(|(field, _)| field)
    };
    let mut parameters = parameters(signature)?.into_iter();
    let mut any_of = Vec::new();
    for all in &name.any_of {
        let mut bound = Vec::new();
        for condition in all {
            let subject = match &condition.through {
                Some(through) => {
                    let Some(relation) = entity
                        .relations
                        .iter()
                        .find(|relation| relation.name().unraw() == through.as_str())
                    else {
                        continue;
                    };
                    Subject::Related {
                        relation,
                        property: condition.property.clone(),
                    }
                }
                None => match field_of(&condition.property) {
                    Some(field) => Subject::Field(field),
                    None => continue,
                },
            };
            if let Subject::Field(field) = subject
                && field.encrypted()
            {
                check_encrypted(method, field, condition.operator)?;
            } else if let Subject::Field(field) = subject
                && (field.embed.is_some() || !matches!(field.mapping, Mapping::Value))
            {
                return Err(syn::Error::new(
                    method.span(),
                    format!(
                        "`{method}`: field `{}` is stored as JSON, through `with` or embedded, and cannot be queried by name",
                        condition.property
                    ),
                ));
            }
            let taken: Vec<_> = parameters
                .by_ref()
                .take(condition.operator.arity())
                .collect();
            if taken.len() < condition.operator.arity() {
                return Err(syn::Error::new(
                    method.span(),
                    format!(
                        "`{method}` needs {} parameter(s) for `{}`, one per value it compares",
                        condition.operator.arity(),
                        condition.property
                    ),
                ));
            }
            bound.push(Bound {
                subject,
                operator: condition.operator,
                parameters: taken,
            });
        }
        any_of.push(bound);
    }
    let page = match parameters.next() {
        None => None,
        Some((ident, ty)) if last_segment_ident(ty).is_some_and(|i| i == "Page") => {
            if name.limit.is_some() {
                return Err(syn::Error::new(
                    ty.span(),
                    format!("`{method}` has both `top`/`first` and a page: keep one"),
                ));
            }
            if !matches!(name.action, Action::Find | Action::FindAll) {
                return Err(syn::Error::new(
                    ty.span(),
                    format!("`{method}`: only `find_by` and `find_all_by` take a page"),
                ));
            }
            Some(ident)
        }
        Some((ident, _)) => {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "`{method}` has more parameters than its name compares: `{ident}` is not used"
                ),
            ));
        }
    };
    if let Some((ident, _)) = parameters.next() {
        return Err(syn::Error::new(
            ident.span(),
            format!("`{method}` has more parameters than its name compares: `{ident}` is not used"),
        ));
    }
    let order: Vec<(&Field, bool)> = name
        .order
        .iter()
        .filter_map(|(property, descending)| Some((field_of(property)?, *descending)))
        .collect();
    if let Some((field, _)) = order.iter().find(|(field, _)| field.encrypted()) {
        return Err(syn::Error::new(
            method.span(),
            format!(
                "`{method}`: field `{}` is encrypted, and ciphertext has no order to sort by",
                field.name
            ),
        ));
    }
    let query = Query {
        any_of,
        order,
        page,
        name,
    };
    let shape = returns(signature);
    check_uniqueness(entity, &query, shape, signature)?;
    let through_relations = query
        .any_of
        .iter()
        .flatten()
        .any(|bound| bound.field().is_none());
    // An aggregate root's children go first: its deletes are the repository's.
    let deletes_aggregates = entity.is_aggregate_root() && query.name.action == Action::Delete;
    let body = if through_relations || deletes_aggregates {
        related::body(entity, &query, shape, method)
    } else {
        render::body(entity, &query, shape, method)
    };
    let krate = &entity.krate;
    let plan = render::with_plan(entity, &query, |plan| {
        plan.to_tokens_under(&quote! { #krate::__private })
    });
    Ok((body, plan))
}

/// An encrypted field compares only by equality, through its blind index, or with `NULL`.
fn check_encrypted(method: &syn::Ident, field: &Field, operator: Operator) -> syn::Result<()> {
    let name = &field.name;
    let blind_index = field.blind_index().is_some();
    match operator {
        Operator::IsNull | Operator::IsNotNull => Ok(()),
        Operator::Equal | Operator::NotEqual | Operator::In | Operator::NotIn if blind_index => {
            Ok(())
        }
        Operator::Equal | Operator::NotEqual | Operator::In | Operator::NotIn => {
            Err(syn::Error::new(
                method.span(),
                format!(
                    "`{method}`: field `{name}` is encrypted without a blind index: mark it \
                     `unique` or `index` to look it up by equality"
                ),
            ))
        }
        _ => Err(syn::Error::new(
            method.span(),
            format!(
                "`{method}`: field `{name}` is encrypted: only equality, `in`, `not_in` and \
                 `is_null` compare it (through its blind index), not order or text"
            ),
        )),
    }
}

/// `author_username` for `autor_username`: a misspelt relation before the related property.
fn closest_path(unknown: &str, relations: &[String]) -> Option<String> {
    let words: Vec<&str> = unknown.split('_').collect();
    (1..words.len()).find_map(|split| {
        let relation = closest(
            &words[..split].join("_"),
            relations.iter().map(String::as_str),
        )?;
        Some(format!("{relation}_{}", words[split..].join("_")))
    })
}

/// A `find_by` / `get_by` returning one row must compare a whole key for equality (or say
/// `first`): otherwise it would pick an arbitrary row among several.
fn check_uniqueness(
    entity: &Entity,
    query: &Query<'_>,
    shape: Returns,
    signature: &syn::Signature,
) -> syn::Result<()> {
    let method = &signature.ident;
    let action = query.name.action;
    if action == Action::Find && shape == Returns::One {
        return Err(syn::Error::new(
            signature.output.span(),
            format!(
                "`{method}` returns one row: use `get_by` (an error when absent), or return `Option` or `Vec`"
            ),
        ));
    }
    let single = matches!(action, Action::Find | Action::Get) && shape != Returns::Vec;
    if !single || query.name.limit == Some(1) {
        return Ok(());
    }
    let compared: Vec<usize> = match query.any_of.as_slice() {
        [all] => all
            .iter()
            .filter(|bound| bound.operator == Operator::Equal)
            .filter_map(|bound| {
                let field = bound.field()?;
                entity.fields.iter().position(|f| std::ptr::eq(f, field))
            })
            .collect(),
        _ => Vec::new(),
    };
    let keys = std::iter::once(&entity.key).chain(entity.unique.iter().map(|key| &key.fields));
    if keys
        .into_iter()
        .any(|key| !key.is_empty() && key.iter().all(|i| compared.contains(i)))
    {
        return Ok(());
    }
    let suggestion = method.to_string().replacen(
        if action == Action::Get {
            "get_by"
        } else {
            "find_by"
        },
        "find_all_by",
        1,
    );
    Err(syn::Error::new(
        method.span(),
        format!(
            "`{method}` returns at most one row, but its conditions do not cover a unique key: several rows may match. Use `{suggestion}` returning `Vec`, or `find_first_by_...`"
        ),
    ))
}

/// The identifiers generated code binds a parameter's converted value to.
pub(crate) fn value_ident(parameter: &syn::Ident) -> syn::Ident {
    format_ident!("__repo_value_{}", parameter)
}

/// What a query method does with its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch<'a> {
    /// One `BIGINT`: `u64`.
    Count,
    /// Whether a row came back: `bool`.
    Exists,
    /// The rows affected: `u64`.
    Execute,
    /// Rows of the entity, as the method returns them.
    Rows(Returns),
    /// Rows of a projection type (`#[derive(Projection)]`), read by name: a `#[query]`'s.
    Projections(Returns, &'a syn::Type),
}

/// How the rows of a query hold the entity's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    /// In the table's order: the statement is the derive's.
    InOrder,
    /// By name, in any order and among others: the statement is the user's (`#[query]`).
    ByName,
}

/// Runs the statement `build` makes (reads again after transient failures, on a `Db`) and
/// maps its rows to what the method returns: domain values in domain mode, `NotFound` for a
/// single row that is absent.
fn run(entity: &Entity, fetch: Fetch<'_>, columns: Columns, build: &TokenStream) -> TokenStream {
    let krate = &entity.krate;
    let record = &entity.ident;
    let name = record.to_string();
    let domain = api(entity).domain;
    // What the statement's rows are read as: the record, or a projection.
    let read_as = |method: TokenStream, rows: &dyn quote::ToTokens| {
        quote! {
            self.executor
                .read(|| {
                    #build
                    self.executor.#method::<#rows>(__repo_statement)
                })
                .await
        }
    };
    let read = |method: TokenStream| read_as(method, record);
    let one = |found: TokenStream| {
        quote! {
            #found.and_then(|__repo_row| {
                __repo_row.ok_or(#krate::RepoError::NotFound { entity: #name })
            })
        }
    };
    let to_domain = |rows: TokenStream, many: bool| match (domain, many) {
        (false, _) => rows,
        (true, true) => quote! {
            #rows.and_then(<#krate::AsDomain as #krate::Mapping<#record>>::values)
        },
        (true, false) => {
            quote! { #rows.and_then(#krate::__private::domain::found::<#record, #krate::AsDomain>) }
        }
    };
    match fetch {
        Fetch::Count => read(quote!(fetch_count)),
        Fetch::Exists => read(quote!(fetch_exists)),
        Fetch::Execute => quote! {
            {
                #build
                self.executor
                    .execute::<#record>(__repo_statement)
                    .await
                    .map(|__repo_outcome| __repo_outcome.rows_affected)
            }
        },
        Fetch::Projections(returns, projection) => match returns {
            Returns::Vec => read_as(quote!(fetch_projections_by_name), projection),
            Returns::Option => read_as(quote!(fetch_projection_by_name), projection),
            Returns::One => one(read_as(quote!(fetch_projection_by_name), projection)),
        },
        Fetch::Rows(returns) => {
            let (all, optional) = match columns {
                Columns::InOrder => (quote!(fetch_all), quote!(fetch_optional)),
                Columns::ByName => (quote!(fetch_all_by_name), quote!(fetch_optional_by_name)),
            };
            // An aggregate root comes with its owned children.
            let owned = |rows: TokenStream, many: bool| match (entity.is_aggregate_root(), many) {
                (false, _) => rows,
                (true, true) => quote! {
                    #krate::__private::aggregate::loaded(&self.executor, #rows?).await
                },
                (true, false) => quote! {
                    #krate::__private::aggregate::load_one(&self.executor, #rows?).await
                },
            };
            match returns {
                Returns::Vec => to_domain(owned(read(all), true), true),
                Returns::Option => to_domain(owned(read(optional), false), false),
                Returns::One => one(to_domain(owned(read(optional), false), false)),
            }
        }
    }
}
