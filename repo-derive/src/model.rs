//! The validated model of one entity. Every check lives here and every error is collected with
//! the span of the offending token, so the user sees all mistakes at once.

use darling::FromDeriveInput;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::attr::{EntityAttrs, FieldAttrs};
use crate::names::{check_identifier, closest, default_table_name};
pub(crate) use crate::names::{
    column_enum_ident, new_ident, repository_trait_ident, sql_repository_ident, upper_camel,
};
pub(crate) use crate::types::Scalar;
pub(crate) use crate::types::option_inner;
use crate::types::{column_type, type_text};

/// How a field's value reaches its column.
pub(crate) enum Mapping {
    /// Through the type's own `ColumnValue`.
    Value,
    /// As JSON through serde (`#[repo(json)]`).
    Json,
    /// Through `module::to_db` / `module::from_db` (`#[repo(with = module)]`).
    With(syn::Path),
}

/// One column of a field: a plain field has one, an embedded value one per leaf.
pub(crate) struct ColumnDef {
    /// The column's name.
    pub name: String,
    /// The Rust path of its value from the entity, `_`-joined: `address_street`; names the
    /// column enum's variant.
    pub path: String,
    /// The Rust path with dots, for error messages: `address.street`.
    pub field: String,
}

/// An embedded value object: `#[repo(embed)] address: Address` or `Option<Address>`.
pub(crate) struct Embed {
    /// `Address`, without the `Option`.
    pub ty: syn::Type,
    /// All columns `NULL` reads as `None`.
    pub optional: bool,
}

/// A column of an embeddable, as its own derive reports it to the embedding one.
#[derive(Clone)]
pub(crate) struct LeafDef {
    /// The column's name without the embedding field's prefix.
    pub column: String,
    /// The Rust path inside the embeddable, dotted: `geo.lat`.
    pub path: String,
}

/// A persisted field.
pub(crate) struct Field {
    pub ident: syn::Ident,
    pub vis: syn::Visibility,
    pub ty: syn::Type,
    pub docs: Vec<syn::Attribute>,
    /// The field name without `r#`.
    pub name: String,
    /// The first (for a plain field, the only) column.
    pub column: String,
    /// Every column, in order.
    pub columns: Vec<ColumnDef>,
    /// `Some` for an embedded value object.
    pub embed: Option<Embed>,
    pub scalar: Scalar,
    pub nullable: bool,
    pub mapping: Mapping,
    /// Redacted from `Debug` and errors (`#[repo(sensitive)]`).
    pub sensitive: bool,
    /// The domain type's field this one maps to (with `domain = ...`).
    pub domain_field: syn::Ident,
    /// `domain_with = module`: a fallible conversion to and from the domain field.
    pub domain_with: Option<syn::Path>,
    pub id: bool,
    /// A valid `generated` key (the flag is kept for error spans).
    pub generated: bool,
    pub generated_flag: darling::util::Flag,
}

/// A field marked `skip`.
pub(crate) struct Skipped {
    pub ident: syn::Ident,
    pub ty: syn::Type,
}

/// A unique key or index over fields, by position in `Entity::fields`.
pub(crate) struct KeyDef {
    pub name: String,
    pub fields: Vec<usize>,
}

pub(crate) struct Entity {
    pub ident: syn::Ident,
    pub vis: syn::Visibility,
    pub krate: syn::Path,
    pub table: String,
    pub fields: Vec<Field>,
    pub skipped: Vec<Skipped>,
    /// Key fields, in declaration order.
    pub key: Vec<usize>,
    pub primary_key_name: String,
    pub unique: Vec<KeyDef>,
    pub indexes: Vec<KeyDef>,
    /// `domain = path`: the domain type the repository speaks.
    pub domain: Option<syn::Path>,
}

