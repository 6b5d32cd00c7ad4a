//! Embedded value objects: `#[derive(Embeddable)]`, and how an embeddable's column names reach
//! the derive that embeds it at compile time.
//!
//! A proc macro cannot look at another type's definition, so each embeddable also gets a
//! `macro_rules!` named like the type (in the macro namespace only, so `use model::Address`
//! brings both). A derive with `#[repo(embed)]` fields calls those macros one by one; each
//! appends its columns, `[("street" "street") ("town" "city") ...]`, and calls back a
//! function-like proc macro of this crate, which finishes with the full picture. Nested
//! embeddables are resolved by their own derive the same way before their macro is defined.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;

use crate::expand::row;
use crate::model::{self, Embeddable, Kind, LeafDef, Mapping};

/// The `Option`-less types of the `#[repo(embed)]` fields, in declaration order, read from the
/// raw attributes (the full parse needs their columns first).
pub(crate) fn embedded_types(input: &syn::DeriveInput) -> Vec<syn::Type> {
    let syn::Data::Struct(data) = &input.data else {
        return Vec::new();
    };
    data.fields
        .iter()
        .filter(|field| {
            field.attrs.iter().any(|attr| {
                attr.path().is_ident("repo")
                    && attr
                        .parse_args_with(
                            syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                        )
                        .is_ok_and(|metas| metas.iter().any(|meta| meta.path().is_ident("embed")))
            })
        })
        .map(|field| model::option_inner(&field.ty).unwrap_or(&field.ty).clone())
        .collect()
}

