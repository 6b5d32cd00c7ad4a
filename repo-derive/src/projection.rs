//! `#[derive(Projection)]`: a read-only row type over an entity's columns, or aggregates of
//! its rows grouped by columns. Which columns exist, and their types, is the entity's own
//! derive's knowledge: the expansion names each through the entity's typed field constant
//! (`Article::TITLE`), so a field that is no column, or of the wrong type, fails to compile
//! at that field, naming both types.

use darling::util::Flag;
use darling::{FromDeriveInput, FromField};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

/// `#[repo(...)]` on the struct.
#[derive(FromDeriveInput)]
#[darling(attributes(repo), supports(struct_named))]
struct ProjectionAttrs {
    ident: syn::Ident,
    data: darling::ast::Data<darling::util::Ignored, FieldAttrs>,
    /// `entity = Article`: whose rows it reads.
    entity: Option<syn::Path>,
    /// `crate = path`, for a renamed runtime crate.
    #[darling(rename = "crate")]
    krate: Option<syn::Path>,
}

/// `#[repo(...)]` on a field: what it reads.
#[derive(FromField)]
#[darling(attributes(repo))]
struct FieldAttrs {
    ident: Option<syn::Ident>,
    ty: syn::Type,
    /// `field = name`: the entity's field, when the names differ.
    field: Option<syn::Ident>,
    /// How many rows.
    count: Flag,
    /// `sum = field`, `avg = field`, `min = field`, `max = field`.
    sum: Option<syn::Ident>,
    avg: Option<syn::Ident>,
    min: Option<syn::Ident>,
    max: Option<syn::Ident>,
}

/// What a field reads.
enum Read {
    Column(syn::Ident),
    Count,
    Sum(syn::Ident),
    Avg(syn::Ident),
    Min(syn::Ident),
    Max(syn::Ident),
}

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    match expand(input) {
        Ok(tokens) => tokens,
        Err(errors) => errors.write_errors(),
    }
}

fn expand(input: &syn::DeriveInput) -> darling::Result<TokenStream> {
    let attrs = ProjectionAttrs::from_derive_input(input)?;
    let mut errors = darling::Error::accumulator();
    let entity = attrs.entity.clone().or_else(|| {
        errors.push(
            darling::Error::custom(
                "a projection names the entity whose rows it reads: `#[repo(entity = Article)]`",
            )
            .with_span(&attrs.ident),
        );
        None
    });
    let fields = attrs
        .data
        .take_struct()
        .map(|fields| fields.fields)
        .unwrap_or_default();
    let mut reads = Vec::with_capacity(fields.len());
    for field in &fields {
        if let Some(read) = errors.handle(read_of(field)) {
            reads.push(read);
        }
    }
    errors.finish()?;
    let entity = entity.expect("checked above");
    let krate = attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::repo_runtime));
    Ok(expansion(&attrs.ident, &entity, &krate, &fields, &reads))
}

fn read_of(field: &FieldAttrs) -> darling::Result<Read> {
    let ident = field.ident.clone().expect("named fields only");
    let mut reads = Vec::new();
    if field.count.is_present() {
        reads.push((Read::Count, field.count.span()));
    }
    for (value, make) in [
        (&field.sum, Read::Sum as fn(syn::Ident) -> Read),
        (&field.avg, Read::Avg),
        (&field.min, Read::Min),
        (&field.max, Read::Max),
    ] {
        if let Some(column) = value {
            reads.push((make(column.clone()), column.span()));
        }
    }
    if reads.len() > 1 {
        return Err(darling::Error::custom(
            "a field reads one aggregate: `count`, `sum`, `avg`, `min` or `max`",
        )
        .with_span(&reads[1].1));
    }
    match (reads.pop(), &field.field) {
        (Some((_, span)), Some(_)) => Err(darling::Error::custom(
            "`field = ...` names a column to read as it is; an aggregate names its column itself",
        )
        .with_span(&span)),
        (Some((read, _)), None) => Ok(read),
        (None, Some(column)) => Ok(Read::Column(column.clone())),
        (None, None) => Ok(Read::Column(ident)),
    }
}