impl Entity {
    /// Every column, embedded values' included, in order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.fields.iter().flat_map(|field| field.columns.iter())
    }

    /// Whether any field is an embedded value object.
    pub(crate) fn has_embedded(&self) -> bool {
        self.fields.iter().any(|field| field.embed.is_some())
    }

    /// Whether any field is `sensitive`: the derive then writes the `Debug` impls itself.
    pub(crate) fn has_sensitive(&self) -> bool {
        self.fields.iter().any(|field| field.sensitive)
    }

    pub(crate) fn generated(&self) -> Option<&Field> {
        self.fields.iter().find(|field| field.generated)
    }

    pub(crate) fn key_fields(&self) -> impl Iterator<Item = &Field> {
        self.key.iter().map(|&i| &self.fields[i])
    }

    pub(crate) fn non_key_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| !field.id)
    }

    /// The fields `insert` takes: all but the generated key.
    pub(crate) fn insert_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| !field.generated)
    }
}

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
fn check_embeddable_attributes(attrs: &EntityAttrs, errors: &mut darling::error::Accumulator) {
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
    if let darling::ast::Data::Struct(fields) = &attrs.data {
        for field in &fields.fields {
            for (flag, word) in [
                (&field.id, "id"),
                (&field.generated, "generated"),
                (&field.unique, "unique"),
                (&field.index, "index"),
            ] {
                if flag.is_present() {
                    refuse(flag.span(), word);
                }
            }
        }
    }
}

