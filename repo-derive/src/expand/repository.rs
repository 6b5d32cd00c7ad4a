//! The object-safe repository trait `{Entity}Repository` and its SQL implementation
//! `Sql{Entity}Repository`, returned by `{Entity}::repository(handle)`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::row;
use repo_sql::{Plan, PlanAction, PlanLimit};

use super::sql_literal;
use crate::model::{self, Entity, Field, Mapping, Scalar};
use crate::sql::{Statements, equal_each};

/// The types the repository speaks: the record itself, or its domain type.
pub(crate) struct Api {
    /// What reads return and `update`/`upsert` take.
    pub ty: TokenStream,
    pub trait_ident: syn::Ident,
    /// `{Entity}Reader`, the reads and finders only.
    pub reader_ident: syn::Ident,
    /// `{Entity}Writer`, all but the deletes.
    pub writer_ident: syn::Ident,
    pub sql_ident: syn::Ident,
    /// The in-memory implementation (feature `memory` of the runtime).
    pub memory_ident: syn::Ident,
    /// `, AsDomain` after the record in `Repository<Record, AsDomain>`; empty for records,
    /// which `Repository<Record>` maps by default.
    pub mapping: TokenStream,
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
                trait_ident: model::repository_trait_ident(&name),
                reader_ident: model::reader_trait_ident(&name),
                writer_ident: model::writer_trait_ident(&name),
                sql_ident: model::sql_repository_ident(&name),
                memory_ident: model::memory_repository_ident(&name),
                mapping: quote! { , #krate::AsDomain },
                domain: true,
            }
        }
        None => {
            let ident = &entity.ident;
            Api {
                ty: quote! { #ident },
                trait_ident: model::repository_trait_ident(ident),
                reader_ident: model::reader_trait_ident(ident),
                writer_ident: model::writer_trait_ident(ident),
                sql_ident: model::sql_repository_ident(ident),
                memory_ident: model::memory_repository_ident(ident),
                mapping: TokenStream::new(),
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
    if !matches!(field.mapping, Mapping::Value | Mapping::Encrypted { .. }) {
        return quote! { &#ty };
    }
    match field.scalar {
        Scalar::String => quote! { &str },
        Scalar::Bytes => quote! { &[u8] },
        Scalar::I16 => quote! { i16 },
        Scalar::I32 => quote! { i32 },
        Scalar::I64 => quote! { i64 },
        Scalar::F32 => quote! { f32 },
        Scalar::F64 => quote! { f64 },
        Scalar::Bool => quote! { bool },
        _ => quote! { &#ty },
    }
}

/// A finder's parameter as an owned, hashable part of its cache key: floats by their bits.
fn cache_key_part(field: &Field) -> TokenStream {
    let name = &field.ident;
    if !matches!(field.mapping, Mapping::Value | Mapping::Encrypted { .. }) {
        return quote! { ::core::clone::Clone::clone(#name) };
    }
    match field.scalar {
        Scalar::String | Scalar::Bytes => quote! { ::std::borrow::ToOwned::to_owned(#name) },
        Scalar::I16 | Scalar::I32 | Scalar::I64 | Scalar::Bool => quote! { #name },
        Scalar::F32 | Scalar::F64 => quote! { #name.to_bits() },
        _ => quote! { ::core::clone::Clone::clone(#name) },
    }
}

/// Binds a finder's parameter `name`, of [`parameter_type`].
fn bind_parameter(entity: &Entity, field: &Field) -> TokenStream {
    let name = &field.ident;
    let statement = quote!(&mut __repo_statement);
    if field.encrypted() {
        let value = match field.scalar {
            Scalar::String | Scalar::Bytes | Scalar::Other => quote!(#name),
            _ => quote!(&#name),
        };
        return row::bind_lookup_value(entity, field, value, &statement, false);
    }
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
    let (ident, repository, mapping) = (&api.ty, &api.trait_ident, &api.mapping);
    let doc = format!(
        " Persistence of [`{}`]: the operations of [`Repository`]({}::Repository) and the \
         finders of its unique keys. Object-safe: hold it as `Arc<dyn {repository}>`. The SQL \
         implementation is [`{}`], from `{record}::repository(handle)`.",
        type_name(ident),
        type_name(&quote!(#krate)),
        api.sql_ident
    );
    let finders = finders(entity);
    let async_trait = async_trait_if_any(&finders, krate);
    let finders = finders.into_iter().map(|finder| {
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
        #async_trait
        #vis trait #repository: #krate::Repository<#record #mapping> {
            #(#finders)*
        }
    }
}

/// `{Entity}Reader` and `{Entity}Writer`: the least-privilege views of `{Entity}Repository`,
/// each with the finders.
pub(super) fn access_traits(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let record = &entity.ident;
    let api = api(entity);
    let (repository, mapping) = (&api.trait_ident, &api.mapping);
    let (reader, writer) = (&api.reader_ident, &api.writer_ident);
    let reader_doc = format!(
        " The reads of [`{repository}`]: [`ReadRepository`]({}::ReadRepository) and the finders \
         of its unique keys, for query-side code. Object-safe: hold it as `Arc<dyn {reader}>`, \
         from `ReadOnly::new({record}::repository(handle))`.",
        type_name(&quote!(#krate)),
    );
    let writer_doc = format!(
        " [`{repository}`] without its deletes: [`WriteRepository`]({}::WriteRepository) and \
         the finders of its unique keys, for a use case that must not delete. Object-safe: hold \
         it as `Arc<dyn {writer}>`, from `NoDelete::new({record}::repository(handle))`.",
        type_name(&quote!(#krate)),
    );
    let finders = finders(entity);
    let async_trait = async_trait_if_any(&finders, krate);
    let finders = finders.into_iter().map(|finder| {
        let signature = finder_signature(entity, &finder);
        let method = &finder.method;
        let doc = format!(" [`{repository}::{method}`].");
        quote! { #[doc = #doc] #signature; }
    });
    quote! {
        #[doc = #reader_doc]
        #async_trait
        #vis trait #reader: #krate::ReadRepository<#record #mapping> {
            #(#finders)*
        }
        #[doc = #writer_doc]
        #vis trait #writer: #krate::WriteRepository<#record #mapping> + #reader {}
    }
}

/// The views' implementations over any `{Entity}Repository`: `ReadOnly<R>` is an
/// `{Entity}Reader`, `NoDelete<R>` both; each finder asks `R`.
pub(super) fn access_impls(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let api = api(entity);
    let (repository, reader, writer) = (&api.trait_ident, &api.reader_ident, &api.writer_ident);
    let finders = finders(entity);
    let async_trait = async_trait_if_any(&finders, krate);
    let finders: Vec<TokenStream> = finders
        .into_iter()
        .map(|finder| {
            let signature = finder_signature(entity, &finder);
            let method = &finder.method;
            let arguments = finder.fields.iter().map(|field| &field.ident);
            quote! {
                #signature {
                    #repository::#method(self.__unrestricted(), #(#arguments),*).await
                }
            }
        })
        .collect();
    quote! {
        #[automatically_derived]
        #async_trait
        impl<R: #repository> #reader for #krate::ReadOnly<R> {
            #(#finders)*
        }
        #[automatically_derived]
        #async_trait
        impl<R: #repository> #reader for #krate::NoDelete<R> {
            #(#finders)*
        }
        #[automatically_derived]
        impl<R: #repository> #writer for #krate::NoDelete<R> {}
    }
}

/// `Sql{Entity}Repository<B>`, and `InMemory{Entity}Repository`, the same on `MemoryDb`.
pub(super) fn sql_repository_struct(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let api = api(entity);
    let (sql_repository, memory_repository) = (&api.sql_ident, &api.memory_ident);
    let doc = format!(
        " The SQL implementation of [`{}`], on a database handle or inside a transaction. \
         `{memory_repository}` is the same on the in-memory store.",
        api.trait_ident
    );
    let memory_doc = format!(
        " [`{sql_repository}`] on a `Db::memory()`: the same semantics with no I/O, for tests."
    );
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #sql_repository<B = #krate::AnyDb> {
            executor: #krate::Executor,
            backing: ::core::marker::PhantomData<B>,
        }

        #krate::__private::with_memory! {
            #[doc = #memory_doc]
            #vis type #memory_repository = #sql_repository<#krate::MemoryDb>;
        }
    }
}

pub(super) fn constructors(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let ident = &entity.ident;
    let api = api(entity);
    let (sql_repository, memory_repository) = (&api.sql_ident, &api.memory_ident);
    let name = memory_repository.to_string();
    let doc = format!(
        " The SQL repository of [`{ident}`] on `handle`: a `&Db`, or a `&Tx` to run every \
         statement inside that transaction."
    );
    let fields = field_constants(entity);
    let keys = unique_key_constants(entity);
    let encrypted = entity
        .encrypted_fields()
        .map(|field| row::encrypted_column_definition(entity, field));
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#encrypted)*
            #(#fields)*
            #(#keys)*

            #[doc = #doc]
            #vis fn repository(handle: impl ::core::convert::Into<#krate::Executor>) -> #sql_repository {
                #sql_repository {
                    executor: ::core::convert::Into::into(handle),
                    backing: ::core::marker::PhantomData,
                }
            }
        }

        #krate::__private::with_memory! {
            #[automatically_derived]
            impl #memory_repository {
                /// An empty repository on an in-memory database of its own.
                #vis fn new() -> Self {
                    #sql_repository {
                        executor: ::core::convert::Into::into(#krate::Db::memory()),
                        backing: ::core::marker::PhantomData,
                    }
                }

                /// The repository on `handle`: a `Db::memory()` that other repositories share, or
                /// a transaction on one. Any other database is `RepoError::Config`.
                #vis fn on(
                    handle: impl ::core::convert::Into<#krate::Executor>,
                ) -> ::core::result::Result<Self, #krate::RepoError> {
                    let executor = #krate::__private::memory_executor(handle, #name)?;
                    ::core::result::Result::Ok(#sql_repository {
                        executor,
                        backing: ::core::marker::PhantomData,
                    })
                }
            }

            #[automatically_derived]
            impl ::core::default::Default for #memory_repository {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    }
}

/// The SQL repository's entity, mapping and executor, through which the runtime implements
/// `Repository` for it, and its finders.
pub(super) fn repository_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let api = api(entity);
    let (repository, sql_repository) = (&api.trait_ident, &api.sql_ident);
    let mapping = match api.domain {
        true => quote! { #krate::AsDomain },
        false => quote! { #krate::AsRecord },
    };
    let found = if api.domain {
        quote! { .and_then(#krate::__private::domain::found::<#ident, #mapping>) }
    } else {
        TokenStream::new()
    };
    let statements = Statements::new(entity);
    let finders = finders(entity);
    let async_trait = async_trait_if_any(&finders, krate);
    let finders = finders.into_iter().enumerate().map(|(position, finder)| {
        let signature = finder_signature(entity, &finder);
        let groups = crate::sql::live_groups(entity, vec![equal_each(&finder.fields)]);
        let any_of: Vec<&[repo_sql::PlanCondition<'_>]> =
            groups.iter().map(Vec::as_slice).collect();
        let plan = Plan {
            action: PlanAction::Select,
            any_of: &any_of,
            order: &[],
            limit: PlanLimit::All,
            scope: crate::sql::scope(entity),
        };
        let sql = sql_literal(krate, &statements.plan(&plan));
        let plan = plan.to_tokens_under(&quote! { #krate::__private });
        let binds = finder
            .fields
            .iter()
            .map(|field| bind_parameter(entity, field));
        let operation = finder.method.to_string();
        // An entity scoped by tenant binds the handle's tenant after the key, and its
        // statement leaves the scope out on an unscoped handle.
        let (start, scope) = match crate::sql::scope(entity) {
            Some(_) => (
                quote! {
                    #krate::__private::ports::statement_with_lists::<#ident>(
                        &self.executor,
                        #operation,
                        &__REPO_SQL,
                        &__REPO_PLAN,
                        &[],
                    )
                },
                quote! { #krate::__private::ports::bind_scope::<#ident>(&mut __repo_statement); },
            ),
            None => (
                quote! {
                    self.executor.statement_with_plan(#operation, &__REPO_SQL, &__REPO_PLAN)
                },
                TokenStream::new(),
            ),
        };
        let read = quote! {
            self.executor
                .read(|| {
                    let mut __repo_statement = #start;
                    #(#binds)*
                    #scope
                    self.executor.fetch_optional::<#ident>(__repo_statement)
                })
                .await
        };
        // A cached entity reads through the cache, keyed by the finder's values.
        let read = if entity.cache.is_some() {
            let position = proc_macro2::Literal::usize_unsuffixed(position);
            let owned = finder.fields.iter().map(|field| cache_key_part(field));
            quote! {
                #krate::__private::cache::by_unique::<#ident, _, _>(
                    &self.executor,
                    #position,
                    || #krate::__private::cache::CacheKey::new((#(#owned,)*)),
                    async { #read },
                )
                .await
            }
        } else {
            read
        };
        // An aggregate root comes with its owned children.
        let read = if entity.is_aggregate_root() {
            quote! {
                #krate::__private::aggregate::load_one(&self.executor, #read?).await
            }
        } else {
            read
        };
        quote! {
            #signature {
                const __REPO_SQL: #krate::Sql = #sql;
                const __REPO_PLAN: #krate::__private::Plan = #plan;
                #read
                    #found
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl<B: #krate::Backing> #krate::SqlRepository for #sql_repository<B> {
            type Entity = #ident;
            type Mapping = #mapping;

            fn executor(&self) -> &#krate::Executor {
                &self.executor
            }
        }

        #[automatically_derived]
        #async_trait
        impl<B: #krate::Backing> #repository for #sql_repository<B> {
            #(#finders)*
        }
    }
}

/// `#[async_trait]` for a trait or impl with finders; none without, which spares the user's
/// build one macro call per item for nothing.
fn async_trait_if_any<T>(finders: &[T], krate: &syn::Path) -> TokenStream {
    if finders.is_empty() {
        TokenStream::new()
    } else {
        quote!(#[#krate::__private::async_trait])
    }
}

/// `pub const EMAIL: Field<User, String>` for each column a filter can compare: the plain
/// fields bound through their own `ColumnValue` (a nullable one compares with the value inside
/// its `Option`). JSON columns, `with` conversions and embedded values have none: their Rust
/// type is not their column's.
fn field_constants(entity: &Entity) -> Vec<TokenStream> {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let ident = &entity.ident;
    entity
        .fields
        .iter()
        .filter(|field| field.embed.is_none())
        .filter_map(|field| {
            let name = format_ident!("{}", field.name.to_uppercase(), span = field.ident.span());
            let ty = crate::types::option_inner(&field.ty).unwrap_or(&field.ty);
            let column = &field.column;
            match &field.mapping {
                Mapping::Value => {
                    let doc =
                        format!(" The `{column}` column, for filters: `{ident}::{name}.eq(..)`.");
                    Some(quote! {
                        #[doc = #doc]
                        #vis const #name: #krate::Field<#ident, #ty> = #krate::Field::new(#column);
                    })
                }
                Mapping::Encrypted { .. } => {
                    let blind_index = field.blind_index()?;
                    let doc = format!(
                        " The encrypted `{column}` column, for filters by equality through its \
                         blind index `{blind_index}`: `{ident}::{name}.eq(..)`."
                    );
                    let encrypted = crate::expand::row::encrypted_column(entity, field);
                    Some(quote! {
                        #[doc = #doc]
                        #vis const #name: #krate::EncryptedField<#ident, #ty> =
                            #krate::EncryptedField::new(#encrypted);
                    })
                }
                _ => None,
            }
        })
        .collect()
}

/// `pub const BY_EMAIL: UniqueKey<User>` for the primary key and each unique key, named after
/// their fields as the finders are: what `insert_or_ignore` and `upsert_on` test.
fn unique_key_constants(entity: &Entity) -> Vec<TokenStream> {
    let krate = &entity.krate;
    let vis = &entity.vis;
    let ident = &entity.ident;
    let name = |fields: &[usize]| {
        let names: Vec<String> = fields
            .iter()
            .map(|&index| entity.fields[index].name.to_uppercase())
            .collect();
        format_ident!("BY_{}", names.join("_AND_"), span = ident.span())
    };
    let primary = {
        let constant = name(&entity.key);
        let doc = format!(" The primary key of [`{ident}`], for conditional writes.");
        quote! {
            #[doc = #doc]
            #vis const #constant: #krate::UniqueKey<#ident> = #krate::UniqueKey::primary();
        }
    };
    let unique = entity.unique.iter().enumerate().map(|(position, key)| {
        let constant = name(&key.fields);
        let position = proc_macro2::Literal::usize_unsuffixed(position);
        let doc = format!(
            " The unique key `{}` of [`{ident}`], for conditional writes.",
            key.name
        );
        quote! {
            #[doc = #doc]
            #vis const #constant: #krate::UniqueKey<#ident> = #krate::UniqueKey::unique(#position);
        }
    });
    std::iter::once(primary).chain(unique).collect()
}

/// `User` for `User` or `crate::domain::User`, for docs.
fn type_name(ty: &TokenStream) -> String {
    ty.to_string().replace(' ', "")
}

/// `impl {Entity}Repository for Faulty<R>`: each finder checks the faults, then asks `R`; the
/// runtime does the same for the operations of `Repository`.
pub(super) fn faulty_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let repository = &api(entity).trait_ident;
    let finders = finders(entity);
    let async_trait = async_trait_if_any(&finders, krate);
    let finders = finders.into_iter().map(|finder| {
        let signature = finder_signature(entity, &finder);
        let method = &finder.method;
        let label = method.to_string();
        let arguments = finder.fields.iter().map(|field| &field.ident);
        quote! {
            #signature {
                self.faults().check(#label)?;
                self.inner().#method(#(#arguments),*).await
            }
        }
    });
    quote! {
        #[automatically_derived]
        #async_trait
        impl<R: #repository> #repository for #krate::Faulty<R> {
            #(#finders)*
        }
    }
}
