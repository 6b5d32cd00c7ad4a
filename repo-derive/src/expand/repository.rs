//! The object-safe repository trait `{Entity}Repository` and its SQL implementation
//! `Sql{Entity}Repository`, returned by `{Entity}::repository(handle)`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::entity::{id_type, new_type};
use super::row;
use super::sql_literal;
use crate::model::{self, Entity, Field, Mapping, Scalar};
use crate::sql::Statements;

/// A finder generated for a unique key.
struct Finder<'a> {
    method: syn::Ident,
    fields: Vec<&'a Field>,
}

fn finders(entity: &Entity) -> Vec<Finder<'_>> {
    entity
        .unique
        .iter()
        .map(|key| {
            let fields: Vec<&Field> = key.fields.iter().map(|&i| &entity.fields[i]).collect();
            let names: Vec<&str> = fields.iter().map(|field| field.name.as_str()).collect();
            Finder {
                method: format_ident!("find_by_{}", names.join("_and_")),
                fields,
            }
        })
        .collect()
}

/// A finder's parameter type: strings and bytes as slices, numbers and `bool` by value, any
/// other type by reference.
fn parameter_type(field: &Field) -> TokenStream {
    let ty = &field.ty;
    match (&field.mapping, field.scalar) {
        (Mapping::Value, Scalar::String) => quote! { &str },
        (Mapping::Value, Scalar::Bytes) => quote! { &[u8] },
        (Mapping::Value, Scalar::I16) => quote! { i16 },
        (Mapping::Value, Scalar::I32) => quote! { i32 },
        (Mapping::Value, Scalar::I64) => quote! { i64 },
        (Mapping::Value, Scalar::F32) => quote! { f32 },
        (Mapping::Value, Scalar::F64) => quote! { f64 },
        (Mapping::Value, Scalar::Bool) => quote! { bool },
        _ => quote! { &#ty },
    }
}

/// Binds a finder's parameter `name`, of [`parameter_type`].
fn bind_parameter(entity: &Entity, field: &Field) -> TokenStream {
    let name = &field.ident;
    let statement = quote!(&mut __repo_statement);
    match (&field.mapping, field.scalar) {
        (Mapping::Value, Scalar::Other) | (Mapping::Json | Mapping::With(_), _) => {
            row::bind_value(entity, field, quote!(#name), &statement)
        }
        _ => quote! { __repo_statement.bind(#name); },
    }
}

fn finder_signature(entity: &Entity, finder: &Finder<'_>) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let method = &finder.method;
    let parameters = finder.fields.iter().map(|field| {
        let (name, ty) = (&field.ident, parameter_type(field));
        quote! { #name: #ty }
    });
    quote! {
        async fn #method(
            &self,
            #(#parameters),*
        ) -> ::core::result::Result<::core::option::Option<#ident>, #krate::RepoError>
    }
}

pub(super) fn repository_trait(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let ident = &entity.ident;
    let repository = model::repository_trait_ident(ident);
    let column = model::column_enum_ident(ident);
    let id = id_type(entity);
    let new = new_type(entity);
    let result = quote! { ::core::result::Result };
    let error = quote! { #krate::RepoError };
    let doc = format!(
        " Persistence of [`{ident}`]. Object-safe: hold it as `Arc<dyn {repository}>`. \
         The SQL implementation is [`{}`], from `{ident}::repository(handle)`.",
        model::sql_repository_ident(ident)
    );
    let finders = finders(entity).into_iter().map(|finder| {
        let signature = finder_signature(entity, &finder);
        let names: Vec<String> = finder
            .fields
            .iter()
            .map(|f| format!("`{}`", f.name))
            .collect();
        let doc = format!(" The row with this {}, if any.", names.join(" and "));
        quote! { #[doc = #doc] #signature; }
    });
    quote! {
        #[doc = #doc]
        #[#krate::__private::async_trait]
        #vis trait #repository: ::core::marker::Send + ::core::marker::Sync {
            /// Inserts a row and returns it as stored, with its key.
            async fn insert(&self, new: #new) -> #result<#ident, #error>;

            /// Inserts all rows in one transaction, in chunks under the backend's bind-parameter
            /// limit, and returns them as stored, in input order. Nothing is written if any row fails.
            async fn insert_many(
                &self,
                new: ::std::vec::Vec<#new>,
            ) -> #result<::std::vec::Vec<#ident>, #error>;

            /// The row with this key, or `RepoError::NotFound`.
            async fn get(&self, id: #id) -> #result<#ident, #error>;

            /// The row with this key, if any.
            async fn find(&self, id: #id) -> #result<::core::option::Option<#ident>, #error>;

            /// The rows with these keys, in the order of `ids`; absent keys are skipped.
            async fn get_many(&self, ids: &[#id]) -> #result<::std::vec::Vec<#ident>, #error>;

            #(#finders)*

            /// Rows in the requested order (the key by default) and page.
            async fn list(
                &self,
                options: #krate::ListOptions<#column>,
            ) -> #result<::std::vec::Vec<#ident>, #error>;

            /// The number of rows.
            async fn count(&self) -> #result<u64, #error>;

            /// Whether a row has this key.
            async fn exists(&self, id: #id) -> #result<bool, #error>;

            /// Writes every non-key field of the row with this entity's key and returns it as
            /// stored, or `RepoError::NotFound`.
            async fn update(&self, entity: &#ident) -> #result<#ident, #error>;

            /// Deletes the row with this key; `false` when there was none.
            async fn delete(&self, id: #id) -> #result<bool, #error>;

            /// Inserts the entity, or updates the row with its key; returns it as stored.
            async fn upsert(&self, entity: &#ident) -> #result<#ident, #error>;
        }
    }
}

pub(super) fn sql_repository_struct(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let ident = &entity.ident;
    let sql_repository = model::sql_repository_ident(ident);
    let doc = format!(
        " The SQL implementation of [`{}`], on a database handle or inside a transaction.",
        model::repository_trait_ident(ident)
    );
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #sql_repository {
            executor: #krate::Executor,
        }
    }
}

pub(super) fn constructors(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let ident = &entity.ident;
    let sql_repository = model::sql_repository_ident(ident);
    let doc = format!(
        " The SQL repository of [`{ident}`] on `handle`: a `&Db`, or a `&Tx` to run every \
         statement inside that transaction."
    );
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #doc]
            #vis fn repository(handle: impl ::core::convert::Into<#krate::Executor>) -> #sql_repository {
                #sql_repository::new(handle)
            }
        }

        #[automatically_derived]
        impl #sql_repository {
            /// The repository on `handle`: a `&Db`, or a `&Tx`.
            #vis fn new(handle: impl ::core::convert::Into<#krate::Executor>) -> Self {
                #sql_repository { executor: ::core::convert::Into::into(handle) }
            }

            /// Where this repository runs its statements.
            #vis fn executor(&self) -> &#krate::Executor {
                &self.executor
            }
        }
    }
}

pub(super) fn repository_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let repository = model::repository_trait_ident(ident);
    let sql_repository = model::sql_repository_ident(ident);
    let column = model::column_enum_ident(ident);
    let id = id_type(entity);
    let new = new_type(entity);
    let ops = quote! { #krate::__private };
    let result = quote! { ::core::result::Result };
    let error = quote! { #krate::RepoError };
    let statements = Statements::new(entity);
    let finders = finders(entity).into_iter().map(|finder| {
        let signature = finder_signature(entity, &finder);
        let sql = sql_literal(krate, &statements.select_where(&finder.fields));
        let binds = finder
            .fields
            .iter()
            .map(|field| bind_parameter(entity, field));
        let operation = finder.method.to_string();
        quote! {
            #signature {
                const __REPO_SQL: #krate::Sql = #sql;
                self.executor
                    .read(|| {
                        let mut __repo_statement = self.executor.statement(#operation, &__REPO_SQL);
                        #(#binds)*
                        self.executor.fetch_optional::<#ident>(__repo_statement)
                    })
                    .await
            }
        }
    });
    quote! {
        #[automatically_derived]
        #[#krate::__private::async_trait]
        impl #repository for #sql_repository {
            async fn insert(&self, new: #new) -> #result<#ident, #error> {
                #ops::insert::<#ident>(&self.executor, new).await
            }

            async fn insert_many(
                &self,
                new: ::std::vec::Vec<#new>,
            ) -> #result<::std::vec::Vec<#ident>, #error> {
                #ops::insert_many::<#ident>(&self.executor, new).await
            }

            async fn get(&self, id: #id) -> #result<#ident, #error> {
                #ops::get::<#ident>(&self.executor, &id).await
            }

            async fn find(&self, id: #id) -> #result<::core::option::Option<#ident>, #error> {
                #ops::find::<#ident>(&self.executor, &id).await
            }

            async fn get_many(&self, ids: &[#id]) -> #result<::std::vec::Vec<#ident>, #error> {
                #ops::get_many::<#ident>(&self.executor, ids).await
            }

            #(#finders)*

            async fn list(
                &self,
                options: #krate::ListOptions<#column>,
            ) -> #result<::std::vec::Vec<#ident>, #error> {
                #ops::list::<#ident>(&self.executor, &options).await
            }

            async fn count(&self) -> #result<u64, #error> {
                #ops::count::<#ident>(&self.executor).await
            }

            async fn exists(&self, id: #id) -> #result<bool, #error> {
                #ops::exists::<#ident>(&self.executor, &id).await
            }

            async fn update(&self, entity: &#ident) -> #result<#ident, #error> {
                #ops::update::<#ident>(&self.executor, entity).await
            }

            async fn delete(&self, id: #id) -> #result<bool, #error> {
                #ops::delete::<#ident>(&self.executor, &id).await
            }

            async fn upsert(&self, entity: &#ident) -> #result<#ident, #error> {
                #ops::upsert::<#ident>(&self.executor, entity).await
            }
        }
    }
}