/// The runtime crate's path as the input names it, for the callbacks.
fn krate(input: &syn::DeriveInput) -> syn::Path {
    input
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("repo"))
        .filter_map(|attr| {
            attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .ok()
        })
        .flatten()
        .find_map(|meta| match meta {
            syn::Meta::NameValue(pair) if pair.path.is_ident("crate") => match pair.value {
                syn::Expr::Path(path) => Some(path.path),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or_else(|| syn::parse_quote!(::repo_runtime))
}

/// Asks the next embeddable for its columns, or expands when all have answered.
fn next_step(
    input: &syn::DeriveInput,
    collected: &[Vec<LeafDef>],
    kind: Kind,
) -> Option<TokenStream> {
    let types = embedded_types(input);
    let next = types.get(collected.len())?;
    let krate = krate(input);
    let callback = match kind {
        Kind::Entity => quote! { #krate::__private::repository_with_embeds },
        Kind::Embeddable => quote! { #krate::__private::embeddable_with_embeds },
    };
    let path = match next {
        syn::Type::Path(path) if path.qself.is_none() => {
            let mut path = path.path.clone();
            if let Some(last) = path.segments.last_mut() {
                last.arguments = syn::PathArguments::None;
            }
            path
        }
        other => {
            return Some(
                syn::Error::new(
                    other.span(),
                    "`embed` needs a struct type, such as `Address`",
                )
                .to_compile_error(),
            );
        }
    };
    let groups = collected.iter().map(|leaves| {
        let pairs = leaves.iter().map(|leaf| {
            let (column, path) = (&leaf.column, &leaf.path);
            quote! { (#column #path) }
        });
        quote! { [#(#pairs)*] }
    });
    // The type must implement `Embedded`: a clear error when the derive is missing.
    let check = quote_spanned! {next.span()=>
        const _: fn() = || {
            fn embeddable<T: #krate::Embedded>() {}
            embeddable::<#next>();
        };
    };
    Some(quote_spanned! {next.span()=>
        #check
        #path! { [#callback] { #input } #(#groups)* }
    })
}

/// The entity derive: straight to expansion without embedded fields, else the first step.
pub(crate) fn start(input: &syn::DeriveInput, kind: Kind) -> Option<TokenStream> {
    next_step(input, &[], kind)
}

/// What a callback receives: the input and the columns collected so far.
pub(crate) struct Collected {
    pub input: syn::DeriveInput,
    pub leaves: Vec<Vec<LeafDef>>,
}

impl Parse for Collected {
    fn parse(stream: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        syn::braced!(content in stream);
        let input: syn::DeriveInput = content.parse()?;
        let mut leaves = Vec::new();
        while stream.peek(syn::token::Bracket) {
            let group;
            syn::bracketed!(group in stream);
            let mut list = Vec::new();
            while !group.is_empty() {
                let pair;
                syn::parenthesized!(pair in group);
                let column: syn::LitStr = pair.parse()?;
                let path: syn::LitStr = pair.parse()?;
                list.push(LeafDef {
                    column: column.value(),
                    path: path.value(),
                });
            }
            leaves.push(list);
        }
        Ok(Collected { input, leaves })
    }
}

impl Collected {
    /// The tokens this parses from: `{ input } [(column path) ...] ...`.
    pub(crate) fn to_tokens(input: &syn::DeriveInput, leaves: &[Vec<LeafDef>]) -> TokenStream {
        let groups = leaves.iter().map(|list| {
            let pairs = list.iter().map(|leaf| {
                let (column, path) = (&leaf.column, &leaf.path);
                quote! { (#column #path) }
            });
            quote! { [#(#pairs)*] }
        });
        quote! { { #input } #(#groups)* }
    }
}

/// A callback's step: the next embeddable, or `None` when every column is known.
pub(crate) fn continue_with(collected: &Collected, kind: Kind) -> Option<TokenStream> {
    next_step(&collected.input, &collected.leaves, kind)
}

/// `#[derive(Embeddable)]` once every nested embeddable's columns are known.
pub(crate) fn expand_embeddable(input: &syn::DeriveInput, nested: &[Vec<LeafDef>]) -> TokenStream {
    let value = match model::parse_embeddable(input, nested) {
        Ok(value) => value,
        Err(errors) => return errors.write_errors(),
    };
    let ident = &value.ident;
    let leaves = own_leaves(&value);
    let macro_name = format_ident!("__repo_embed_{}", ident);
    let pairs = leaves.iter().map(|leaf| {
        let (column, path) = (&leaf.column, &leaf.path);
        quote! { (#column #path) }
    });
    let reexport = match &value.vis {
        syn::Visibility::Inherited => quote! {},
        _ => quote! { pub(crate) },
    };
    let embedded = embedded_impl(&value);
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #macro_name {
            ([$($callback:tt)*] $($state:tt)*) => {
                $($callback)*! { $($state)* [#(#pairs)*] }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #reexport use #macro_name as #ident;

        const _: () = {
            #embedded
        };
    }
}

/// The embeddable's columns, nested values flattened: `("geo_lat" "geo.lat")`.
fn own_leaves(value: &Embeddable) -> Vec<LeafDef> {
    value
        .fields
        .iter()
        .flat_map(|field| {
            field.columns.iter().map(move |column| LeafDef {
                column: column.name.clone(),
                path: column.field.clone(),
            })
        })
        .collect()
}

/// `impl Embedded`: leaf metadata, binding and decoding in column order.
fn embedded_impl(value: &Embeddable) -> TokenStream {
    let krate = &value.krate;
    let ident = &value.ident;
    let embed = quote! { #krate::__private::embed };
    let parts = value.fields.iter().map(|field| {
        let ty = &field.ty;
        let sensitive = field.sensitive;
        match (&field.embed, &field.mapping) {
            (Some(nested), _) => {
                let (inner, optional) = (&nested.ty, nested.optional);
                quote! { (<#inner as #krate::Embedded>::LEAVES, #optional) }
            }
            // Refused on an embeddable's fields (`check_embeddable_attributes`).
            (None, Mapping::Value | Mapping::Encrypted { .. }) => quote! {
                (&[#krate::__private::embed::Leaf {
                    ty: <#ty as #krate::ColumnValue>::TYPE,
                    nullable: <#ty as #krate::ColumnValue>::NULLABLE,
                    sensitive: #sensitive,
                }], false)
            },
            (None, Mapping::Json) => {
                let nullable = field.nullable;
                quote! {
                    (&[#krate::__private::embed::Leaf {
                        ty: #krate::ColumnType::Json,
                        nullable: #nullable,
                        sensitive: #sensitive,
                    }], false)
                }
            }
            (None, Mapping::With(path)) => quote! {
                (&[#krate::__private::embed::Leaf {
                    ty: #krate::__private::convert::column_type(#path::to_db),
                    nullable: #krate::__private::convert::nullable(#path::to_db),
                    sensitive: #sensitive,
                }], false)
            },
        }
    });
    let statement = quote!(statement);
    let binds = value.fields.iter().map(|field| {
        let name = &field.ident;
        row::bind_value(value, field, quote! { &self.#name }, &statement)
    });
    let nulls = value.fields.iter().map(|field| {
        let ty = &field.ty;
        match (&field.embed, &field.mapping) {
            (Some(nested), _) => {
                let inner = &nested.ty;
                quote! { <#inner as #krate::Embedded>::bind_nulls(statement); }
            }
            (None, Mapping::Value | Mapping::Encrypted { .. }) => {
                quote! { <#ty as #krate::ColumnValue>::bind_null(statement); }
            }
            (None, Mapping::Json) => quote! { #krate::__private::json::bind_null(statement); },
            (None, Mapping::With(path)) => {
                quote! { #krate::__private::convert::bind_null(#path::to_db, statement); }
            }
        }
    });
    // Locals are prefixed: a field may be called `first` or `columns`.
    let local = |field: &model::Field| format_ident!("__repo_field_{}", field.name);
    let decodes = value.fields.iter().map(|field| {
        let name = local(field);
        let read = match &field.embed {
            Some(nested) => {
                let inner = &nested.ty;
                let decode = if nested.optional {
                    quote! { #embed::decode_optional::<#inner, __RepoRow> }
                } else {
                    quote! { <#inner as #krate::Embedded>::decode }
                };
                quote! {{
                    let __repo_width = <#inner as #krate::Embedded>::LEAVES.len();
                    let __repo_names = #embed::names(__repo_columns, __repo_at, __repo_width);
                    let __repo_value = #decode(row, __repo_first + __repo_at, __repo_names)?;
                    __repo_at += __repo_width;
                    __repo_value
                }}
            }
            None => {
                let read = row::decode_value(
                    value,
                    field,
                    &quote!(__repo_first + __repo_at),
                    &quote!(#embed::name(__repo_columns, __repo_at)),
                );
                quote! {{
                    let __repo_value = #read;
                    __repo_at += 1;
                    __repo_value
                }}
            }
        };
        quote! { let #name = #read; }
    });
    let fields = value.fields.iter().map(|field| {
        let (ident, name) = (&field.ident, local(field));
        quote! { #ident: #name, }
    });
    let skipped = value.skipped.iter().map(|skipped| {
        let (name, ty) = (&skipped.ident, &skipped.ty);
        quote_spanned! {ty.span()=> #name: <#ty as ::core::default::Default>::default(), }
    });
    quote! {
        const __REPO_PARTS: &[(&[#embed::Leaf], bool)] = &[#(#parts),*];
        const __REPO_LEAVES: [#embed::Leaf; #embed::count(__REPO_PARTS)] =
            #embed::concat(__REPO_PARTS);

        #[automatically_derived]
        impl #krate::Embedded for #ident {
            const LEAVES: &'static [#embed::Leaf] = &__REPO_LEAVES;

            fn bind(&self, statement: &mut #krate::Statement) {
                #(#binds)*
            }

            fn bind_nulls(statement: &mut #krate::Statement) {
                #(#nulls)*
            }

            fn decode<__RepoRow: #krate::RowSource>(
                row: &__RepoRow,
                __repo_first: usize,
                __repo_columns: &[&'static str],
            ) -> ::core::result::Result<Self, #krate::RepoError> {
                let mut __repo_at = 0;
                #(#decodes)*
                let _ = __repo_at;
                ::core::result::Result::Ok(#ident { #(#fields)* #(#skipped)* })
            }
        }
    }
}
