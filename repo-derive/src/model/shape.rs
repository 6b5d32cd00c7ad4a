//! What is derived (an entity or an embeddable) and the checks of the input's shape and of the
//! attributes that only an entity may carry.

use proc_macro2::Span;
use syn::spanned::Spanned;

use crate::attr::EntityAttrs;

/// What is being derived: an entity with its own table, or a value embedded in entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Entity,
    Embeddable,
}

impl Kind {
    fn derive(self) -> &'static str {
        match self {
            Kind::Entity => "#[derive(Repository)]",
            Kind::Embeddable => "#[derive(Embeddable)]",
        }
    }
}

/// An embeddable has no table, key or constraints of its own: the entity holding it has.
pub(super) fn check_embeddable_attributes(
    attrs: &EntityAttrs,
    errors: &mut darling::error::Accumulator,
) {
    let mut refuse = |span: Span, word: &str| {
        errors.push(
            darling::Error::custom(format!(
                "`{word}` has no meaning on an embeddable value: it belongs on the entity that embeds it"
            ))
            .with_span(&span),
        );
    };
    if let Some(table) = &attrs.table {
        refuse(table.span(), "table");
    }
    if let Some(domain) = &attrs.domain {
        refuse(domain.span(), "domain");
    }
    for list in attrs.unique.iter().chain(&attrs.index) {
        refuse(list.span(), "unique` or `index");
    }
    if let Some(renamed) = &attrs.renamed_from {
        refuse(renamed.span(), "renamed_from");
    }
    if let Some(port) = &attrs.port {
        refuse(port.span(), "port");
    }
    for relation in attrs
        .has_many
        .iter()
        .chain(&attrs.has_one)
        .chain(&attrs.many_to_many)
    {
        refuse(
            relation.span(),
            "has_many`, `has_one`, `many_to_many` or `owns",
        );
    }
    if let darling::ast::Data::Struct(fields) = &attrs.data {
        for field in &fields.fields {
            for (flag, word) in [
                (&field.id, "id"),
                (&field.generated, "generated"),
                (&field.unique, "unique"),
                (&field.index, "index"),
                (&field.version, "version"),
                (&field.created_at, "created_at"),
                (&field.updated_at, "updated_at"),
                (&field.deleted_at, "deleted_at"),
                (&field.created_by, "created_by"),
                (&field.updated_by, "updated_by"),
            ] {
                if flag.is_present() {
                    refuse(flag.span(), word);
                }
            }
            if let Some(references) = &field.references {
                refuse(references.span(), "references");
            }
            if let Some(default) = &field.default {
                refuse(default.span(), "default");
            }
            if let Some(renamed) = &field.renamed_from {
                refuse(renamed.span(), "renamed_from");
            }
        }
        for field in fields
            .fields
            .iter()
            .filter(|field| field.encrypted.is_present())
        {
            errors.push(
                darling::Error::custom(
                    "`encrypted` is not supported inside an embeddable value: encrypt a \
                     plain field of the entity",
                )
                .with_span(&field.encrypted.span()),
            );
        }
    }
}

/// Checks the shape of the input before the attributes are read.
pub(super) fn check_shape(input: &syn::DeriveInput, kind: Kind) -> Result<(), darling::Error> {
    let derive = kind.derive();
    let shape_error = |span: Span, what: &str| {
        Err(darling::Error::custom(format!(
            "{derive} needs a struct with named fields, not {what}"
        ))
        .with_span(&span))
    };
    match &input.data {
        syn::Data::Enum(data) => return shape_error(data.enum_token.span, "an enum"),
        syn::Data::Union(data) => return shape_error(data.union_token.span, "a union"),
        syn::Data::Struct(data) => match &data.fields {
            syn::Fields::Named(_) => {}
            syn::Fields::Unnamed(fields) => {
                return shape_error(fields.span(), "a tuple struct");
            }
            syn::Fields::Unit => return shape_error(input.ident.span(), "a unit struct"),
        },
    }
    if let Some(param) = input.generics.params.first() {
        let what = match param {
            syn::GenericParam::Lifetime(_) => "lifetime parameters",
            syn::GenericParam::Type(_) => "type parameters",
            syn::GenericParam::Const(_) => "const parameters",
        };
        return Err(darling::Error::custom(format!(
            "{derive} does not support {what}: an entity owns its data; remove them"
        ))
        .with_span(&input.generics));
    }
    Ok(())
}
