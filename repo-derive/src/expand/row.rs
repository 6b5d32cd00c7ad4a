//! The row mapper: reading an entity from a row by position, and binding its fields in the
//! column order of each statement.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Entity, Field, Scalar};

/// `Ok(User { id: row.get(0, "id")?, ..., skipped: Default::default() })`.
pub(super) fn decode_body(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let columns = entity.fields.iter().enumerate().map(|(index, field)| {
        let (field_ident, ty, column) = (&field.ident, &field.ty, &field.column);
        // Spanned at the type, so an unsupported type is reported at the field.
        let read = quote_spanned! {ty.span()=>
            <__RepoRow as #krate::RowSource>::get::<#ty>(row, #index, #column)?
        };
        quote! { #field_ident: #read, }
    });
    let skipped = skipped_defaults(entity);
    quote! {
        ::core::result::Result::Ok(#ident {
            #(#columns)*
            #skipped
        })
    }
}

fn skipped_defaults(entity: &Entity) -> TokenStream {
    let fields = entity.skipped.iter().map(|skipped| {
        let (ident, ty) = (&skipped.ident, &skipped.ty);
        let default = quote_spanned! {ty.span()=> <#ty as ::core::default::Default>::default() };
        quote! { #ident: #default, }
    });
    quote! { #(#fields)* }
}

fn bind(field: &Field, value: TokenStream) -> TokenStream {
    quote_spanned! {field.ty.span()=> statement.bind(#value); }
}

/// Binds `owner.field` for each field, in order.
pub(super) fn bind_fields_body<'a>(
    fields: impl Iterator<Item = &'a Field>,
    owner: &TokenStream,
) -> TokenStream {
    let binds = fields.map(|field| {
        let ident = &field.ident;
        bind(field, quote! { &#owner.#ident })
    });
    quote! { #(#binds)* }
}

/// Binds each insert column of `news` as one array, in column order.
pub(super) fn bind_columns_body(entity: &Entity) -> TokenStream {
    let binds = entity.insert_fields().map(|field| {
        let ident = &field.ident;
        quote_spanned! {field.ty.span()=>
            statement.bind_array(news.iter().map(|new| &new.#ident).collect());
        }
    });
    quote! { #(#binds)* }
}

/// Binds the key: `id` itself, or each element of the tuple.
pub(super) fn bind_id_body(entity: &Entity) -> TokenStream {
    if entity.key.len() == 1 {
        let field = &entity.fields[entity.key[0]];
        return bind(field, quote! { id });
    }
    let binds = entity.key_fields().enumerate().map(|(i, field)| {
        let index = syn::Index::from(i);
        bind(field, quote! { &id.#index })
    });
    quote! { #(#binds)* }
}

/// Builds the entity from `new` and the generated key, converting the key to its field type.
pub(super) fn from_new_body(entity: &Entity, name: &str) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let Some(generated) = entity.generated() else {
        return quote! {
            let _ = generated;
            ::core::result::Result::Ok(new)
        };
    };
    let key_ident = &generated.ident;
    let key_ty = &generated.ty;
    let key = if generated.scalar == Scalar::I64 {
        quote! { generated }
    } else {
        let message = format!("the generated key does not fit in `{}`", quote!(#key_ty));
        quote! {
            <#key_ty as ::core::convert::TryFrom<i64>>::try_from(generated).map_err(|_| {
                #krate::RepoError::invalid_input(#name, #message)
            })?
        }
    };
    let fields = entity.insert_fields().map(|field| {
        let ident = &field.ident;
        quote! { #ident: new.#ident, }
    });
    let skipped = skipped_defaults(entity);
    quote! {
        ::core::result::Result::Ok(#ident {
            #key_ident: #key,
            #(#fields)*
            #skipped
        })
    }
}
