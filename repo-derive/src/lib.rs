//! `#[derive(Repository)]`: generates, for an annotated struct, a repository trait and its SQL
//! implementation, the row mapper and the table definition. Use it through `repo-runtime`,
//! which re-exports it and holds everything the generated code calls.

mod attr;
mod embed;
mod expand;
mod model;
mod names;
mod port;
mod projection;
mod query;
mod sql;
#[cfg(test)]
mod tests;
mod types;
mod value_types;

use proc_macro::TokenStream;

/// Generates the persistence layer of an entity struct. See the `repo-runtime` crate for the
/// attributes and what is generated.
#[proc_macro_derive(Repository, attributes(repo))]
pub fn derive_repository(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive(&input).into()
}

/// A read-only row type: some columns of an entity (`#[repo(entity = Article)]`), each field
/// named as the entity's (or `#[repo(field = name)]`), or aggregates of its rows grouped by
/// those columns: `#[repo(count)]`, `#[repo(sum = field)]`, `avg`, `min`, `max`. No table,
/// key or repository of its own; read with `RepositoryExt::project`.
#[proc_macro_derive(Projection, attributes(repo))]
pub fn derive_projection(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    projection::derive(&input).into()
}

/// Stores an enum of unit variants as text: `#[db_enum(rename_all = "...")]` on the enum
/// (default `snake_case`), `#[db_enum(rename = "...")]` on a variant. The table gets a `CHECK`
/// constraint listing the values; an unknown value read back is `RepoError::Decode`.
#[proc_macro_derive(DbEnum, attributes(db_enum))]
pub fn derive_db_enum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    value_types::derive_db_enum(&input).into()
}

/// Stores a newtype (a struct with one field) exactly as its field, transparently.
#[proc_macro_derive(DbValue, attributes(repo))]
pub fn derive_db_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    value_types::derive_db_value(&input).into()
}

/// Stores a value object as several columns of each entity that holds it in a
/// `#[repo(embed)]` field, prefixed with the field's name. Its fields take `column`, `json`,
/// `with`, `sensitive`, `skip` and `embed` (nesting); it has no key or table of its own.
#[proc_macro_derive(Embeddable, attributes(repo))]
pub fn derive_embeddable(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match embed::start(&input, model::Kind::Embeddable) {
        Some(step) => step.into(),
        None => embed::expand_embeddable(&input, &[]).into(),
    }
}

/// The entity derive, resumed once its embeddables have reported their columns.
#[doc(hidden)]
#[proc_macro]
pub fn __repository_with_embeds(input: TokenStream) -> TokenStream {
    let collected = syn::parse_macro_input!(input as embed::Collected);
    match embed::continue_with(&collected, model::Kind::Entity) {
        Some(step) => step.into(),
        None => expand_entity(&collected.input, &collected.leaves).into(),
    }
}

/// The embeddable derive, resumed once its nested embeddables have reported their columns.
#[doc(hidden)]
#[proc_macro]
pub fn __embeddable_with_embeds(input: TokenStream) -> TokenStream {
    let collected = syn::parse_macro_input!(input as embed::Collected);
    match embed::continue_with(&collected, model::Kind::Embeddable) {
        Some(step) => step.into(),
        None => embed::expand_embeddable(&collected.input, &collected.leaves).into(),
    }
}

/// Marks a repository trait declared in the domain (a *port*): makes it object-safe and lets
/// `#[derive(Repository)]` with `#[repo(port = path::to::Trait)]` implement it, in any crate.
/// Its methods are `async fn`s taking `&self`, without bodies: repository methods by name
/// (`insert`, `get`, `find`, `update`, `delete`, `upsert`, ...) and derived queries
/// (`find_by_email`, `count_by_status`, `find_top_10_by_status_order_by_created_at_desc`).
#[proc_macro_attribute]
pub fn port(args: TokenStream, input: TokenStream) -> TokenStream {
    port::port(args.into(), input.into(), syn::parse_quote!(::repo_core)).into()
}

/// `#[port]` as `repo-runtime` re-exports it: the same attribute, naming `::repo_runtime` so that
/// a crate depending on the runtime alone needs no `crate = ...` argument.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn __runtime_port(args: TokenStream, input: TokenStream) -> TokenStream {
    port::port(args.into(), input.into(), syn::parse_quote!(::repo_runtime)).into()
}

/// The implementation of a port, called back by the port's description macro.
#[doc(hidden)]
#[proc_macro]
pub fn __implement_port(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as query::PortInput);
    query::implement(&input).into()
}

/// Expands directly, or first collects the columns of embedded fields.
fn derive(input: &syn::DeriveInput) -> proc_macro2::TokenStream {
    match embed::start(input, model::Kind::Entity) {
        Some(step) => step,
        None => expand_entity(input, &[]),
    }
}

/// Parse, validate, expand; on error, the errors plus a stub of the generated names.
fn expand_entity(
    input: &syn::DeriveInput,
    embeds: &[Vec<model::LeafDef>],
) -> proc_macro2::TokenStream {
    match model::parse(input, embeds) {
        Ok(entity) => {
            let mut tokens = expand::expand(&entity);
            if let Some(port) = &entity.port {
                let krate = &entity.krate;
                let context = embed::Collected::to_tokens(input, embeds);
                tokens.extend(quote::quote! {
                    #port! { #krate::__private::implement_port { #context } }
                });
            }
            tokens
        }
        Err(errors) => {
            let mut tokens = errors.write_errors();
            tokens.extend(expand::stub(input, mentions_generated(input)));
            tokens
        }
    }
}

/// Whether any field asks for `generated`, so the stub declares `New{Entity}` too.
fn mentions_generated(input: &syn::DeriveInput) -> bool {
    let syn::Data::Struct(data) = &input.data else {
        return false;
    };
    data.fields
        .iter()
        .flat_map(|field| &field.attrs)
        .any(|attr| {
            attr.path().is_ident("repo")
                && attr
                    .parse_args_with(
                        syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                    )
                    .is_ok_and(|metas| metas.iter().any(|meta| meta.path().is_ident("generated")))
        })
}