/// `Article::TITLE`, spanned at `field` so that a missing one is reported there.
fn field_constant(entity: &syn::Path, field: &syn::Ident) -> TokenStream {
    let constant = format_ident!(
        "{}",
        field.unraw().to_string().to_uppercase(),
        span = field.span()
    );
    quote_spanned! {field.span()=> #entity::#constant }
}

fn expansion(
    ident: &syn::Ident,
    entity: &syn::Path,
    krate: &syn::Path,
    fields: &[FieldAttrs],
    reads: &[Read],
) -> TokenStream {
    let items = reads.iter().map(|read| {
        let (helper, column) = match read {
            Read::Count => return quote! { #krate::__private::Selected::Count },
            Read::Column(column) => ("column", column),
            Read::Sum(column) => ("sum", column),
            Read::Avg(column) => ("avg", column),
            Read::Min(column) => ("min", column),
            Read::Max(column) => ("max", column),
        };
        let constant = field_constant(entity, column);
        let helper = format_ident!("{helper}", span = column.span());
        quote_spanned! {column.span()=> #krate::__private::projection::#helper(#constant) }
    });
    // Each check binds what the item reads to a variable spanned at the field's type, so a
    // mismatch is reported there, naming both types.
    let checks = fields.iter().zip(reads).map(|(field, read)| {
        let ty = &field.ty;
        let read_as = format_ident!("read", span = ty.span());
        let (helper, column) = match read {
            Read::Column(column) => {
                let constant = field_constant(entity, column);
                return quote_spanned! {ty.span()=>
                    #krate::__private::projection::column_type(
                        #constant,
                        ::core::marker::PhantomData::<#ty>,
                    );
                };
            }
            Read::Count => {
                return quote_spanned! {ty.span()=>
                    let #read_as = #krate::__private::projection::count_type();
                    let _: ::core::marker::PhantomData<#ty> = #read_as;
                };
            }
            Read::Sum(column) => ("sum_type", column),
            Read::Avg(column) => ("avg_type", column),
            Read::Min(column) | Read::Max(column) => ("extreme_type", column),
        };
        let constant = field_constant(entity, column);
        let helper = format_ident!("{helper}", span = column.span());
        quote_spanned! {ty.span()=>
            let #read_as = #krate::__private::projection::#helper(#constant);
            let _: ::core::marker::PhantomData<#ty> = #read_as;
        }
    });
    let decoded = fields
        .iter()
        .zip(reads)
        .enumerate()
        .map(|(index, (field, read))| {
            let (name, ty) = (field.ident.as_ref().expect("named fields only"), &field.ty);
            let column = match read {
                Read::Column(column) => column.unraw().to_string(),
                Read::Count => String::from("count"),
                Read::Sum(column) => format!("sum({})", column.unraw()),
                Read::Avg(column) => format!("avg({})", column.unraw()),
                Read::Min(column) => format!("min({})", column.unraw()),
                Read::Max(column) => format!("max({})", column.unraw()),
            };
            quote_spanned! {ty.span()=>
                #name: <#ty as #krate::ColumnValue>::decode(row, #index, #column)?,
            }
        });
    let names = fields.iter().zip(reads).map(|(field, read)| match read {
        Read::Column(column) => {
            let constant = field_constant(entity, column);
            quote! { #constant.column() }
        }
        _ => {
            let name = field
                .ident
                .as_ref()
                .expect("named fields only")
                .unraw()
                .to_string();
            quote! { #name }
        }
    });
    quote! {
        #[automatically_derived]
        impl #krate::Projection for #ident {
            type Entity = #entity;
            const ITEMS: &'static [#krate::__private::Selected<'static>] = &[#(#items),*];
            const NAMES: &'static [&'static str] = &[#(#names),*];
        }

        #[automatically_derived]
        impl #krate::__private::projection::RowDecode for #ident {
            fn decode_row<__RepoRow: #krate::RowSource>(
                row: &__RepoRow,
            ) -> ::core::result::Result<Self, #krate::RepoError> {
                ::core::result::Result::Ok(#ident {
                    #(#decoded)*
                })
            }
        }

        /// Each field reads its column or aggregate as its own type.
        const _: fn() = || {
            #(#checks)*
        };
    }
}
