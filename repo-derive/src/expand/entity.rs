//! `impl Entity`, the insert input `New{Entity}` and the column enum `{Entity}Column`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{row, schema, sql_literal};
use crate::model::{self, Entity, Policy};
use crate::sql::Statements;

/// `New{Entity}`: the entity without its generated key and its policy fields. Only when it
/// has either.
pub(super) fn new_struct(entity: &Entity) -> TokenStream {
    if !entity.has_new_struct() {
        return TokenStream::new();
    }
    let vis = &entity.vis;
    let ident = &entity.ident;
    let new = model::new_ident(ident);
    let mut left_out = Vec::new();
    if let Some(generated) = entity.generated() {
        left_out.push(format!("`{}`, which the database assigns", generated.name));
    }
    let kept: Vec<String> = entity
        .fields
        .iter()
        .filter(|field| !field.given())
        .map(|field| format!("`{}`", field.name))
        .collect();
    if !kept.is_empty() {
        left_out.push(format!("{}, which the library sets", kept.join(", ")));
    }
    let doc = format!(
        " The fields of a [`{ident}`] to insert: all but {}.",
        left_out.join(", and ")
    );
    let fields = entity.new_fields().map(|field| {
        let (docs, vis, ident, ty) = (&field.docs, &field.vis, &field.ident, &field.ty);
        quote! { #(#docs)* #vis #ident: #ty, }
    });
    // An aggregate root's new value holds its owned children, inserted with it.
    let owned = entity.owned().map(|(followed, holder)| {
        let (ident, ty) = (&holder.ident, &holder.ty);
        let doc = format!(" The owned `{}`, inserted with the row.", followed.name);
        quote! { #[doc = #doc] #vis #ident: #ty, }
    });
    // With a sensitive field, `Debug` is written by `debug_impls`, redacting it.
    let debug = (!entity.has_sensitive()).then(|| quote! { ::core::fmt::Debug, });
    quote! {
        #[doc = #doc]
        #[derive(#debug ::core::clone::Clone, ::core::cmp::PartialEq)]
        #vis struct #new {
            #(#fields)*
            #(#owned)*
        }
    }
}

/// `{Entity}Patch`: each field outside the key as an `Option`, `None` to leave it as it is.
pub(super) fn patch_struct(entity: &Entity) -> TokenStream {
    let vis = &entity.vis;
    let ident = &entity.ident;
    let patch = model::patch_ident(ident);
    let doc = format!(
        " The fields of a [`{ident}`] to change: each `Some` is written, each `None` left as \
         it is (a nullable field takes `Some(None)` to become `NULL`). Start from \
         `{patch}::default()`."
    );
    let fields = entity.patch_fields().map(|field| {
        let (docs, vis, ident, ty) = (&field.docs, &field.vis, &field.ident, &field.ty);
        quote! { #(#docs)* #vis #ident: ::core::option::Option<#ty>, }
    });
    // A versioned entity's patch may name the version it was read at.
    let expected_version = entity.policy_field(model::Policy::Version).map(|field| {
        let ty = &field.ty;
        let doc = format!(
            " The `{}` the row must be at for the patch to apply (`RepoError::StaleVersion` \
             otherwise); `None` writes whatever the row's version. The version moves on either way.",
            field.name
        );
        quote! {
            #[doc = #doc]
            #vis expected_version: ::core::option::Option<#ty>,
        }
    });
    let mut applied = entity
        .patch_fields()
        .map(|field| {
            let ident = &field.ident;
            quote! {
                if let ::core::option::Option::Some(value) = self.#ident {
                    record.#ident = value;
                }
            }
        })
        .peekable();
    let applied = match applied.peek() {
        Some(_) => quote! { #(#applied)* },
        None => quote! { let _ = record; },
    };
    let mut named: Vec<(syn::Ident, String)> = entity
        .patch_fields()
        .map(|field| (field.ident.clone(), field.name.clone()))
        .collect();
    if expected_version.is_some() {
        named.push((
            format_ident!("expected_version"),
            "expected_version".to_owned(),
        ));
    }
    let given: Vec<TokenStream> = named
        .iter()
        .map(|(ident, name)| {
            quote! {
                if self.#ident.is_some() {
                    given.entry(&#name);
                }
            }
        })
        .collect();
    let debug = if given.is_empty() {
        quote! { f.debug_set().finish() }
    } else {
        quote! {
            let mut given = f.debug_set();
            #(#given)*
            given.finish()
        }
    };
    quote! {
        #[doc = #doc]
        #[derive(::core::default::Default)]
        #vis struct #patch {
            #(#fields)*
            #expected_version
        }

        /// The fields the patch gives, by name: never their values, which may be sensitive.
        #[automatically_derived]
        impl ::core::fmt::Debug for #patch {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #debug
            }
        }

        #[automatically_derived]
        impl #patch {
            /// Writes the fields this patch gives into `record`, as the repository's `patch`
            /// writes them into the stored row (for a hand-written repository).
            #[inline]
            #vis fn apply_to(self, record: &mut #ident) {
                #applied
            }
        }
    }
}

