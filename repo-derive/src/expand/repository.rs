//! The object-safe repository trait `{Entity}Repository` and its SQL implementation
//! `Sql{Entity}Repository`, returned by `{Entity}::repository(handle)`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::entity::{id_type, new_type};
use super::row;
use repo_sql::{Plan, PlanAction, PlanLimit};

use super::sql_literal;
use crate::model::{self, Entity, Field, Mapping, Scalar};
use crate::sql::{Statements, equal_each};

/// The types the repository speaks: the record itself, or its domain type.
pub(crate) struct Api {
    /// What reads return and `update`/`upsert` take.
    pub ty: TokenStream,
    /// What `insert` takes.
    pub new: TokenStream,
    pub trait_ident: syn::Ident,
    pub sql_ident: syn::Ident,
    /// The in-memory implementation (feature `memory` of the runtime).
    pub memory_ident: syn::Ident,
    /// The runtime's operations module for this mode.
    pub ops: TokenStream,
    pub domain: bool,
}

pub(crate) fn api(entity: &Entity) -> Api {
    let krate = &entity.krate;
    match &entity.domain {
        Some(domain) => {
            let name = domain
                .segments
                .last()
                .map_or_else(|| entity.ident.clone(), |segment| segment.ident.clone());
            Api {
                ty: quote! { #domain },
                new: quote! { #domain },
                trait_ident: model::repository_trait_ident(&name),
                sql_ident: model::sql_repository_ident(&name),
                memory_ident: model::memory_repository_ident(&name),
                ops: quote! { #krate::__private::domain },
                domain: true,
            }
        }
        None => {
            let ident = &entity.ident;
            Api {
                ty: quote! { #ident },
                new: new_type(entity),
                trait_ident: model::repository_trait_ident(ident),
                sql_ident: model::sql_repository_ident(ident),
                memory_ident: model::memory_repository_ident(ident),
                ops: quote! { #krate::__private },
                domain: false,
            }
        }
    }
}

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
    let ident = api(entity).ty;
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
    let record = &entity.ident;
    let api = api(entity);
    let (ident, new, repository) = (&api.ty, &api.new, &api.trait_ident);
    let column = model::column_enum_ident(record);
    let id = id_type(entity);
    let result = quote! { ::core::result::Result };
    let error = quote! { #krate::RepoError };
    let doc = format!(
        " Persistence of [`{}`]. Object-safe: hold it as `Arc<dyn {repository}>`. \
         The SQL implementation is [`{}`], from `{record}::repository(handle)`.",
        type_name(ident),
        api.sql_ident
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
    let api = api(entity);
    let sql_repository = &api.sql_ident;
    let doc = format!(
        " The SQL implementation of [`{}`], on a database handle or inside a transaction.",
        api.trait_ident
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
    let sql_repository = &api(entity).sql_ident;
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
    implementation(entity, &api(entity).sql_ident)
}

/// The in-memory repository's struct, emitted only when the runtime has the `memory` feature.
pub(super) fn memory_repository_struct(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let api = api(entity);
    let (memory_repository, sql_repository) = (&api.memory_ident, &api.sql_ident);
    let doc = format!(
        " The in-memory implementation of [`{}`]: [`{sql_repository}`] on a `Db::memory()`, \
         with the same semantics and no I/O, for tests.",
        api.trait_ident
    );
    quote! {
        #krate::__private::with_memory! {
            #[doc = #doc]
            #[derive(::core::fmt::Debug, ::core::clone::Clone)]
            #vis struct #memory_repository {
                inner: #sql_repository,
            }
        }
    }
}

/// The in-memory repository's constructors and its implementation of the repository trait,
/// which forwards every call to the SQL repository on the in-memory database.
pub(super) fn memory_repository_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let api = api(entity);
    let (memory_repository, sql_repository) = (&api.memory_ident, &api.sql_ident);
    let name = memory_repository.to_string();
    let repository = &api.trait_ident;
    let forwarding = match syn::parse2::<syn::ItemTrait>(repository_trait(entity)) {
        Ok(item) => crate::port::delegating_impl(
            &item,
            &quote! { #repository },
            krate,
            memory_repository,
            sql_repository,
        ),
        Err(error) => error.to_compile_error(),
    };
    quote! {
        #krate::__private::with_memory! {
            #[automatically_derived]
            impl #memory_repository {
                /// An empty repository on an in-memory database of its own.
                #vis fn new() -> Self {
                    #memory_repository { inner: #sql_repository::new(#krate::Db::memory()) }
                }

                /// The repository on `handle`: a `Db::memory()` that other repositories share, or
                /// a transaction on one. Any other database is `RepoError::Config`.
                #vis fn on(
                    handle: impl ::core::convert::Into<#krate::Executor>,
                ) -> ::core::result::Result<Self, #krate::RepoError> {
                    #krate::__private::memory_executor(handle, #name)
                        .map(|executor| #memory_repository { inner: #sql_repository::new(executor) })
                }

                /// Where this repository runs its statements.
                #vis fn executor(&self) -> &#krate::Executor {
                    self.inner.executor()
                }
            }

            #[automatically_derived]
            impl ::core::default::Default for #memory_repository {
                fn default() -> Self {
                    Self::new()
                }
            }

            #forwarding
        }
    }
}

