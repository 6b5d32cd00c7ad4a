//! `#[derive(Repository)]`: generates, for an annotated struct, a repository trait and its SQL
//! implementation, the row mapper and the table definition. Use it through `repo-runtime`,
//! which re-exports it and holds everything the generated code calls.

mod attr;
mod expand;
mod model;
mod names;
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

/// Parse, validate, expand; on error, the errors plus a stub of the generated names.
fn derive(input: &syn::DeriveInput) -> proc_macro2::TokenStream {
    match model::parse(input) {
        Ok(entity) => expand::expand(&entity),
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
