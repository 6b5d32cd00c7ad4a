//! The field attributes that shape only the schema and its migrations: `default`,
//! `renamed_from`, `references` and `on_delete`.

use darling::FromMeta;
use darling::util::SpannedValue;
use syn::spanned::Spanned;

use crate::attr::OnDelete;
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
    pub on_delete: OnDelete,
    /// `relation = name`: the belongs-to relation's name, when not the field's without `_id`.
    pub relation: Option<syn::Ident>,
}

/// The schema attributes of one field, as written.
pub(super) struct SchemaAttrs {
    pub default: Option<syn::Lit>,
    pub renamed_from: Option<SpannedValue<String>>,
    pub references: Option<syn::Path>,
    pub on_delete: Option<SpannedValue<String>>,
    pub relation: Option<syn::Ident>,
}

/// A field that is not a plain column value: what the schema attributes may not apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Special {
    Skip,
    Embed,
    Generated,
    Json,
    With,
    Encrypted,
}

impl Special {
    /// `a` or `an`, before [`Special::word`].
    fn article(self) -> &'static str {
        match self {
            Special::Embed | Special::Encrypted => "an",
            _ => "a",
        }
    }

    /// The attribute that made the field special, for messages.
    fn word(self) -> &'static str {
        match self {
            Special::Skip => "skip",
            Special::Embed => "embed",
            Special::Generated => "generated",
            Special::Json => "json",
            Special::With => "with",
            Special::Encrypted => "encrypted",
        }
    }
}

/// What kind of field carries the attributes, for the checks that depend on it.
pub(super) struct FieldShape<'a> {
    pub column: &'a str,
    pub scalar: Scalar,
    pub nullable: bool,
    pub special: Option<Special>,
}

/// The checked attributes.
pub(super) struct Checked {
    pub default: Option<DefaultLit>,
    pub renamed_from: Option<String>,
    pub references: Option<Reference>,
}

/// Checks the schema attributes of one field, collecting every error.
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
        relation,
    } = attrs;
    let on_delete = check_on_delete(on_delete, references.is_some(), field, errors);
    if let (Some(relation), None) = (&relation, &references) {
        let message = "`relation` names the relation of a foreign key: add `references = Entity`";
        error(errors, relation.span(), message.to_owned());
    }
    Checked {
        default: default.and_then(|lit| check_default(lit, field, errors)),
        renamed_from: renamed_from.and_then(|old| check_renamed_from(&old, field, errors)),
        references: references
            .and_then(|entity| check_references(entity, on_delete, relation, field, errors)),
    }
}

/// A `default` is a literal of the field's column type, on a field that has a column the
/// database fills: not a skipped, embedded or generated one.
fn check_default(
    lit: syn::Lit,
    field: &FieldShape<'_>,
    errors: &mut darling::error::Accumulator,
) -> Option<DefaultLit> {
    if let Some(
        special @ (Special::Skip | Special::Embed | Special::Generated | Special::Encrypted),
    ) = field.special
    {
        let (article, word) = (special.article(), special.word());
        error(
            errors,
            lit.span(),
            format!("{article} `{word}` field takes no `default`: remove it"),
        );
        return None;
    }
    default_literal(&lit, field.scalar)
        .map_err(|message| error(errors, lit.span(), message))
        .ok()
}

/// `renamed_from` names a previous column: the field has one column, and the name is a valid
/// identifier other than the current one.
fn check_renamed_from(
    old: &SpannedValue<String>,
    field: &FieldShape<'_>,
    errors: &mut darling::error::Accumulator,
) -> Option<String> {
    if let Some(special @ (Special::Skip | Special::Embed)) = field.special {
        let (article, word) = (special.article(), special.word());
        let message =
            format!("{article} `{word}` field has no column to rename: remove `renamed_from`");
        error(errors, old.span(), message);
        return None;
    }
    if field.special == Some(Special::Encrypted) {
        let message = "an `encrypted` field's column cannot be renamed in place (its blind \
                       index is keyed by the name): add a field under the new name, copy, then \
                       remove the old one"
            .to_owned();
        error(errors, old.span(), message);
        return None;
    }
    if old.as_str() == field.column {
        let message = format!(
            "`renamed_from` names the column's current name `{}`: give the previous one",
            field.column
        );
        error(errors, old.span(), message);
        return None;
    }
    check_identifier(old, "previous column name", old.span(), errors).then(|| old.to_string())
}

/// `on_delete` belongs to a foreign key, and `set_null` to a nullable one.
fn check_on_delete(
    on_delete: Option<SpannedValue<String>>,
    has_reference: bool,
    field: &FieldShape<'_>,
    errors: &mut darling::error::Accumulator,
) -> OnDelete {
    let Some(written) = on_delete else {
        return OnDelete::NoAction;
    };
    let action = match OnDelete::from_string(&written) {
        Ok(action) => action,
        Err(error) => {
            errors.push(error.with_span(&written.span()));
            return OnDelete::NoAction;
        }
    };
    if action == OnDelete::SetNull && !field.nullable {
        let message = "`on_delete = \"set_null\"` needs a nullable field: make it an Option";
        error(errors, written.span(), message.to_owned());
    }
    if !has_reference {
        let message = "`on_delete` belongs to a foreign key: add `references = Entity`";
        error(errors, written.span(), message.to_owned());
    }
    action
}

/// A foreign key is a plain key-typed column: not skipped, embedded, JSON or converted.
fn check_references(
    entity: syn::Path,
    on_delete: OnDelete,
    relation: Option<syn::Ident>,
    field: &FieldShape<'_>,
    errors: &mut darling::error::Accumulator,
) -> Option<Reference> {
    if let Some(
        special @ (Special::Skip
        | Special::Embed
        | Special::Json
        | Special::With
        | Special::Encrypted),
    ) = field.special
    {
        let (article, word) = (special.article(), special.word());
        let message = format!(
            "{article} `{word}` field cannot be a foreign key: `references` needs a plain \
             key-typed field"
        );
        error(errors, entity.span(), message);
        return None;
    }
    Some(Reference {
        entity,
        on_delete,
        relation,
    })
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