/// `impl {Entity}Repository for #self_ty`: every method calls the runtime's operations on the
/// repository's executor, SQL or in memory alike.
fn implementation(entity: &Entity, self_ty: &syn::Ident) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let api = api(entity);
    let (api_ty, new, repository, sql_repository) = (&api.ty, &api.new, &api.trait_ident, self_ty);
    let column = model::column_enum_ident(ident);
    let id = id_type(entity);
    let ops = &api.ops;
    let records = quote! { #krate::__private };
    let found = if api.domain {
        quote! { .and_then(#krate::__private::domain::found::<#ident>) }
    } else {
        TokenStream::new()
    };
    let result = quote! { ::core::result::Result };
    let error = quote! { #krate::RepoError };
    let statements = Statements::new(entity);
    let finders = finders(entity).into_iter().map(|finder| {
        let signature = finder_signature(entity, &finder);
        let conditions = equal_each(&finder.fields);
        let plan = Plan {
            action: PlanAction::Select,
            any_of: &[&conditions],
            order: &[],
            limit: PlanLimit::All,
        };
        let sql = sql_literal(krate, &statements.plan(&plan));
        let plan = plan.to_tokens_under(&quote! { #krate::__private });
        let binds = finder
            .fields
            .iter()
            .map(|field| bind_parameter(entity, field));
        let operation = finder.method.to_string();
        quote! {
            #signature {
                const __REPO_SQL: #krate::Sql = #sql;
                const __REPO_PLAN: #krate::__private::Plan = #plan;
                self.executor
                    .read(|| {
                        let mut __repo_statement =
                            self.executor.statement_with_plan(#operation, &__REPO_SQL, &__REPO_PLAN);
                        #(#binds)*
                        self.executor.fetch_optional::<#ident>(__repo_statement)
                    })
                    .await
                    #found
            }
        }
    });
    quote! {
        #[automatically_derived]
        #[#krate::__private::async_trait]
        impl #repository for #sql_repository {
            async fn insert(&self, new: #new) -> #result<#api_ty, #error> {
                #ops::insert::<#ident>(&self.executor, new).await
            }

            async fn insert_many(
                &self,
                new: ::std::vec::Vec<#new>,
            ) -> #result<::std::vec::Vec<#api_ty>, #error> {
                #ops::insert_many::<#ident>(&self.executor, new).await
            }

            async fn get(&self, id: #id) -> #result<#api_ty, #error> {
                #ops::get::<#ident>(&self.executor, &id).await
            }

            async fn find(&self, id: #id) -> #result<::core::option::Option<#api_ty>, #error> {
                #ops::find::<#ident>(&self.executor, &id).await
            }

            async fn get_many(&self, ids: &[#id]) -> #result<::std::vec::Vec<#api_ty>, #error> {
                #ops::get_many::<#ident>(&self.executor, ids).await
            }

            #(#finders)*

            async fn list(
                &self,
                options: #krate::ListOptions<#column>,
            ) -> #result<::std::vec::Vec<#api_ty>, #error> {
                #ops::list::<#ident>(&self.executor, &options).await
            }

            async fn count(&self) -> #result<u64, #error> {
                #records::count::<#ident>(&self.executor).await
            }

            async fn exists(&self, id: #id) -> #result<bool, #error> {
                #records::exists::<#ident>(&self.executor, &id).await
            }

            async fn update(&self, entity: &#api_ty) -> #result<#api_ty, #error> {
                #ops::update::<#ident>(&self.executor, entity).await
            }

            async fn delete(&self, id: #id) -> #result<bool, #error> {
                #records::delete::<#ident>(&self.executor, &id).await
            }

            async fn upsert(&self, entity: &#api_ty) -> #result<#api_ty, #error> {
                #ops::upsert::<#ident>(&self.executor, entity).await
            }
        }
    }
}

/// `User` for `User` or `crate::domain::User`, for docs.
fn type_name(ty: &TokenStream) -> String {
    ty.to_string().replace(' ', "")
}

/// `impl {Entity}Repository for Faulty<R>`, for fault injection in application tests.
pub(super) fn faulty_impl(entity: &Entity) -> TokenStream {
    match syn::parse2::<syn::ItemTrait>(repository_trait(entity)) {
        Ok(item) => crate::port::faulty_impl(&item, &entity.krate),
        Err(error) => error.to_compile_error(),
    }
}
