//! The rules a struct's persisted fields must follow, one function each (in the manner of
//! serde's `internals/check.rs`). Each pushes its errors, spanned at the offending token, and
//! returns nothing: every rule runs, so one build reports every mistake.

use darling::error::Accumulator;

use super::{ColumnDef, Field, Policy, upper_camel};

/// Two fields may not share a column, nor a variant of the column enum, after renaming and
/// prefixing embedded values.
pub(super) fn distinct_columns(fields: &[Field], errors: &mut Accumulator) {
    let all_columns: Vec<(&Field, &ColumnDef)> = fields
        .iter()
        .flat_map(|field| field.columns.iter().map(move |column| (field, column)))
        .collect();
    for (i, (field, column)) in all_columns.iter().enumerate() {
        if let Some((_, first_column)) = all_columns[..i]
            .iter()
            .find(|(_, other)| other.name == column.name)
        {
            let embedded = column.field.contains('.') || first_column.field.contains('.');
            let fix = if embedded {
                "#[repo(column = \"...\")] or #[repo(prefix = \"...\")]"
            } else {
                "#[repo(column = \"...\")]"
            };
            errors.push(
                darling::Error::custom(format!(
                    "column `{}` of field `{}` is already used by field `{}`: rename one with {fix}",
                    column.name, column.field, first_column.field
                ))
                .with_span(&field.ident),
            );
        } else if let Some((_, first_column)) = all_columns[..i]
            .iter()
            .find(|(_, other)| upper_camel(&other.path) == upper_camel(&column.path))
        {
            errors.push(
                darling::Error::custom(format!(
                    "fields `{}` and `{}` would both be the column enum variant `{}`: rename one",
                    first_column.field,
                    column.field,
                    upper_camel(&column.path)
                ))
                .with_span(&field.ident),
            );
        }
    }
}

/// An entity has a key, and the database generates at most one column of it.
pub(super) fn key(ident: &syn::Ident, fields: &[Field], key: &[usize], errors: &mut Accumulator) {
    if key.is_empty() && !fields.is_empty() {
        errors.push(
            darling::Error::custom(format!(
                "`{ident}` has no key: mark its key field with #[repo(id)] (several fields for a composite key)"
            ))
            .with_span(ident),
        );
    }
    if key.len() > 1 {
        for field in fields.iter().filter(|f| f.generated_flag.is_present()) {
            errors.push(
                darling::Error::custom(
                    "`generated` cannot be used on a composite key: the database generates one column only",
                )
                .with_span(&field.generated_flag.span()),
            );
        }
    }
}

/// A struct persists something: `what` names it in the error (`an entity`, `an embeddable
/// value`).
pub(super) fn has_fields(
    ident: &syn::Ident,
    fields: &[Field],
    what: &str,
    errors: &mut Accumulator,
) {
    if fields.is_empty() {
        errors.push(
            darling::Error::custom(format!("{what} needs at least one persisted field"))
                .with_span(ident),
        );
    }
}

/// An insert writes at least one column: not every column may be generated.
pub(super) fn insertable(ident: &syn::Ident, fields: &[Field], errors: &mut Accumulator) {
    if !fields.is_empty() && fields.iter().all(|field| field.generated) {
        errors.push(
            darling::Error::custom(
                "an entity needs a column besides its generated key, or nothing can be inserted",
            )
            .with_span(ident),
        );
    }
}

/// At most one field per policy: one version, one `created_at`, one `updated_at`. The second
/// is the error, at its attribute.
pub(super) fn one_field_per_policy(fields: &[Field], errors: &mut Accumulator) {
    let mut seen: Vec<(Policy, &str)> = Vec::new();
    for field in fields {
        let Some((policy, span)) = field.policy else {
            continue;
        };
        match seen.iter().find(|(kept, _)| *kept == policy) {
            Some((_, first)) => errors.push(
                darling::Error::custom(format!(
                    "`{}` is already kept in `{first}`: an entity has one such field",
                    policy.attribute()
                ))
                .with_span(&span),
            ),
            None => seen.push((policy, &field.name)),
        }
    }
}

/// The tenant field of an entity scoped by tenant: a value every row has, and part of a key of
/// several columns (a key of one column, such as a generated id, is unique across tenants).
pub(super) fn tenant(fields: &[Field], tenant: usize, key: &[usize], errors: &mut Accumulator) {
    let field = &fields[tenant];
    let Some((_, span)) = field.policy else {
        return;
    };
    if field.nullable {
        errors.push(
            darling::Error::custom(
                "every row belongs to a tenant: `tenant` needs a field that is not an `Option`",
            )
            .with_span(&span),
        );
    }
    if key.len() > 1 && !key.contains(&tenant) {
        let first = &fields[key[0]];
        errors.push(
            darling::Error::custom(format!(
                "a key of several columns of an entity scoped by tenant holds within each \
                 tenant: mark `{}` `id` too",
                field.name
            ))
            .with_span(&first.ident),
        );
    }
}
