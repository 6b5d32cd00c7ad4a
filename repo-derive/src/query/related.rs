//! A derived query that follows a relation (`find_all_by_author_username`): its conditions
//! name fields of another entity, which this derive does not know, so it is a typed filter
//! built at run time (`Article::AUTHOR.has(Author::USERNAME.eq(username))`, an `EXISTS`)
//! through the repository's `find_where` and friends, rendered once per shape. The related
//! entity's fields are the compiler's to check: an unknown one fails at the method's name
//! with the closest name suggested.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use super::grammar::{Action, Operator};
use super::{Bound, Query, Returns, Subject, value_ident};
use crate::expand::repository::api;
use crate::model::{self, Entity, Relation};

/// The body of a derived query method whose conditions follow relations.
pub(super) fn body(
    entity: &Entity,
    query: &Query<'_>,
    shape: Returns,
    method: &syn::Ident,
) -> TokenStream {
    let krate = &entity.krate;
    let record = &entity.ident;
    let name = record.to_string();
    let repository = {
        let mapping = api(entity).mapping;
        quote! { #krate::Repository<#record #mapping> }
    };
    let groups: Vec<TokenStream> = query
        .any_of
        .iter()
        .map(|all| {
            let conditions: Vec<TokenStream> = all
                .iter()
                .map(|bound| condition(entity, bound, method))
                .collect();
            match conditions.as_slice() {
                [one] => one.clone(),
                _ => quote! { #krate::Filter::<#record>::all_of([#(#conditions),*]) },
            }
        })
        .collect();
    let filter = match groups.as_slice() {
        [one] => one.clone(),
        _ => quote! { #krate::Filter::<#record>::any_of([#(#groups),*]) },
    };
    let column = model::column_enum_ident(record);
    let order = query.order.iter().map(|(field, descending)| {
        let variant = format_ident!("{}", model::upper_camel(&field.columns[0].path));
        if *descending {
            quote! { .desc(#column::#variant) }
        } else {
            quote! { .asc(#column::#variant) }
        }
    });
    let limit = query.name.limit.map(|limit| quote! { .limit(#limit) });
    let page = query.page.map(|page| quote! { .page(#page) });
    let options = quote! { #krate::ListOptions::<#column>::new() #(#order)* #limit #page };
    let conversions = super::render::conversions(entity, query);
    let call = match (query.name.action, shape) {
        (Action::Count, _) => quote! { count_where(self, &__repo_filter) },
        (Action::Exists, _) => quote! { exists_where(self, &__repo_filter) },
        (Action::Delete, _) => quote! { delete_where(self, &__repo_filter) },
        (Action::FindAll, _) | (_, Returns::Vec) => {
            quote! { find_where(self, &__repo_filter, #options) }
        }
        (_, Returns::Option | Returns::One) => {
            quote! { first_where(self, &__repo_filter, #options) }
        }
    };
    let found = quote! { <Self as #repository>::#call.await };
    let result = match (query.name.action, shape) {
        (Action::Get, Returns::One) => quote! {
            #found.and_then(|__repo_row| {
                __repo_row.ok_or(#krate::RepoError::NotFound { entity: #name })
            })
        },
        _ => found,
    };
    quote! {
        #conversions
        let __repo_filter = #filter;
        #result
    }
}

/// One condition as a filter: `Article::TITLE.eq(title)`, or through a relation
/// `Article::AUTHOR.has(Author::USERNAME.eq(username))`.
fn condition(entity: &Entity, bound: &Bound<'_>, method: &syn::Ident) -> TokenStream {
    let krate = &entity.krate;
    let record = &entity.ident;
    let values: Vec<TokenStream> = bound
        .parameters
        .iter()
        .map(|(parameter, _)| match bound.field() {
            Some(field) if field.domain_with.is_some() => {
                let value = value_ident(parameter);
                quote! { #value }
            }
            _ => quote! { #parameter },
        })
        .collect();
    match &bound.subject {
        Subject::Field(field) => {
            let constant = format_ident!("{}", field.name.to_uppercase());
            compare(quote! { #record::#constant }, bound.operator, &values)
        }
        Subject::Related { relation, property } => {
            let target = target(krate, entity, relation);
            // Spanned at the method's name: an unknown property of the related entity is
            // reported there, with the compiler's closest name.
            let constant = format_ident!("{}", property.to_uppercase(), span = method.span());
            let field = quote_spanned! {method.span()=> <#target>::#constant };
            let compared = compare(field, bound.operator, &values);
            let name = format_ident!("{}", relation.name().unraw().to_string().to_uppercase());
            quote! { #record::#name.has(#compared) }
        }
    }
}

/// The entity a relation reaches.
fn target(krate: &syn::Path, entity: &Entity, relation: &Relation) -> TokenStream {
    match relation {
        Relation::BelongsTo { field, .. } => {
            let target = entity.fields[*field]
                .references
                .as_ref()
                .map(|reference| &reference.entity);
            quote! { #target }
        }
        Relation::HasMany(followed)
        | Relation::HasOne(followed)
        | Relation::Owns { followed, .. } => {
            let other = &followed.entity;
            quote! { #other }
        }
        Relation::ManyToMany { followed, to } => {
            let link = &followed.entity;
            let to = format_ident!("{}", to.unraw().to_string().to_uppercase());
            quote! { <#link as #krate::ForeignKeyField<{ #link::#to.key() }>>::Target }
        }
    }
}

/// `field.eq(value)`, `field.between(low, high)`, `field.is_null()`, ...
fn compare(field: TokenStream, operator: Operator, values: &[TokenStream]) -> TokenStream {
    let method = match operator {
        Operator::Equal => quote!(eq),
        Operator::NotEqual => quote!(ne),
        Operator::IsNull => quote!(is_null),
        Operator::IsNotNull => quote!(is_not_null),
        Operator::In => quote!(is_in),
        Operator::NotIn => quote!(not_in),
        Operator::Containing => quote!(contains),
        Operator::StartingWith => quote!(starts_with),
        Operator::EndingWith => quote!(ends_with),
        Operator::GreaterThan => quote!(gt),
        Operator::GreaterThanEqual => quote!(ge),
        Operator::LessThan => quote!(lt),
        Operator::LessThanEqual => quote!(le),
        Operator::Between => quote!(between),
    };
    quote! { #field.#method(#(#values),*) }
}
