//! The field attributes that shape only the schema and its migrations: `default`,
//! `renamed_from`, `references` and `on_delete`.

use darling::util::SpannedValue;
use syn::spanned::Spanned;

use crate::names::check_identifier;
use crate::types::Scalar;

/// A checked `default = literal`.
pub(crate) enum DefaultLit {
    Number(String),
    Boolean(bool),
    Text(String),
}

/// A checked `references = Entity` with its `on_delete` action.
pub(crate) struct Reference {
    pub entity: syn::Path,
    /// The `OnDelete` variant: `NoAction`, `Restrict`, `Cascade` or `SetNull`.
    pub on_delete: &'static str,
}

/// The schema attributes of one field, as written.
pub(super) struct SchemaAttrs {
    pub default: Option<syn::Lit>,
    pub renamed_from: Option<SpannedValue<String>>,
    pub references: Option<syn::Path>,
    pub on_delete: Option<SpannedValue<String>>,
}

/// What kind of field carries the attributes, for the checks that depend on it.
pub(super) struct FieldShape<'a> {
    pub column: &'a str,
    pub scalar: Scalar,
    pub nullable: bool,
    /// `Some(word)` when the field is `skip`, `embed`, `json`, `with` or `generated`.
    pub special: Option<&'static str>,
}

/// The checked attributes.
pub(super) struct Checked {
    pub default: Option<DefaultLit>,
    pub renamed_from: Option<String>,
    pub references: Option<Reference>,
}

pub(super) fn check(
    attrs: SchemaAttrs,
    field: &FieldShape<'_>,
    errors: &mut darling::error::Accumulator,
) -> Checked {
    let SchemaAttrs {
        default,
        renamed_from,
        references,
        on_delete,
    } = attrs;
    let default = default.and_then(|lit| match field.special {
        Some(word @ ("skip" | "embed" | "generated")) => {
            error(
                errors,
                lit.span(),
                format!("a `{word}` field takes no `default`: remove it"),
            );
            None
        }
        _ => match default_literal(&lit, field.scalar) {
            Ok(default) => Some(default),
            Err(message) => {
                error(errors, lit.span(), message);
                None
            }
        },
    });
    let renamed_from = renamed_from.and_then(|old| match field.special {
        Some(word @ ("skip" | "embed")) => {
            error(
                errors,
                old.span(),
                format!("a `{word}` field has no column to rename: remove `renamed_from`"),
            );
            None
        }
        _ if old.as_str() == field.column => {
            error(
                errors,
                old.span(),
                format!(
                    "`renamed_from` names the column's current name `{}`: give the previous one",
                    field.column
                ),
            );
            None
        }
        _ => check_identifier(&old, "previous column name", old.span(), errors)
            .then(|| old.to_string()),
    });
    let action = on_delete.as_ref().and_then(|action| {
        let variant = match action.as_str() {
            "no_action" => "NoAction",
            "restrict" => "Restrict",
            "cascade" => "Cascade",
            "set_null" => "SetNull",
            other => {
                error(
                errors,
                    action.span(),
                    format!("unknown `on_delete` action `{other}`: use \"cascade\", \"set_null\", \"restrict\" or \"no_action\""),
                );
                return None;
            }
        };
        if variant == "SetNull" && !field.nullable {
            error(
                errors,
                action.span(),
                "`on_delete = \"set_null\"` needs a nullable field: make it an Option".to_owned(),
            );
        }
        Some(variant)
    });
    if let (Some(action), None) = (&on_delete, &references) {
        error(
            errors,
            action.span(),
            "`on_delete` belongs to a foreign key: add `references = Entity`".to_owned(),
        );
    }
    let references = references.and_then(|entity| match field.special {
        Some(word @ ("skip" | "embed" | "json" | "with")) => {
            error(
                errors,
                entity.span(),
                format!("a `{word}` field cannot be a foreign key: `references` needs a plain key-typed field"),
            );
            None
        }
        _ => Some(Reference {
            entity,
            on_delete: action.unwrap_or("NoAction"),
        }),
    });
    Checked {
        default,
        renamed_from,
        references,
    }
}

fn error(errors: &mut darling::error::Accumulator, span: proc_macro2::Span, message: String) {
    errors.push(darling::Error::custom(message).with_span(&span));
}

/// The `DEFAULT` of `lit` for a field of `scalar`, or why it does not fit.
fn default_literal(lit: &syn::Lit, scalar: Scalar) -> Result<DefaultLit, String> {
    let text = |value: String| {
        if value.contains('\0') {
            Err("a `default` cannot contain a NUL character".to_owned())
        } else {
            Ok(DefaultLit::Text(value))
        }
    };
    match (lit, scalar) {
        (_, Scalar::Bytes) => {
            Err("a byte column takes no `default`: write it in a migration of your own".to_owned())
        }
        (syn::Lit::Int(int), _)
            if scalar.is_integer() || scalar.is_float() || scalar == Scalar::Other =>
        {
            Ok(DefaultLit::Number(int.base10_digits().to_owned()))
        }
        (syn::Lit::Float(float), _) if scalar.is_float() || scalar == Scalar::Other => {
            Ok(DefaultLit::Number(float.base10_digits().to_owned()))
        }
        (syn::Lit::Bool(value), Scalar::Bool | Scalar::Other) => {
            Ok(DefaultLit::Boolean(value.value))
        }
        (syn::Lit::Str(value), _) if scalar.is_integer() => match value.value().parse::<i64>() {
            Ok(number) => Ok(DefaultLit::Number(number.to_string())),
            Err(_) => Err(format!("`default = {:?}` is not an integer", value.value())),
        },
        (syn::Lit::Str(value), _) if scalar.is_float() => match value.value().parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(DefaultLit::Number(value.value())),
            _ => Err(format!(
                "`default = {:?}` is not a finite number",
                value.value()
            )),
        },
        (syn::Lit::Str(value), Scalar::Bool) => match value.value().as_str() {
            "true" => Ok(DefaultLit::Boolean(true)),
            "false" => Ok(DefaultLit::Boolean(false)),
            _ => Err("a bool field takes `default = true` or `default = false`".to_owned()),
        },
        (syn::Lit::Str(value), Scalar::String | Scalar::Other) => text(value.value()),
        (syn::Lit::Int(_) | syn::Lit::Float(_) | syn::Lit::Bool(_), Scalar::String) => {
            Err("a String field takes a string `default`: `default = \"...\"`".to_owned())
        }
        (syn::Lit::Float(_), _) if scalar.is_integer() => {
            Err("an integer field takes an integer `default`".to_owned())
        }
        (syn::Lit::Int(_) | syn::Lit::Float(_), Scalar::Bool) => {
            Err("a bool field takes `default = true` or `default = false`".to_owned())
        }
        (syn::Lit::Bool(_), _) => Err("only a bool field takes a boolean `default`".to_owned()),
        _ => Err("`default` takes a string, number or boolean literal".to_owned()),
    }
}
