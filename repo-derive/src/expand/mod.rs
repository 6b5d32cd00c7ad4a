//! Code generation from the validated model. Nothing here fails: every check is in `model.rs`.

mod domain;
mod entity;
pub(crate) mod relation;
pub(crate) mod repository;
pub(crate) mod row;
mod schema;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{self, Entity};
use crate::sql::PerDialect;

/// Everything `#[derive(Repository)]` emits for a valid entity.
pub(crate) fn expand(entity: &Entity) -> TokenStream {
    let declarations = [
        entity::new_struct(entity),
        entity::patch_struct(entity),
        entity::column_enum(entity),
        repository::repository_trait(entity),
        repository::access_traits(entity),
        repository::sql_repository_struct(entity),
    ];
    let impls = [
        entity::entity_impl(entity),
        entity::column_impl(entity),
        repository::constructors(entity),
        repository::repository_impl(entity),
        repository::faulty_impl(entity),
        repository::access_impls(entity),
        domain::domain_impls(entity),
        entity::debug_impls(entity),
        relation::foreign_key_impls(entity),
        relation::relation_constants(entity),
    ];
    quote! {
        #(#declarations)*
        const _: () = {
            #(#impls)*
        };
    }
}

/// What is emitted beside the errors of an invalid entity: the names the user refers to, so
/// that they see the derive's errors and not a cascade of unresolved names.
pub(crate) fn stub(input: &syn::DeriveInput, has_generated: bool) -> TokenStream {
    let vis = &input.vis;
    let repository = model::repository_trait_ident(&input.ident);
    let reader = model::reader_trait_ident(&input.ident);
    let writer = model::writer_trait_ident(&input.ident);
    let sql_repository = model::sql_repository_ident(&input.ident);
    let memory_repository = model::memory_repository_ident(&input.ident);
    let column = model::column_enum_ident(&input.ident);
    let patch = model::patch_ident(&input.ident);
    let new = has_generated.then(|| {
        let new = model::new_ident(&input.ident);
        quote! { #vis struct #new {} }
    });
    quote! {
        #vis trait #repository {}
        #vis trait #reader {}
        #vis trait #writer {}
        #vis struct #sql_repository {}
        #vis struct #memory_repository {}
        #vis enum #column {}
        #vis struct #patch {}
        #new
    }
}

/// `Sql { sqlite: "...", postgres: "...", mysql: "..." }`.
pub(crate) fn sql_literal(krate: &syn::Path, text: &PerDialect) -> TokenStream {
    let [sqlite, postgres, mysql] = text;
    quote! {
        #krate::Sql {
            sqlite: #sqlite,
            postgres: #postgres,
            mysql: #mysql,
        }
    }
}

/// `Some("text")` or `None`, as generated code writes an `Option<&'static str>`.
pub(crate) fn optional_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(value) => quote! { ::core::option::Option::Some(#value) },
        None => quote! { ::core::option::Option::None },
    }
}
