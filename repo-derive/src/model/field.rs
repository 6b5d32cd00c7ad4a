//! One field of an entity or embeddable: its attribute, checked and turned into a [`Field`]
//! (or a [`Skipped`] one). Errors go to the shared accumulator with the offending span.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::schema_attrs::{self, FieldShape, SchemaAttrs, Special};
use super::{ColumnDef, Embed, Field, LeafDef, Mapping, Policy, Skipped};
use crate::attr::FieldAttrs;
use crate::names::check_identifier;
use crate::types::{Scalar, column_type, option_inner, type_text};

/// What the fields share while they are read one by one.
pub(super) struct FieldContext<'a> {
    pub errors: &'a mut darling::error::Accumulator,
    /// The columns of each embedded field, in declaration order.
    pub embeds: std::slice::Iter<'a, Vec<LeafDef>>,
    /// Whether the struct has `domain = ...`.
    pub has_domain: bool,
}

/// A field read: persisted (with its single-column unique key and index, if any) or skipped.
pub(super) enum Parsed {
    Field {
        field: Box<Field>,
        unique: Option<Span>,
        index: bool,
    },
    Skipped(Box<Skipped>),
}

/// Reads one field; `None` when it is too broken to keep (its errors are recorded).
pub(super) fn parse_field(field: FieldAttrs, ctx: &mut FieldContext<'_>) -> Option<Parsed> {
    let mut unique_span = None;
    let mut in_index = false;
    let FieldAttrs {
        ident,
        vis,
        ty,
        attrs: docs,
        id,
        generated,
        unique,
        index,
        skip,
        column,
        json,
        sensitive,
        encrypted,
        embed,
        prefix,
        with,
        domain_field,
        domain_with,
        domain_skip,
        default,
        renamed_from,
        references,
        on_delete,
        relation,
        version,
        created_at,
        updated_at,
        deleted_at,
        created_by,
        updated_by,
        tenant,
        row_level_security,
    } = field;
    let policy = read_policy(
        [
            (version, Policy::Version),
            (created_at, Policy::CreatedAt),
            (updated_at, Policy::UpdatedAt),
            (deleted_at, Policy::DeletedAt),
            (created_by, Policy::CreatedBy),
            (updated_by, Policy::UpdatedBy),
            (tenant, Policy::Tenant),
        ],
        ctx.errors,
    );
    if row_level_security.is_present() && !tenant.is_present() {
        ctx.errors.push(
            darling::Error::custom(
                "`row_level_security` scopes the table by its tenant: add `tenant` to this field",
            )
            .with_span(&row_level_security.span()),
        );
    }
    let schema_attrs = SchemaAttrs {
        default,
        renamed_from,
        references,
        on_delete,
        relation,
    };
    if !ctx.has_domain {
        let stray = domain_field
            .as_ref()
            .map(Spanned::span)
            .or(domain_with.as_ref().map(Spanned::span))
            .or(domain_skip.is_present().then(|| domain_skip.span()));
        if let Some(span) = stray {
            ctx.errors.push(
                darling::Error::custom(
                    "`domain_field`, `domain_with` and `domain_skip` need #[repo(domain = path::to::Type)] on the struct",
                )
                .with_span(&span),
            );
        }
    }
    let ident = ident?;
    let name = ident.unraw().to_string();
    if skip.is_present() {
        for (flag, word) in [
            (&id, "id"),
            (&generated, "generated"),
            (&unique, "unique"),
            (&index, "index"),
            (&json, "json"),
            (&sensitive, "sensitive"),
            (&encrypted, "encrypted"),
            (&embed, "embed"),
        ] {
            if flag.is_present() {
                ctx.errors.push(
                    darling::Error::custom(format!(
                        "`{word}` has no effect on a skipped field: remove `skip` or `{word}`"
                    ))
                    .with_span(&flag.span()),
                );
            }
        }
        if let Some((policy, span)) = policy {
            ctx.errors.push(
                darling::Error::custom(format!(
                    "a skipped field has no column for the library to keep: remove `skip` or `{}`",
                    policy.attribute()
                ))
                .with_span(&span),
            );
        }
        if let Some(column) = &column {
            ctx.errors.push(
                darling::Error::custom("a skipped field has no column: remove `skip` or `column`")
                    .with_span(&column.span()),
            );
        }
        if let Some(with) = &with {
            ctx.errors.push(
                darling::Error::custom(
                    "a skipped field has no column to convert: remove `skip` or `with`",
                )
                .with_span(with),
            );
        }
        let shape = FieldShape {
            column: &name,
            scalar: Scalar::Other,
            nullable: true,
            special: Some(Special::Skip),
        };
        schema_attrs::check(schema_attrs, &shape, ctx.errors);
        return Some(Parsed::Skipped(Box::new(Skipped { ident, ty })));
    }
    let (column_name, column_span) = match &column {
        Some(column) => (column.as_str().to_owned(), column.span()),
        None => (name.clone(), ident.span()),
    };
    if !check_identifier(&column_name, "column name", column_span, ctx.errors) {
        return None;
    }
    let (scalar, nullable) = column_type(&ty);
    let mapping = match (json.is_present(), with) {
        (true, Some(with)) => {
            ctx.errors.push(
                darling::Error::custom(
                    "a field is stored either as JSON or through `with`: remove one",
                )
                .with_span(&with),
            );
            Mapping::Json
        }
        (true, None) => Mapping::Json,
        (false, Some(with)) => Mapping::With(with),
        (false, None) => Mapping::Value,
    };
    let mapping = if encrypted.is_present() {
        let policy_word = policy.map_or("", |(policy, _)| policy.attribute());
        for (conflict, word) in [
            (id.is_present(), "id"),
            (generated.is_present(), "generated"),
            (embed.is_present(), "embed"),
            (!matches!(mapping, Mapping::Value), "json` or `with"),
            (policy.is_some(), policy_word),
        ] {
            if conflict {
                ctx.errors.push(
                    darling::Error::custom(format!(
                        "`encrypted` cannot be combined with `{word}`: an encrypted field is \
                         a plain value the application gives, stored as ciphertext"
                    ))
                    .with_span(&encrypted.span()),
                );
            }
        }
        // The blind index is decided once the keys are known.
        Mapping::Encrypted { blind_index: None }
    } else {
        mapping
    };
    if id.is_present() && json.is_present() {
        ctx.errors.push(
            darling::Error::custom(format!(
                "key field `{name}` cannot be stored as JSON: JSON does not compare as a key"
            ))
            .with_span(&json.span()),
        );
    }
    if id.is_present() && nullable {
        ctx.errors.push(
            darling::Error::custom(format!(
                "key field `{name}` cannot be an Option: a key is never NULL"
            ))
            .with_span(&ty),
        );
    }
    if id.is_present() && scalar.is_float() {
        ctx.errors.push(
            darling::Error::custom(format!(
                "key field `{name}` cannot be a float: floats do not compare exactly; use an integer or a String"
            ))
            .with_span(&ty),
        );
    }
    if generated.is_present() {
        if !id.is_present() {
            ctx.errors.push(
                darling::Error::custom(
                    "`generated` marks a database-assigned key: add `id` to this field, or remove `generated`",
                )
                .with_span(&generated.span()),
            );
        } else if !scalar.is_integer() || nullable {
            ctx.errors.push(
                darling::Error::custom(format!(
                    "`generated` needs an integer key (i16, i32 or i64), but `{name}` is `{}`",
                    type_text(&ty)
                ))
                .with_span(&generated.span()),
            );
        }
    }
    if unique.is_present() {
        if id.is_present() {
            ctx.errors.push(
                darling::Error::custom("a key field is already unique: remove `unique`")
                    .with_span(&unique.span()),
            );
        } else {
            unique_span = Some(unique.span());
        }
    }
    if index.is_present() {
        in_index = true;
    }
    let (columns, embed) = if embed.is_present() {
        for (conflict, word) in [
            (id.is_present(), "id"),
            (generated.is_present(), "generated"),
            (unique.is_present(), "unique"),
            (index.is_present(), "index"),
            (!matches!(mapping, Mapping::Value), "json` or `with"),
            (column.is_some(), "column"),
            (sensitive.is_present(), "sensitive"),
        ] {
            if conflict {
                ctx.errors.push(
                    darling::Error::custom(format!(
                        "`{word}` cannot be combined with `embed`: an embedded value spans several columns"
                    ))
                    .with_span(&embed.span()),
                );
            }
        }
        let prefix = prefix.map_or_else(|| format!("{name}_"), |prefix| prefix.to_string());
        let leaves = ctx.embeds.next().cloned().unwrap_or_default();
        let columns = leaves
            .iter()
            .map(|leaf| ColumnDef {
                name: format!("{prefix}{}", leaf.column),
                path: format!("{name}_{}", leaf.path.replace('.', "_")),
                field: format!("{name}.{}", leaf.path),
            })
            .collect::<Vec<_>>();
        for column in &columns {
            check_identifier(
                &column.name,
                "embedded column name",
                embed.span(),
                ctx.errors,
            );
        }
        let optional = option_inner(&ty).is_some();
        let inner = option_inner(&ty).unwrap_or(&ty).clone();
        (
            columns,
            Some(Embed {
                ty: inner,
                optional,
            }),
        )
    } else {
        if let Some(prefix) = &prefix {
            ctx.errors.push(
                darling::Error::custom("`prefix` names embedded columns: add `embed` or remove it")
                    .with_span(&prefix.span()),
            );
        }
        let column = ColumnDef {
            name: column_name.clone(),
            path: name.clone(),
            field: name.clone(),
        };
        (vec![column], None)
    };
    if let Some((policy, span)) = policy {
        for (conflict, word) in [
            // A tenant may be part of a composite key: the key of a row within its tenant.
            (id.is_present() && policy != Policy::Tenant, "id"),
            (embed.is_some(), "embed"),
            // `encrypted` reports its own conflict with the policy.
            (
                matches!(mapping, Mapping::Json | Mapping::With(_)),
                "json` or `with",
            ),
        ] {
            if conflict {
                ctx.errors.push(
                    darling::Error::custom(format!(
                        "`{}` is a column the library writes itself: it cannot be combined with `{word}`",
                        policy.attribute()
                    ))
                    .with_span(&span),
                );
            }
        }
    }
    let special = if embed.is_some() {
        Some(Special::Embed)
    } else if generated.is_present() {
        Some(Special::Generated)
    } else {
        match mapping {
            Mapping::Json => Some(Special::Json),
            Mapping::With(_) => Some(Special::With),
            Mapping::Encrypted { .. } => Some(Special::Encrypted),
            Mapping::Value => None,
        }
    };
    let shape = FieldShape {
        column: &column_name,
        scalar,
        nullable,
        special,
    };
    let schema = schema_attrs::check(schema_attrs, &shape, ctx.errors);
    let domain_field = domain_field.unwrap_or_else(|| ident.clone());
    Some(Parsed::Field {
        unique: unique_span,
        index: in_index,
        field: Box::new(Field {
            ident,
            vis,
            ty,
            docs,
            name,
            column: column_name,
            columns,
            embed,
            scalar,
            nullable,
            mapping,
            sensitive: sensitive.is_present() || encrypted.is_present(),
            domain_field,
            domain_with,
            in_domain: !domain_skip.is_present(),
            id: id.is_present(),
            generated: generated.is_present()
                && id.is_present()
                && scalar.is_integer()
                && !nullable,
            generated_flag: generated,
            default: schema.default,
            renamed_from: schema.renamed_from,
            references: schema.references,
            policy,
            row_level_security: row_level_security.is_present(),
        }),
    })
}

/// The policy the field's flags declare: at most one (the others are errors at their flag).
fn read_policy(
    flags: [(darling::util::Flag, Policy); 7],
    errors: &mut darling::error::Accumulator,
) -> Option<(Policy, Span)> {
    let mut declared: Option<(Policy, Span)> = None;
    for (flag, policy) in flags {
        if !flag.is_present() {
            continue;
        }
        match declared {
            Some((first, _)) => errors.push(
                darling::Error::custom(format!(
                    "a field keeps one policy: `{}` is already declared on it",
                    first.attribute()
                ))
                .with_span(&flag.span()),
            ),
            None => declared = Some((policy, flag.span())),
        }
    }
    declared
}