/// Checks the shape of the input before the attributes are read.
fn check_shape(input: &syn::DeriveInput, kind: Kind) -> Result<(), darling::Error> {
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

/// Reads and validates the entity. `embeds` holds the columns of each embedded field, in
/// declaration order, as their `Embeddable` derives reported them.
pub(crate) fn parse(
    input: &syn::DeriveInput,
    embeds: &[Vec<LeafDef>],
    kind: Kind,
) -> Result<Entity, darling::Error> {
    check_shape(input, kind)?;
    let attrs = EntityAttrs::from_derive_input(input)?;
    let mut embeds = embeds.iter();
    let mut errors = darling::Error::accumulator();
    if kind == Kind::Embeddable {
        check_embeddable_attributes(&attrs, &mut errors);
    }

    let krate = attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::repo_runtime));
    let (table, table_span) = match &attrs.table {
        Some(table) => (table.as_str().to_owned(), table.span()),
        None => (default_table_name(&attrs.ident), attrs.ident.span()),
    };
    // Names derived from an invalid table name would only repeat its error.
    let names_valid = check_identifier(&table, "table name", table_span, &mut errors);

    let field_attrs = attrs
        .data
        .take_struct()
        .map(|fields| fields.fields)
        .unwrap_or_default();
    let mut fields = Vec::new();
    let mut skipped = Vec::new();
    let mut single_unique = Vec::new();
    let mut single_index = Vec::new();
    for field in field_attrs {
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
            embed,
            prefix,
            with,
            domain_field,
            domain_with,
        } = field;
        if attrs.domain.is_none() {
            let stray = domain_field
                .as_ref()
                .map(Spanned::span)
                .or(domain_with.as_ref().map(Spanned::span));
            if let Some(span) = stray {
                errors.push(
                    darling::Error::custom(
                        "`domain_field` and `domain_with` need #[repo(domain = path::to::Type)] on the struct",
                    )
                    .with_span(&span),
                );
            }
        }
        let Some(ident) = ident else { continue };
        let name = ident.unraw().to_string();
        if skip.is_present() {
            for (flag, word) in [
                (&id, "id"),
                (&generated, "generated"),
                (&unique, "unique"),
                (&index, "index"),
                (&json, "json"),
                (&sensitive, "sensitive"),
                (&embed, "embed"),
            ] {
                if flag.is_present() {
                    errors.push(
                        darling::Error::custom(format!(
                            "`{word}` has no effect on a skipped field: remove `skip` or `{word}`"
                        ))
                        .with_span(&flag.span()),
                    );
                }
            }
            if let Some(column) = &column {
                errors.push(
                    darling::Error::custom(
                        "a skipped field has no column: remove `skip` or `column`",
                    )
                    .with_span(&column.span()),
                );
            }
            if let Some(with) = &with {
                errors.push(
                    darling::Error::custom(
                        "a skipped field has no column to convert: remove `skip` or `with`",
                    )
                    .with_span(with),
                );
            }
            skipped.push(Skipped { ident, ty });
            continue;
        }
        let (column_name, column_span) = match &column {
            Some(column) => (column.as_str().to_owned(), column.span()),
            None => (name.clone(), ident.span()),
        };
        if !check_identifier(&column_name, "column name", column_span, &mut errors) {
            continue;
        }
        let (scalar, nullable) = column_type(&ty);
        let mapping = match (json.is_present(), with) {
            (true, Some(with)) => {
                errors.push(
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
        if id.is_present() && json.is_present() {
            errors.push(
                darling::Error::custom(format!(
                    "key field `{name}` cannot be stored as JSON: JSON does not compare as a key"
                ))
                .with_span(&json.span()),
            );
        }
        if id.is_present() && nullable {
            errors.push(
                darling::Error::custom(format!(
                    "key field `{name}` cannot be an Option: a key is never NULL"
                ))
                .with_span(&ty),
            );
        }
        if id.is_present() && scalar.is_float() {
            errors.push(
                darling::Error::custom(format!(
                    "key field `{name}` cannot be a float: floats do not compare exactly; use an integer or a String"
                ))
                .with_span(&ty),
            );
        }
        if generated.is_present() {
            if !id.is_present() {
                errors.push(
                    darling::Error::custom(
                        "`generated` marks a database-assigned key: add `id` to this field, or remove `generated`",
                    )
                    .with_span(&generated.span()),
                );
            } else if !scalar.is_integer() || nullable {
                errors.push(
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
                errors.push(
                    darling::Error::custom("a key field is already unique: remove `unique`")
                        .with_span(&unique.span()),
                );
            } else {
                single_unique.push((fields.len(), unique.span()));
            }
        }
        if index.is_present() {
            single_index.push(fields.len());
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
                    errors.push(
                        darling::Error::custom(format!(
                            "`{word}` cannot be combined with `embed`: an embedded value spans several columns"
                        ))
                        .with_span(&embed.span()),
                    );
                }
            }
            let prefix = prefix.map_or_else(|| format!("{name}_"), |prefix| prefix.to_string());
            let leaves = embeds.next().cloned().unwrap_or_default();
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
                    &mut errors,
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
                errors.push(
                    darling::Error::custom(
                        "`prefix` names embedded columns: add `embed` or remove it",
                    )
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
        let domain_field = domain_field.unwrap_or_else(|| ident.clone());
        fields.push(Field {
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
            sensitive: sensitive.is_present(),
            domain_field,
            domain_with,
            id: id.is_present(),
            generated: generated.is_present()
                && id.is_present()
                && scalar.is_integer()
                && !nullable,
            generated_flag: generated,
        });
    }

    // Duplicate columns after renaming, and variants of the column enum.
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

    let key: Vec<usize> = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.id)
        .map(|(i, _)| i)
        .collect();
    if key.is_empty() && !fields.is_empty() && kind == Kind::Entity {
        errors.push(
            darling::Error::custom(format!(
                "`{}` has no key: mark its key field with #[repo(id)] (several fields for a composite key)",
                attrs.ident
            ))
            .with_span(&attrs.ident),
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
    if fields.is_empty() {
        errors.push(
            darling::Error::custom(match kind {
                Kind::Entity => "an entity needs at least one persisted field",
                Kind::Embeddable => "an embeddable value needs at least one persisted field",
            })
            .with_span(&attrs.ident),
        );
    } else if fields.iter().all(|field| field.generated) {
        errors.push(
            darling::Error::custom(
                "an entity needs a column besides its generated key, or nothing can be inserted",
            )
            .with_span(&attrs.ident),
        );
    }

    let mut resolve = |list: &darling::util::SpannedValue<darling::util::PathList>, what: &str| {
        let mut positions = Vec::new();
        for path in list.iter() {
            let wanted = path.get_ident().map(|ident| ident.unraw().to_string());
            match wanted
                .as_deref()
                .and_then(|w| fields.iter().position(|f| f.name == w))
            {
                Some(position) if fields[position].embed.is_some() => errors.push(
                    darling::Error::custom(format!(
                        "an embedded value cannot be in `{what}`: it spans several columns"
                    ))
                    .with_span(path),
                ),
                Some(position) if !positions.contains(&position) => positions.push(position),
                Some(_) => errors.push(
                    darling::Error::custom(format!("field listed twice in `{what}`"))
                        .with_span(path),
                ),
                None => {
                    let wanted = wanted.unwrap_or_default();
                    let skipped_field = skipped.iter().any(|s| s.ident.unraw() == wanted);
                    let message = if skipped_field {
                        format!("`{wanted}` is skipped and has no column: it cannot be in `{what}`")
                    } else {
                        let names = fields.iter().map(|f| f.name.as_str());
                        match closest(&wanted, names) {
                            Some(close) => {
                                format!("no persisted field `{wanted}`; did you mean `{close}`?")
                            }
                            None => format!("no persisted field `{wanted}` in `{what}`"),
                        }
                    };
                    errors.push(darling::Error::custom(message).with_span(path));
                }
            }
        }
        if list.is_empty() {
            errors.push(
                darling::Error::custom(format!("`{what}` needs at least one field: {what}(a, b)"))
                    .with_span(&list.span()),
            );
        }
        positions
    };
    let composite_unique: Vec<(Vec<usize>, Span)> = attrs
        .unique
        .iter()
        .map(|list| (resolve(list, "unique"), list.span()))
        .collect();
    let composite_index: Vec<Vec<usize>> = attrs
        .index
        .iter()
        .map(|list| resolve(list, "index"))
        .collect();

    let column_names = |positions: &[usize]| -> Vec<&str> {
        positions
            .iter()
            .map(|&i| fields[i].column.as_str())
            .collect()
    };
    let mut unique = Vec::new();
    for (positions, span) in single_unique
        .into_iter()
        .map(|(i, span)| (vec![i], span))
        .chain(composite_unique)
        .filter(|(positions, _)| !positions.is_empty())
    {
        let name = format!("{table}_{}_key", column_names(&positions).join("_"));
        if names_valid {
            check_identifier(&name, "generated constraint name", span, &mut errors);
        }
        if positions.len() == key.len() && positions.iter().all(|p| key.contains(p)) {
            errors.push(
                darling::Error::custom("this unique key repeats the primary key: remove it")
                    .with_span(&span),
            );
        } else if unique.iter().any(|existing: &KeyDef| existing.name == name) {
            errors
                .push(darling::Error::custom("this unique key is declared twice").with_span(&span));
        } else {
            unique.push(KeyDef {
                name,
                fields: positions,
            });
        }
    }
    let mut indexes = Vec::new();
    for positions in single_index
        .into_iter()
        .map(|i| vec![i])
        .chain(composite_index)
    {
        if positions.is_empty() {
            continue;
        }
        let name = format!("{table}_{}_idx", column_names(&positions).join("_"));
        if names_valid {
            check_identifier(
                &name,
                "generated index name",
                attrs.ident.span(),
                &mut errors,
            );
        }
        if !indexes
            .iter()
            .any(|existing: &KeyDef| existing.name == name)
        {
            indexes.push(KeyDef {
                name,
                fields: positions,
            });
        }
    }
    let primary_key_name = format!("{table}_pkey");
    if names_valid && kind == Kind::Entity {
        check_identifier(
            &primary_key_name,
            "generated primary key name",
            attrs.ident.span(),
            &mut errors,
        );
    }

    errors.finish()?;
    Ok(Entity {
        ident: attrs.ident,
        vis: attrs.vis,
        krate,
        table,
        fields,
        skipped,
        key,
        primary_key_name,
        unique,
        indexes,
        domain: attrs.domain,
    })
}
