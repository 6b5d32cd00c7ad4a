//! The row mapper: reading an entity from a row by position, and binding its fields in the
//! column order of each statement.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Entity, Field, Mapping, Owner, Policy, Scalar, option_inner};

/// Reads column `index` into the field's type, by the field's mapping. Spanned at the type, so
/// a type without a column mapping is reported at the field. A sensitive field's errors lose
/// their message, which may quote the value.
pub(crate) fn decode_value(
    entity: &impl Owner,
    field: &Field,
    index: &TokenStream,
    column: &TokenStream,
) -> TokenStream {
    let krate = entity.krate();
    let (ty, sensitive) = (&field.ty, field.sensitive);
    let finish = |read: TokenStream| {
        if sensitive {
            quote! { #read.map_err(#krate::__private::redact)? }
        } else {
            quote! { #read? }
        }
    };
    match &field.mapping {
        Mapping::Value => finish(quote_spanned! {ty.span()=>
            <#ty as #krate::ColumnValue>::decode(row, #index, #column)
        }),
        Mapping::Json => finish(match option_inner(ty) {
            Some(inner) => quote_spanned! {ty.span()=>
                #krate::__private::json::decode_option::<#inner, __RepoRow>(row, #index, #column)
            },
            None => quote_spanned! {ty.span()=>
                #krate::__private::json::decode::<#ty, __RepoRow>(row, #index, #column)
            },
        }),
        Mapping::With(path) => {
            let stored = finish(quote! { #krate::ColumnValue::decode(row, #index, #column) });
            finish(quote_spanned! {path.span()=>
                #krate::__private::convert::decode(#path::from_db(#stored), #column, #sensitive)
            })
        }
        // Its errors never hold the value: no redaction, which would hide why (a key).
        Mapping::Encrypted { .. } => {
            let encrypted = encrypted_column(entity, field);
            match option_inner(ty) {
                Some(inner) => quote_spanned! {ty.span()=>
                    #krate::__private::encryption::decode_option::<#inner, __RepoRow>(
                        row,
                        #index,
                        #encrypted,
                    )?
                },
                None => quote_spanned! {ty.span()=>
                    #krate::__private::encryption::decode::<#ty, __RepoRow>(row, #index, #encrypted)?
                },
            }
        }
    }
}

/// The entity's constant describing an encrypted field's columns: `Patient::__ENCRYPTED_EMAIL`.
pub(crate) fn encrypted_column(entity: &impl Owner, field: &Field) -> TokenStream {
    let ident = entity.ident();
    let constant = encrypted_column_ident(field);
    quote! { #ident::#constant }
}

fn encrypted_column_ident(field: &Field) -> syn::Ident {
    format_ident!(
        "__ENCRYPTED_{}",
        field.name.to_uppercase(),
        span = field.ident.span()
    )
}

/// `const __ENCRYPTED_EMAIL: &EncryptedColumn`, in the entity's inherent impl: where an
/// encrypted field's ciphertext and blind index are, for every call that seals or opens it.
pub(crate) fn encrypted_column_definition(entity: &impl Owner, field: &Field) -> TokenStream {
    let krate = entity.krate();
    let (name, field_name, column) = (entity_name(entity), &field.name, &field.column);
    let table = entity.table().unwrap_or_default();
    let blind_index = super::optional_str(field.blind_index());
    let constant = encrypted_column_ident(field);
    quote! {
        #[doc(hidden)]
        pub const #constant: &'static #krate::__private::encryption::EncryptedColumn =
            &#krate::__private::encryption::EncryptedColumn {
                entity: #name,
                field: #field_name,
                table: #table,
                column: #column,
                blind_index: #blind_index,
            };
    }
}

/// Binds what a lookup by `field` compares, `value` (a reference to the field's type, an
/// `Option` when `optional`, or a finder's parameter): an encrypted field's blind index, else
/// the value.
pub(crate) fn bind_lookup_value(
    entity: &impl Owner,
    field: &Field,
    value: TokenStream,
    statement: &TokenStream,
    optional: bool,
) -> TokenStream {
    if !field.encrypted() {
        return bind_value(entity, field, value, statement);
    }
    let krate = entity.krate();
    let encrypted = encrypted_column(entity, field);
    if optional {
        // `NULL` equals nothing, as for any other column.
        quote! {
            match #value {
                ::core::option::Option::Some(value) => {
                    #krate::__private::encryption::bind_lookup(value, #statement, #encrypted);
                }
                ::core::option::Option::None => #statement.bind(::core::option::Option::None::<::std::vec::Vec<u8>>),
            }
        }
    } else {
        quote! {
            #krate::__private::encryption::bind_lookup(#value, #statement, #encrypted);
        }
    }
}

/// `convert::Field { entity, name, sensitive }` of a field with `with`.
fn conversion_field(entity: &impl Owner, field: &Field) -> TokenStream {
    let krate = entity.krate();
    let (name, field_name, sensitive) = (entity_name(entity), &field.name, field.sensitive);
    quote! {
        #krate::__private::convert::Field {
            entity: #name,
            name: #field_name,
            sensitive: #sensitive,
        }
    }
}

/// Binds `value` (a reference to the field's type) to `statement`, by the field's mapping.
pub(crate) fn bind_value(
    entity: &impl Owner,
    field: &Field,
    value: TokenStream,
    statement: &TokenStream,
) -> TokenStream {
    let krate = entity.krate();
    let ty = &field.ty;
    if let Some(embed) = &field.embed {
        let inner = &embed.ty;
        return if embed.optional {
            quote_spanned! {ty.span()=>
                #krate::__private::embed::bind_optional::<#inner>(#value, #statement);
            }
        } else {
            quote_spanned! {ty.span()=>
                <#inner as #krate::Embedded>::bind(#value, #statement);
            }
        };
    }
    match &field.mapping {
        Mapping::Value => quote_spanned! {ty.span()=>
            <#ty as #krate::ColumnValue>::bind(#value, #statement);
        },
        Mapping::Json if field.nullable => quote_spanned! {ty.span()=>
            #krate::__private::json::bind_option(#value, #statement);
        },
        Mapping::Json => quote_spanned! {ty.span()=>
            #krate::__private::json::bind(#value, #statement);
        },
        Mapping::With(path) => {
            let field = conversion_field(entity, field);
            quote_spanned! {path.span()=>
                #krate::__private::convert::bind(#path::to_db(#value), #statement, #field);
            }
        }
        Mapping::Encrypted { .. } => {
            let encrypted = encrypted_column(entity, field);
            if field.nullable {
                quote_spanned! {ty.span()=>
                    #krate::__private::encryption::bind_option(#value, #statement, #encrypted);
                }
            } else {
                quote_spanned! {ty.span()=>
                    #krate::__private::encryption::bind(#value, #statement, #encrypted);
                }
            }
        }
    }
}

/// The struct's name as errors give it, without `r#`.
pub(crate) fn entity_name(entity: &impl Owner) -> String {
    entity
        .ident()
        .to_string()
        .trim_start_matches("r#")
        .to_owned()
}

/// `Ok(User { id: <i64 as ColumnValue>::decode(row, 0, "id")?, ..., skipped: Default::default() })`.
pub(super) fn decode_body(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let mut first = 0;
    let columns = entity.fields.iter().map(|field| {
        let field_ident = &field.ident;
        let index = first;
        first += field.columns.len();
        let read = match &field.embed {
            Some(embed) => {
                let inner = &embed.ty;
                let names = field.columns.iter().map(|column| &column.name);
                if embed.optional {
                    quote_spanned! {field.ty.span()=>
                        #krate::__private::embed::decode_optional::<#inner, __RepoRow>(
                            row,
                            #index,
                            &[#(#names),*],
                        )?
                    }
                } else {
                    quote_spanned! {field.ty.span()=>
                        <#inner as #krate::Embedded>::decode(row, #index, &[#(#names),*])?
                    }
                }
            }
            None => {
                let column = &field.column;
                decode_value(entity, field, &quote!(#index), &quote!(#column))
            }
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

/// What a binder binds for a policy field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Stamping {
    /// The value the owner holds (a row read back, bound as it is).
    Held,
    /// What the write sets, for a new row (`owner` is the insert input).
    NewRow,
    /// What the write sets, for a stored row (`owner` is the record).
    StoredRow,
}

/// Binds `owner.field` for each field, in order; when stamping, a policy field's value is the
/// one the write sets (from `stamp`) instead.
pub(super) fn bind_fields_body<'a>(
    entity: &Entity,
    fields: impl Iterator<Item = &'a Field>,
    owner: &TokenStream,
    stamping: Stamping,
) -> TokenStream {
    let krate = &entity.krate;
    let statement = quote!(statement);
    let stored = (stamping == Stamping::StoredRow).then_some(owner);
    let binds = fields.map(|field| {
        let ident = &field.ident;
        let stamped = match stamping {
            Stamping::Held => None,
            Stamping::NewRow | Stamping::StoredRow => stamped_value(entity, field, stored),
        };
        match stamped {
            Some(Stamped::Value(value)) => {
                bind_value(entity, field, quote! { &#value }, &statement)
            }
            Some(Stamped::Handle(given)) => {
                let bind = bind_value(entity, field, quote! { &given }, &statement);
                quote! {
                    if let ::core::option::Option::Some(given) =
                        #krate::__private::OrFail::or_fail(#given, statement)
                    {
                        #bind
                    }
                }
            }
            None => {
                let value = quote_spanned! {field.ty.span()=> &#owner.#ident };
                bind_value(entity, field, value, &statement)
            }
        }
    });
    quote! { #(#binds)* }
}

/// What a write gives a policy field.
enum Stamped {
    /// A value of the field's type: a version's first, the write's time, a live row's mark.
    Value(TokenStream),
    /// What the handle gives (its actor, its tenant), which may be missing or not fit: the
    /// call that reads it, for `.or_fail(statement)` (binding) or `?` (building the entity).
    Handle(TokenStream),
}

/// What a write gives a policy field, from `stamp`; `None` for a field the caller gives.
/// `stored` is the record a write of a stored row binds, whose own tenant an unscoped handle
/// keeps.
fn stamped_value(entity: &Entity, field: &Field, stored: Option<&TokenStream>) -> Option<Stamped> {
    let krate = &entity.krate;
    let ty = &field.ty;
    Some(match field.policy()? {
        Policy::Version => {
            Stamped::Value(quote_spanned! {ty.span()=> <#ty as #krate::Version>::INITIAL })
        }
        Policy::CreatedAt | Policy::UpdatedAt => Stamped::Value(quote_spanned! {ty.span()=>
            stamp.time::<#ty>()
        }),
        Policy::DeletedAt => {
            Stamped::Value(quote_spanned! {ty.span()=> <#ty as #krate::DeletionMark>::live() })
        }
        Policy::CreatedBy | Policy::UpdatedBy => {
            let (name, field_name) = (entity_name(entity), &field.name);
            Stamped::Handle(quote_spanned! {ty.span()=>
                stamp.actor::<#ty>(#name, #field_name)
            })
        }
        Policy::Tenant => {
            let (name, field_name, ident) = (entity_name(entity), &field.name, &field.ident);
            Stamped::Handle(match stored {
                Some(owner) => quote_spanned! {ty.span()=>
                    stamp.tenant_or::<#ty>(&#owner.#ident, #name, #field_name)
                },
                None => quote_spanned! {ty.span()=>
                    stamp.tenant::<#ty>(#name, #field_name)
                },
            })
        }
    })
}

/// The `Entity` methods of an entity with policy fields: its insert as stamped, what a patch
/// writes besides its fields, and the version a record or a patch holds. Nothing otherwise:
/// the trait's defaults say "no policy".
pub(super) fn policy_methods(entity: &Entity) -> TokenStream {
    if !entity.has_policies() {
        return TokenStream::new();
    }
    let krate = &entity.krate;
    let bind_stamped = bind_fields_body(
        entity,
        entity.fields.iter(),
        &quote!(self),
        Stamping::StoredRow,
    );
    let touched: Vec<&Field> = entity
        .fields
        .iter()
        .filter(|field| field.policy().is_some_and(Policy::touched_by_every_write))
        .collect();
    let bind_touch = if touched.is_empty() {
        quote! { let _ = (stamp, statement); }
    } else {
        bind_fields_body(
            entity,
            touched.into_iter(),
            &quote!(self),
            Stamping::StoredRow,
        )
    };
    let version = entity.policy_field(Policy::Version).map(|field| {
        let (ident, ty) = (&field.ident, &field.ty);
        quote! {
            #[inline]
            fn version(&self) -> ::core::option::Option<i64> {
                ::core::option::Option::Some(<#ty as #krate::Version>::get(self.#ident))
            }

            #[inline]
            fn patch_version(patch: &Self::Patch) -> ::core::option::Option<i64> {
                patch.expected_version.map(<#ty as #krate::Version>::get)
            }
        }
    });
    let deletion = entity.policy_field(Policy::DeletedAt).map(|field| {
        let ty = &field.ty;
        let mark = quote_spanned! {ty.span()=>
            &match stamp {
                ::core::option::Option::Some(stamp) => stamp.deleted::<#ty>(),
                ::core::option::Option::None => <#ty as #krate::DeletionMark>::live(),
            }
        };
        let bind = bind_value(entity, field, mark, &quote!(statement));
        quote! {
            #[inline]
            fn bind_deletion(
                stamp: ::core::option::Option<&#krate::__private::Stamp>,
                statement: &mut #krate::Statement,
            ) {
                #bind
            }
        }
    });
    quote! {
        const POLICIES: ::core::option::Option<&'static #krate::__private::PolicyOps<Self>> =
            ::core::option::Option::Some(&#krate::__private::PolicyOps::<Self>::OF);

        #deletion

        #[inline]
        fn bind_stamped(
            &self,
            stamp: &#krate::__private::Stamp,
            statement: &mut #krate::Statement,
        ) {
            #bind_stamped
        }

        #[inline]
        fn bind_touch(stamp: &#krate::__private::Stamp, statement: &mut #krate::Statement) {
            #bind_touch
        }

        #version
    }
}

/// The body of `bind_new_key`: the fields of the primary key (when `New` holds them) or of one
/// unique key, from `new`.
pub(super) fn bind_new_key_body(entity: &Entity) -> TokenStream {
    let bind = |fields: &[usize]| {
        let binds = fields.iter().map(|&index| {
            let field = &entity.fields[index];
            if field.encrypted() {
                let ident = &field.ident;
                let value = quote! { &new.#ident };
                bind_lookup_value(entity, field, value, &quote!(statement), field.nullable)
            } else {
                bind_fields_body(
                    entity,
                    std::iter::once(field),
                    &quote!(new),
                    Stamping::NewRow,
                )
            }
        });
        quote! { #(#binds)* }
    };
    let primary = if entity.generated().is_some() {
        quote! { let _ = (new, statement); }
    } else {
        bind(&entity.key)
    };
    let unique = entity.unique.iter().enumerate().map(|(position, key)| {
        let binds = bind(&key.fields);
        let position = proc_macro2::Literal::usize_unsuffixed(position);
        quote! { ::core::option::Option::Some(#position) => { #binds } }
    });
    quote! {
        match key {
            ::core::option::Option::None => { #primary }
            #(#unique)*
            ::core::option::Option::Some(_) => {}
        }
    }
}

/// The bodies of `patch_columns` and `bind_patch`: each field the patch gives, its columns
/// and then its values, in the same order.
pub(super) fn patch_bodies(entity: &Entity) -> (TokenStream, TokenStream) {
    let statement = quote!(statement);
    let fields: Vec<&Field> = entity.patch_fields().collect();
    if fields.is_empty() {
        return (
            quote! { let _ = (patch, columns); },
            quote! { let _ = (patch, statement); },
        );
    }
    let columns = fields.iter().map(|field| {
        let ident = &field.ident;
        let names: Vec<&String> = field.columns.iter().map(|column| &column.name).collect();
        let push = match names.as_slice() {
            [name] => quote! { columns.push(#name); },
            names => quote! { columns.extend_from_slice(&[#(#names),*]); },
        };
        quote! {
            if patch.#ident.is_some() {
                #push
            }
        }
    });
    let binds = fields.iter().map(|field| {
        let ident = &field.ident;
        let bind = bind_value(entity, field, quote!(value), &statement);
        quote! {
            if let ::core::option::Option::Some(value) = &patch.#ident {
                #bind
            }
        }
    });
    (quote! { #(#columns)* }, quote! { #(#binds)* })
}

/// Binds each insert column of `news` as one array, in column order. An entity with embedded
/// values batches as `VALUES` lists instead (its `binds_arrays` is false), so this
/// binds nothing for it.
pub(super) fn bind_columns_body(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    if entity.has_embedded() {
        return quote! { let _ = (news, statement); };
    }
    // Plain columns are gathered in one loop over the rows, with no closure per column: each
    // column of each entity would otherwise instantiate an iterator chain.
    let gathered = |field: &Field| format_ident!("__repo_{}", field.name);
    let plain: Vec<&Field> = entity
        .new_fields()
        .filter(|field| matches!(field.mapping, Mapping::Value))
        .collect();
    let vectors = plain.iter().map(|field| {
        let local = gathered(field);
        quote! { let mut #local = ::std::vec::Vec::with_capacity(news.len()); }
    });
    let pushes = plain.iter().map(|field| {
        let (local, ident) = (gathered(field), &field.ident);
        quote! { #local.push(&new.#ident); }
    });
    let binds = entity.insert_fields().map(|field| {
        let (ident, ty) = (&field.ident, &field.ty);
        // Every row of the batch takes the same value.
        let bind_stamped = |value: TokenStream| {
            quote_spanned! {ty.span()=>
                <#ty as #krate::ColumnValue>::bind_array(
                    ::std::vec![&#value; news.len()],
                    statement,
                );
            }
        };
        match stamped_value(entity, field, None) {
            Some(Stamped::Value(value)) => {
                let bind = bind_stamped(quote!(value));
                return quote! {
                    let value = #value;
                    #bind
                };
            }
            Some(Stamped::Handle(given)) => {
                let bind = bind_stamped(quote!(given));
                return quote! {
                    if let ::core::option::Option::Some(given) =
                        #krate::__private::OrFail::or_fail(#given, statement)
                    {
                        #bind
                    }
                };
            }
            None => {}
        }
        let column = quote_spanned! {ty.span()=> news.iter().map(|new| &new.#ident) };
        match &field.mapping {
            Mapping::Value => {
                let local = gathered(field);
                quote_spanned! {ty.span()=>
                    <#ty as #krate::ColumnValue>::bind_array(#local, statement);
                }
            }
            Mapping::Json if field.nullable => quote_spanned! {ty.span()=>
                #krate::__private::json::bind_option_array(#column.collect(), statement);
            },
            Mapping::Json => quote_spanned! {ty.span()=>
                #krate::__private::json::bind_array(#column.collect(), statement);
            },
            Mapping::With(path) => {
                let field = conversion_field(entity, field);
                quote_spanned! {path.span()=>
                    #krate::__private::convert::bind_array(
                        news.iter().map(|new| #path::to_db(&new.#ident)),
                        statement,
                        #field,
                    );
                }
            }
            Mapping::Encrypted { .. } => {
                let encrypted = encrypted_column(entity, field);
                let value = if field.nullable {
                    quote! { new.#ident.as_ref() }
                } else {
                    quote! { ::core::option::Option::Some(&new.#ident) }
                };
                quote_spanned! {ty.span()=>
                    #krate::__private::encryption::bind_array(
                        news.iter().map(|new| #value),
                        statement,
                        #encrypted,
                    );
                }
            }
        }
    });
    let gather = if plain.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            #(#vectors)*
            for new in news {
                #(#pushes)*
            }
        }
    };
    quote! {
        #gather
        #(#binds)*
    }
}

/// Binds the key: `id` itself, or each element of the tuple.
pub(super) fn bind_id_body(entity: &Entity) -> TokenStream {
    let statement = quote!(statement);
    if entity.key.len() == 1 {
        let field = &entity.fields[entity.key[0]];
        return bind_value(entity, field, quote! { id }, &statement);
    }
    let binds = entity.key_fields().enumerate().map(|(i, field)| {
        let index = syn::Index::from(i);
        bind_value(entity, field, quote! { &id.#index }, &statement)
    });
    quote! { #(#binds)* }
}

/// Builds the entity from `new` and the generated key, converting the key to its field type.
pub(super) fn from_new_body(entity: &Entity, name: &str) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    if !entity.has_new_struct() {
        return quote! {
            let _ = generated;
            ::core::result::Result::Ok(new)
        };
    }
    let key = entity.generated().map(|generated| {
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
        quote! { #key_ident: #key, }
    });
    let ignored = key.is_none().then(|| quote! { let _ = generated; });
    let fields = entity.insert_fields().map(|field| {
        let ident = &field.ident;
        match stamped_value(entity, field, None) {
            Some(Stamped::Value(value)) => quote! { #ident: #value, },
            Some(Stamped::Handle(given)) => quote! { #ident: #given?, },
            None => quote! { #ident: new.#ident, },
        }
    });
    let skipped = skipped_except_owned(entity);
    let owned = entity.owned().map(|(_, holder)| {
        let ident = &holder.ident;
        quote! { #ident: new.#ident, }
    });
    quote! {
        #ignored
        ::core::result::Result::Ok(#ident {
            #key
            #(#fields)*
            #(#owned)*
            #skipped
        })
    }
}

/// The entity's insert input from the entity: itself, or all but the generated key (the owned
/// children included).
pub(super) fn into_new_body(entity: &Entity) -> TokenStream {
    if !entity.has_new_struct() {
        return quote! { self };
    }
    let new = crate::model::new_ident(&entity.ident);
    let fields = entity
        .new_fields()
        .map(|field| &field.ident)
        .chain(entity.owned().map(|(_, holder)| &holder.ident));
    quote! {
        #new {
            #(#fields: self.#fields,)*
        }
    }
}

/// The skipped fields' defaults, but for those holding owned children (the input gives them).
fn skipped_except_owned(entity: &Entity) -> TokenStream {
    let fields = entity
        .skipped
        .iter()
        .filter(|skipped| !entity.holds_owned(&skipped.ident))
        .map(|skipped| {
            let (ident, ty) = (&skipped.ident, &skipped.ty);
            let default =
                quote_spanned! {ty.span()=> <#ty as ::core::default::Default>::default() };
            quote! { #ident: #default, }
        });
    quote! { #(#fields)* }
}

/// Checks that name the field when a `with` module or a `json` type does not fit it, before
/// the uses deeper in the generated code report the same mismatch.
pub(super) fn field_checks(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let checks = entity.fields.iter().map(|field| {
        let ty = &field.ty;
        if let Some(policy) = field.policy() {
            let bound = match policy {
                Policy::Version => quote! { #krate::Version },
                Policy::CreatedAt | Policy::UpdatedAt => quote! { #krate::Timestamp },
                Policy::DeletedAt => quote! { #krate::DeletionMark },
                Policy::CreatedBy | Policy::UpdatedBy => quote! { #krate::ActorField },
                Policy::Tenant => quote! { #krate::TenantField },
            };
            return quote_spanned! {ty.span()=>
                const _: fn() = || {
                    fn kept_by_the_library<T: #bound>() {}
                    kept_by_the_library::<#ty>();
                };
            };
        }
        match &field.mapping {
            Mapping::Value => TokenStream::new(),
            Mapping::Json => {
                let checked = option_inner(ty).unwrap_or(ty);
                quote_spanned! {ty.span()=>
                    const _: fn() = || {
                        fn stored_as_json<
                            T: #krate::__private::serde::Serialize
                                + #krate::__private::serde::de::DeserializeOwned,
                        >() {}
                        stored_as_json::<#checked>();
                    };
                }
            }
            Mapping::With(path) => quote_spanned! {path.span()=>
                const _: fn() = || {
                    let _to_db: fn(&#ty) -> ::core::result::Result<_, _> = #path::to_db;
                    let _from_db: fn(_) -> ::core::result::Result<#ty, _> = #path::from_db;
                };
            },
            Mapping::Encrypted { .. } => {
                let checked = option_inner(ty).unwrap_or(ty);
                quote_spanned! {ty.span()=>
                    const _: fn() = || {
                        fn encrypted_as_bytes<T: #krate::Plaintext + #krate::FromPlaintext>() {}
                        encrypted_as_bytes::<#checked>();
                    };
                }
            }
        }
    });
    quote! { #(#checks)* }
}