/// With a `sensitive` field: `Debug` for the entity and `New{Entity}` that prints
/// `<redacted>` in its place. Without one the user derives `Debug` as usual.
pub(super) fn debug_impls(entity: &Entity) -> TokenStream {
    if !entity.has_sensitive() {
        return TokenStream::new();
    }
    let debug = |ty: &syn::Ident, fields: Vec<&model::Field>, skipped: bool| {
        let name = ty.to_string().trim_start_matches("r#").to_owned();
        let entries = fields.into_iter().map(|field| {
            let (ident, name) = (&field.ident, &field.name);
            if field.sensitive {
                quote! { .field(#name, &::core::format_args!("<redacted>")) }
            } else {
                quote! { .field(#name, &self.#ident) }
            }
        });
        let skipped = entity.skipped.iter().filter(|_| skipped).map(|field| {
            let ident = &field.ident;
            let name = ident.to_string().trim_start_matches("r#").to_owned();
            quote! { .field(#name, &self.#ident) }
        });
        quote! {
            #[automatically_derived]
            impl ::core::fmt::Debug for #ty {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#name)
                        #(#entries)*
                        #(#skipped)*
                        .finish()
                }
            }
        }
    };
    let entity_debug = debug(&entity.ident, entity.fields.iter().collect(), true);
    let new_debug = entity.has_new_struct().then(|| {
        debug(
            &model::new_ident(&entity.ident),
            entity.new_fields().collect(),
            false,
        )
    });
    quote! {
        #entity_debug
        #new_debug
    }
}

/// `bind_encrypted`, for an entity with encrypted fields: their columns as the record holds
/// them, encrypted afresh (what moving rows to the newest key writes).
fn bind_encrypted_method(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    if entity.encrypted_fields().next().is_none() {
        return TokenStream::new();
    }
    let binds = row::bind_fields_body(
        entity,
        entity.encrypted_fields(),
        &quote!(self),
        row::Stamping::Held,
    );
    quote! {
        #[inline]
        fn bind_encrypted(&self, statement: &mut #krate::Statement) {
            #binds
        }
    }
}

/// `{Entity}Column`: one variant per column, for ordering.
pub(super) fn column_enum(entity: &Entity) -> TokenStream {
    let vis = &entity.vis;
    let ident = model::column_enum_ident(&entity.ident);
    let doc = format!(
        " The columns of [`{}`], for ordering a listing.",
        entity.ident
    );
    let variants = entity.orderable_columns().map(|column| {
        let variant = format_ident!("{}", model::upper_camel(&column.path));
        let doc = format!(" The `{}` column (field `{}`).", column.name, column.field);
        quote! { #[doc = #doc] #variant, }
    });
    // The variants are the user's column names, which may share a suffix (`org_id`, `user_id`).
    quote! {
        #[doc = #doc]
        #[derive(
            ::core::fmt::Debug,
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        )]
        #[allow(clippy::enum_variant_names)]
        #vis enum #ident {
            #(#variants)*
        }
    }
}

pub(super) fn column_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = model::column_enum_ident(&entity.ident);
    let arms = entity.orderable_columns().map(|column| {
        let variant = format_ident!("{}", model::upper_camel(&column.path));
        let name = &column.name;
        quote! { #ident::#variant => #name, }
    });
    quote! {
        #[automatically_derived]
        impl #krate::ColumnName for #ident {
            #[inline]
            fn name(self) -> &'static str {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// The type of `Entity::Id`: the key field's type, or a tuple of the key fields.
pub(super) fn id_type(entity: &Entity) -> TokenStream {
    let types: Vec<&syn::Type> = entity.key_fields().map(|field| &field.ty).collect();
    match types.as_slice() {
        [single] => quote! { #single },
        many => quote! { ( #(#many),* ) },
    }
}

/// The type `insert` takes.
pub(super) fn new_type(entity: &Entity) -> TokenStream {
    if entity.has_new_struct() {
        let new = model::new_ident(&entity.ident);
        quote! { #new }
    } else {
        let ident = &entity.ident;
        quote! { #ident }
    }
}

pub(super) fn entity_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let name = ident.to_string().trim_start_matches("r#").to_owned();
    let id_type = id_type(entity);
    let new_type = new_type(entity);
    let column = model::column_enum_ident(ident);
    let patch = model::patch_ident(ident);
    let table = schema::table_definition(entity);
    let statements = Statements::new(entity);
    let sql = |text| sql_literal(krate, &text);
    let (select_by_id, exists_by_id, count) = (
        sql(statements.select_by_id()),
        sql(statements.exists_by_id()),
        sql(statements.count()),
    );
    let (insert, insert_all, update, upsert, delete_by_id) = (
        sql(statements.insert()),
        sql(statements.insert_all()),
        sql(statements.update()),
        sql(statements.upsert()),
        sql(statements.delete_by_id()),
    );
    let has_generated_key = entity.generated().is_some();
    let binds_arrays = !entity.has_embedded();
    let id_value = {
        let parts = entity.key_fields().map(|field| {
            let ident = &field.ident;
            quote! { ::core::clone::Clone::clone(&self.#ident) }
        });
        if entity.key.len() == 1 {
            quote! { #(#parts)* }
        } else {
            quote! { ( #(#parts),* ) }
        }
    };
    let decode = row::decode_body(entity);
    let bind_id = row::bind_id_body(entity);
    let bind_new = row::bind_fields_body(
        entity,
        entity.insert_fields(),
        &quote!(new),
        row::Stamping::NewRow,
    );
    let bind_new_columns = row::bind_columns_body(entity);
    let bind_update = row::bind_fields_body(
        entity,
        entity
            .non_key_fields()
            .filter(|field| field.written_by_update())
            .chain(entity.key_fields())
            // The tenant the row must belong to: after the key, before the version.
            .chain(entity.policy_field(Policy::Tenant)),
        &quote!(self),
        row::Stamping::StoredRow,
    );
    let bind_all = row::bind_fields_body(
        entity,
        entity.fields.iter(),
        &quote!(self),
        row::Stamping::Held,
    );
    let policy_methods = row::policy_methods(entity);
    let bind_encrypted = bind_encrypted_method(entity);
    let cache_spec = cache_spec(entity);
    // A key's policy column (a tenant) is bound from the stamp.
    let stamped_key = entity
        .unique
        .iter()
        .map(|key| key.fields.as_slice())
        .chain(
            entity
                .generated()
                .is_none()
                .then_some(entity.key.as_slice()),
        )
        .flatten()
        .any(|&index| entity.fields[index].policy().is_some());
    let key_stamp = if stamped_key {
        quote!(stamp)
    } else {
        quote!(_stamp)
    };
    // The stamp is read only by an entity with policy fields.
    let stamp = if entity.has_policies() {
        quote!(stamp)
    } else {
        quote!(_stamp)
    };
    let from_new = row::from_new_body(entity, &name);
    let into_new = row::into_new_body(entity);
    let owning = super::relation::owning_impl(entity);
    let (patch_columns, bind_patch) = row::patch_bodies(entity);
    let bind_new_key = row::bind_new_key_body(entity);
    let field_checks = row::field_checks(entity);
    let table_name = &entity.table;
    let key_column_names = entity.key_fields().map(|field| &field.column);
    // The methods are `#[inline]` so that the user's crate compiles each only if an operation
    // it calls uses it (a batch's column arrays, say), not for every entity regardless.
    quote! {
        #field_checks

        #[automatically_derived]
        impl #krate::Entity for #ident {
            type Id = #id_type;
            type New = #new_type;
            type Column = #column;
            type Patch = #patch;

            const NAME: &'static str = #name;
            const TABLE_NAME: &'static str = #table_name;
            const KEY_COLUMNS: &'static [&'static str] = &[#(#key_column_names),*];
            const TABLE: &'static #krate::Table = &#table;
            const SQL: &'static #krate::__private::EntitySql = &#krate::__private::EntitySql {
                select_by_id: #select_by_id,
                exists_by_id: #exists_by_id,
                count: #count,
                insert: #insert,
                has_generated_key: #has_generated_key,
                binds_arrays: #binds_arrays,
                insert_all: #insert_all,
                update: #update,
                upsert: #upsert,
                delete_by_id: #delete_by_id,
            };

            #[inline]
            fn id(&self) -> Self::Id {
                #id_value
            }

            fn decode<__RepoRow: #krate::RowSource>(
                row: &__RepoRow,
            ) -> ::core::result::Result<Self, #krate::RepoError> {
                #decode
            }

            #[inline]
            fn bind_id(id: &Self::Id, statement: &mut #krate::Statement) {
                #bind_id
            }

            #[inline]
            fn bind_new(
                new: &Self::New,
                #stamp: &#krate::__private::Stamp,
                statement: &mut #krate::Statement,
            ) {
                #bind_new
            }

            #[inline]
            fn bind_new_columns(
                news: &[Self::New],
                #stamp: &#krate::__private::Stamp,
                statement: &mut #krate::Statement,
            ) {
                #bind_new_columns
            }

            #[inline]
            fn bind_update(
                &self,
                #stamp: &#krate::__private::Stamp,
                statement: &mut #krate::Statement,
            ) {
                #bind_update
            }

            #[inline]
            fn bind_all(&self, statement: &mut #krate::Statement) {
                #bind_all
            }

            #bind_encrypted

            #[inline]
            fn bind_new_key(
                new: &Self::New,
                key: ::core::option::Option<usize>,
                #key_stamp: &#krate::__private::Stamp,
                statement: &mut #krate::Statement,
            ) {
                #bind_new_key
            }

            #[inline]
            fn patch_columns(
                patch: &Self::Patch,
                columns: &mut ::std::vec::Vec<&'static str>,
            ) {
                #patch_columns
            }

            #[inline]
            fn bind_patch(patch: &Self::Patch, statement: &mut #krate::Statement) {
                #bind_patch
            }

            #[inline]
            fn from_new(
                new: Self::New,
                generated: i64,
                #stamp: &#krate::__private::Stamp,
            ) -> ::core::result::Result<Self, #krate::RepoError> {
                #from_new
            }

            #[inline]
            fn into_new(self) -> Self::New {
                #into_new
            }

            #policy_methods
            #cache_spec
        }

        #owning
    }
}

/// `const CACHE` for an entity declared `cache`: its settings, and the key and copy functions,
/// spanned at the attribute so that a key without `Hash` or a record without `Clone` is
/// reported there.
fn cache_spec(entity: &Entity) -> TokenStream {
    let Some(cache) = &entity.cache else {
        return TokenStream::new();
    };
    let krate = &entity.krate;
    let ident = &entity.ident;
    let (capacity, ttl_ms) = (cache.capacity, cache.ttl_ms);
    quote::quote_spanned! {cache.span=>
        const CACHE: ::core::option::Option<&'static #krate::__private::cache::CacheSpec<Self>> = {
            fn key(
                id: &<#ident as #krate::Entity>::Id,
            ) -> #krate::__private::cache::CacheKey {
                #krate::__private::cache::CacheKey::new(::core::clone::Clone::clone(id))
            }
            ::core::option::Option::Some(&#krate::__private::cache::CacheSpec {
                capacity: #capacity,
                ttl: ::core::time::Duration::from_millis(#ttl_ms),
                key,
                copy: <Self as ::core::clone::Clone>::clone,
            })
        };
    }
}
