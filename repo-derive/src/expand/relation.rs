//! An entity's relations: the `ForeignKeyField` impl of each `references` field (what a
//! relation declared on the other entity follows, and what checks it), and a constant per
//! relation (`Article::AUTHOR`, `Author::ARTICLES`, `Article::TAGS`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::model::{Entity, Followed, Relation};

/// `impl ForeignKeyField<{ column_key("author_id") }> for Article` for each foreign key.
pub(super) fn foreign_key_impls(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    let impls = entity.fields.iter().filter_map(|field| {
        let reference = field.references.as_ref()?;
        let target = &reference.entity;
        let column = &field.column;
        let name = &field.ident;
        let ty = crate::types::option_inner(&field.ty).unwrap_or(&field.ty);
        let (key, set_key) = if field.nullable {
            (
                quote! { self.#name.as_ref() },
                quote! { ::core::option::Option::Some(key) },
            )
        } else {
            (
                quote! { ::core::option::Option::Some(&self.#name) },
                quote! { key },
            )
        };
        // `Target`'s key must be `Key`: a field of another type is reported at `references`.
        let target_item = quote_spanned! {target.span()=> type Target = #target; };
        Some(quote! {
            #[automatically_derived]
            impl #krate::ForeignKeyField<{ #krate::__private::column_key(#column) }> for #ident {
                #target_item
                type Key = #ty;
                const FIELD: #krate::Field<Self, #ty> = #krate::Field::new(#column);

                #[inline]
                fn key(&self) -> ::core::option::Option<&#ty> {
                    #key
                }

                #[inline]
                fn set_key(&mut self, key: #ty) {
                    self.#name = #set_key;
                }
            }
        })
    });
    quote! { #(#impls)* }
}

/// `impl Article { pub const AUTHOR: BelongsTo<..> = ..; pub const TAGS: ManyToMany<..> = ..; }`.
pub(super) fn relation_constants(entity: &Entity) -> TokenStream {
    if entity.relations.is_empty() {
        return TokenStream::new();
    }
    let krate = &entity.krate;
    let ident = &entity.ident;
    let vis = &entity.vis;
    let constants = entity.relations.iter().map(|relation| {
        let name = relation.name().unraw().to_string();
        let constant = format_ident!("{}", name.to_uppercase(), span = relation.name().span());
        match relation {
            Relation::BelongsTo { field, .. } => {
                let field = &entity.fields[*field];
                let column = &field.column;
                let doc = format!(
                    " The row `{}` refers to: a belongs-to relation, for loads (`{ident}::{constant}.load(..)`) and filters (`{ident}::{constant}.has(..)`).",
                    field.name
                );
                quote! {
                    #[doc = #doc]
                    #vis const #constant: #krate::BelongsTo<#ident, { #krate::__private::column_key(#column) }> =
                        #krate::BelongsTo::new(#name);
                }
            }
            Relation::HasMany(followed)
            | Relation::HasOne(followed)
            | Relation::Owns { followed, .. } => {
                let (kind, doc) = match relation {
                    Relation::HasMany(_) => (quote!(HasMany), "The rows"),
                    Relation::Owns { .. } => (quote!(HasMany), "The owned rows"),
                    _ => (quote!(HasOne), "The row"),
                };
                let other = &followed.entity;
                let key = field_key(followed, &followed.field);
                let doc = format!(
                    " {doc} of `{}` whose `{}` refers to this `{ident}`.",
                    path_text(other),
                    followed.field
                );
                let span = followed.field.span();
                let new = spanned(quote! { #krate::#kind::new(#name) }, span);
                quote! {
                    #[doc = #doc]
                    #vis const #constant: #krate::#kind<#ident, #other, #key> = #new;
                }
            }
            Relation::ManyToMany { followed, to } => {
                let link = &followed.entity;
                let from_key = field_key(followed, &followed.field);
                let to_key = field_key(followed, to);
                let doc = format!(
                    " The rows that rows of `{link}` tie to this `{ident}`: through `{from}` to this one, `{to}` to them.",
                    link = path_text(link),
                    from = followed.field,
                );
                let span = followed.field.span();
                let ty = quote! { #krate::ManyToMany<#ident, #link, #from_key, #to_key> };
                let new = spanned(quote! { #krate::ManyToMany::new(#name) }, span);
                quote! {
                    #[doc = #doc]
                    #vis const #constant: #ty = #new;
                }
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #ident {
            #(#constants)*
        }
    }
}

/// `{ Article::AUTHOR_ID.key() }`: the key of the other entity's field, spanned where the
/// user named it, so that an unknown field is reported there with the closest name.
fn field_key(followed: &Followed, field: &syn::Ident) -> TokenStream {
    let entity = &followed.entity;
    let constant = format_ident!(
        "{}",
        field.unraw().to_string().to_uppercase(),
        span = field.span()
    );
    quote_spanned! {field.span()=> { #entity::#constant.key() } }
}

/// `tokens` (a call) at `span`: a bound the call misses is reported where the user declared
/// the relation, with the runtime's message.
fn spanned(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let inner = spanned(group.stream(), span);
                token = proc_macro2::TokenTree::Group(proc_macro2::Group::new(
                    group.delimiter(),
                    inner,
                ));
            }
            token.set_span(span);
            token
        })
        .collect()
}

/// `Article` for `Article` or `crate::blog::Article`, for docs.
fn path_text(path: &syn::Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

/// `impl Owning`: what the entity owns. Nothing, for most; for an aggregate root
/// (`owns(..)`), the hooks that load, write and delete its owned children with its rows, one
/// call per collection.
pub(super) fn owning_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = &entity.ident;
    if !entity.is_aggregate_root() {
        return quote! {
            #[automatically_derived]
            impl #krate::Owning for #ident {
                type Dispatch = #krate::__private::Rows;
            }
        };
    }
    let aggregate = quote! { #krate::__private::aggregate };
    let collections: Vec<(syn::Ident, &syn::Ident)> = entity
        .owned()
        .map(|(followed, holder)| {
            let constant = format_ident!("{}", followed.name.unraw().to_string().to_uppercase());
            (constant, &holder.ident)
        })
        .collect();
    let load = collections.iter().map(|(constant, holder)| {
        quote! {
            #aggregate::load_children(executor, Self::#constant, rows, |__repo_row| &mut __repo_row.#holder).await?;
        }
    });
    let save = collections.iter().map(|(constant, holder)| {
        quote! {
            #aggregate::save_children(executor, Self::#constant, rows, |__repo_row| &mut __repo_row.#holder, inserted).await?;
        }
    });
    let delete = collections.iter().map(|(constant, _)| {
        quote! {
            #aggregate::delete_children(executor, Self::#constant, roots).await?;
        }
    });
    let copy = collections.iter().map(|(_, holder)| {
        quote! {
            into.#holder = ::core::clone::Clone::clone(&from.#holder);
        }
    });
    let items = quote! {
        type Dispatch = #krate::__private::Aggregate;

        const OWNS: bool = true;

        fn load_owned<'a>(
            executor: &'a #krate::Executor,
            rows: &'a mut [Self],
        ) -> #krate::__private::Running<'a, ()> {
            ::std::boxed::Box::pin(async move {
                #(#load)*
                ::core::result::Result::Ok(())
            })
        }

        fn save_owned<'a>(
            executor: &'a #krate::Executor,
            rows: &'a mut [Self],
            inserted: bool,
        ) -> #krate::__private::Running<'a, ()> {
            ::std::boxed::Box::pin(async move {
                #(#save)*
                ::core::result::Result::Ok(())
            })
        }

        fn delete_owned<'a>(
            executor: &'a #krate::Executor,
            roots: &'a #krate::Filter<Self>,
        ) -> #krate::__private::Running<'a, ()> {
            ::std::boxed::Box::pin(async move {
                #(#delete)*
                ::core::result::Result::Ok(())
            })
        }

        fn copy_owned(from: &Self, into: &mut Self) {
            #(#copy)*
        }
    };
    quote! {
        #[automatically_derived]
        impl #krate::Owning for #ident {
            #items
        }
    }
}
