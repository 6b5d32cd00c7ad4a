//! `#[repo(domain = path)]`: the conversions between the record and its domain type, field by
//! field by name, as `DomainMapping` and as `From` (or `TryFrom`, when a field conversion can
//! fail) in both directions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::row::entity_name;
use crate::model::{self, Entity, Field};

/// How the record's value of a field is read from the domain's.
enum Source {
    /// The domain value is borrowed: values are cloned.
    Borrowed,
    /// The domain value is owned: values are moved.
    Owned,
}

/// Whether every field converts infallibly (no `domain_with`, no owned children, whose own
/// mappings may fail).
fn infallible(entity: &Entity) -> bool {
    entity
        .fields
        .iter()
        .all(|field| field.domain_with.is_none())
        && !entity.is_aggregate_root()
}

/// The local an owned collection's domain value is bound to.
fn owned_binding(holder: &syn::Ident) -> syn::Ident {
    format_ident!("__repo_{}", holder.to_string().trim_start_matches("r#"))
}

/// The local a domain field is bound to when the domain value is destructured.
fn binding(field: &Field) -> syn::Ident {
    format_ident!(
        "__repo_{}",
        field.domain_field.to_string().trim_start_matches("r#")
    )
}

/// `let Domain { email: __repo_email, .. } = domain;`, naming every domain field, so that a
/// domain field without a counterpart in the record is a compile error.
fn destructure(entity: &Entity, domain: &syn::Path, value: TokenStream) -> TokenStream {
    let fields = entity
        .fields
        .iter()
        .filter(|field| field.in_domain)
        .map(|field| {
            let (name, local) = (&field.domain_field, binding(field));
            quote! { #name: #local }
        });
    let owned = entity.owned().map(|(_, holder)| {
        let (name, local) = (&holder.ident, owned_binding(&holder.ident));
        quote! { #name: #local }
    });
    quote! { let #domain { #(#fields,)* #(#owned),* } = #value; }
}

/// The record's value of `field` from its domain binding.
fn to_record(entity: &Entity, field: &Field, source: &Source) -> TokenStream {
    let krate = &entity.krate;
    let local = binding(field);
    let ty = &field.ty;
    if !field.in_domain {
        return quote_spanned! {ty.span()=> <#ty as ::core::default::Default>::default() };
    }
    match (&field.domain_with, source) {
        (Some(path), _) => {
            let (name, field_name, sensitive) = (entity_name(entity), &field.name, field.sensitive);
            let value = match source {
                Source::Borrowed => quote!(#local),
                Source::Owned => quote!(&#local),
            };
            quote_spanned! {path.span()=>
                #path::from_domain(#value).map_err(|error| {
                    #krate::__private::domain::field_error(#name, #field_name, #sensitive, error)
                })?
            }
        }
        // Spanned at the record's field: a type mismatch names it.
        (None, Source::Borrowed) => quote_spanned! {ty.span()=>
            <#ty as ::core::clone::Clone>::clone(#local)
        },
        (None, Source::Owned) => quote_spanned! {ty.span()=> #local },
    }
}

/// The domain's value of `field` from the record's `self.field` (or `record.field`).
fn to_domain(entity: &Entity, field: &Field, record: &TokenStream) -> TokenStream {
    let krate = &entity.krate;
    let ident = &field.ident;
    match &field.domain_with {
        Some(path) => {
            let (name, field_name, sensitive) = (entity_name(entity), &field.name, field.sensitive);
            quote_spanned! {path.span()=>
                #path::to_domain(#record.#ident).map_err(|error| {
                    #krate::__private::domain::field_error(#name, #field_name, #sensitive, error)
                })?
            }
        }
        None => quote_spanned! {field.ty.span()=> #record.#ident },
    }
}

fn skipped_defaults(entity: &Entity) -> TokenStream {
    let fields = entity
        .skipped
        .iter()
        .filter(|skipped| !entity.holds_owned(&skipped.ident))
        .map(|skipped| {
            let (ident, ty) = (&skipped.ident, &skipped.ty);
            quote_spanned! {ty.span()=> #ident: <#ty as ::core::default::Default>::default(), }
        });
    quote! { #(#fields)* }
}

/// Each owned collection of the record from its domain binding, child by child through the
/// child's own mapping: `lines: Vec<OrderLine>` from the domain's `lines`.
fn owned_to_record(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let fields = entity.owned().map(|(followed, holder)| {
        let (ident, child) = (&holder.ident, &followed.entity);
        let local = owned_binding(ident);
        quote_spanned! {child.span()=>
            #ident: #local.iter()
                .map(<#child as #krate::DomainMapping>::from_domain)
                .collect::<::core::result::Result<::std::vec::Vec<_>, #krate::RepoError>>()?,
        }
    });
    quote! { #(#fields)* }
}

/// Each owned collection of the domain value from `record`'s, child by child.
fn owned_to_domain(entity: &Entity, record: &TokenStream) -> TokenStream {
    let krate = &entity.krate;
    let fields = entity.owned().map(|(followed, holder)| {
        let (ident, child) = (&holder.ident, &followed.entity);
        quote_spanned! {child.span()=>
            #ident: #record.#ident
                .into_iter()
                .map(<#child as #krate::DomainMapping>::into_domain)
                .collect::<::core::result::Result<::std::vec::Vec<_>, #krate::RepoError>>()?,
        }
    });
    quote! { #(#fields)* }
}

/// `Record { field: <value>, ..., skipped: Default::default() }`.
fn record_literal(entity: &Entity, source: &Source) -> TokenStream {
    let ident = &entity.ident;
    let fields = entity.fields.iter().map(|field| {
        let name = &field.ident;
        let value = to_record(entity, field, source);
        quote! { #name: #value, }
    });
    let skipped = skipped_defaults(entity);
    let owned = owned_to_record(entity);
    quote! { #ident { #(#fields)* #owned #skipped } }
}

/// `Domain { field: <value>, ... }` from `record`.
fn domain_literal(entity: &Entity, domain: &syn::Path, record: &TokenStream) -> TokenStream {
    let fields = entity
        .fields
        .iter()
        .filter(|field| field.in_domain)
        .map(|field| {
            let name = &field.domain_field;
            let value = to_domain(entity, field, record);
            quote! { #name: #value, }
        });
    let owned = owned_to_domain(entity, record);
    quote! { #domain { #(#fields)* #owned } }
}

/// `New{Record} { ... }` from the destructured, owned domain value: every field but the
/// generated key and the policy fields, whose domain values are ignored (the database and the
/// library set them).
fn new_literal(entity: &Entity) -> TokenStream {
    if !entity.has_new_struct() {
        return record_literal(entity, &Source::Owned);
    }
    let new = model::new_ident(&entity.ident);
    let ignored = entity
        .fields
        .iter()
        .filter(|field| field.in_domain && (field.generated || !field.given()))
        .map(binding);
    let fields = entity.new_fields().map(|field| {
        let name = &field.ident;
        let value = to_record(entity, field, &Source::Owned);
        quote! { #name: #value, }
    });
    let owned = owned_to_record(entity);
    quote! {
        {
            #(let _ = #ignored;)*
            #new { #(#fields)* #owned }
        }
    }
}

pub(super) fn domain_impls(entity: &Entity) -> TokenStream {
    let Some(domain) = &entity.domain else {
        return TokenStream::new();
    };
    let krate = &entity.krate;
    let ident = &entity.ident;
    let result = quote! { ::core::result::Result };
    let error = quote! { #krate::RepoError };
    let entity_type = quote! { <#ident as #krate::Entity> };
    let from_borrowed = record_literal(entity, &Source::Borrowed);
    let from_owned = record_literal(entity, &Source::Owned);
    let new = new_literal(entity);
    let destructure_ref = destructure(entity, domain, quote!(domain));
    let destructure_owned = destructure(entity, domain, quote!(domain));
    let record = quote!(self);
    let into_domain = domain_literal(entity, domain, &record);
    let mapping = quote! {
        #[automatically_derived]
        impl #krate::DomainMapping for #ident {
            type Domain = #domain;

            fn into_domain(self) -> #result<#domain, #error> {
                #result::Ok(#into_domain)
            }

            fn from_domain(domain: &#domain) -> #result<Self, #error> {
                #destructure_ref
                #result::Ok(#from_borrowed)
            }

            fn new_from_domain(domain: #domain) -> #result<#entity_type::New, #error> {
                #destructure_owned
                #result::Ok(#new)
            }
        }
    };
    let record_param = quote!(record);
    let conversions = if infallible(entity) {
        // Without `domain_with` nothing can fail: plain `From` both ways, no `?` inside.
        let domain_value = domain_literal(entity, domain, &record_param);
        quote! {
            #[automatically_derived]
            impl ::core::convert::From<#ident> for #domain {
                fn from(record: #ident) -> Self {
                    #domain_value
                }
            }

            #[automatically_derived]
            impl ::core::convert::From<#domain> for #ident {
                fn from(domain: #domain) -> Self {
                    #destructure_owned
                    #from_owned
                }
            }
        }
    } else {
        quote! {
            #[automatically_derived]
            impl ::core::convert::TryFrom<#ident> for #domain {
                type Error = #error;

                fn try_from(record: #ident) -> #result<Self, #error> {
                    <#ident as #krate::DomainMapping>::into_domain(record)
                }
            }

            #[automatically_derived]
            impl ::core::convert::TryFrom<#domain> for #ident {
                type Error = #error;

                fn try_from(domain: #domain) -> #result<Self, #error> {
                    #destructure_owned
                    #result::Ok(#from_owned)
                }
            }
        }
    };
    quote! {
        #mapping
        #conversions
    }
}
