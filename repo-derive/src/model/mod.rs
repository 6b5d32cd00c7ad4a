//! The validated model of one entity. Every check lives here and every error is collected with
//! the span of the offending token, so the user sees all mistakes at once.

mod check;
mod field;
mod relations;
mod schema_attrs;
mod shape;

pub(crate) use relations::{Followed, Relation};
pub(crate) use schema_attrs::{DefaultLit, Reference};
pub(crate) use shape::Kind;
use shape::{check_embeddable_attributes, check_shape};

use darling::FromDeriveInput;
use proc_macro2::Span;
use syn::ext::IdentExt;

use crate::attr::EntityAttrs;
use crate::names::{check_identifier, closest, default_table_name};
pub(crate) use crate::names::{
    column_enum_ident, memory_repository_ident, new_ident, patch_ident, reader_trait_ident,
    repository_trait_ident, sql_repository_ident, upper_camel, writer_trait_ident,
};
pub(crate) use crate::types::Scalar;
pub(crate) use crate::types::option_inner;
pub(crate) use repo_sql::Policy;

/// How a field's value reaches its column.
pub(crate) enum Mapping {
    /// Through the type's own `ColumnValue`.
    Value,
    /// As JSON through serde (`#[repo(json)]`).
    Json,
    /// Through `module::to_db` / `module::from_db` (`#[repo(with = module)]`).
    With(syn::Path),
    /// Encrypted (`#[repo(encrypted)]`): ciphertext in the column and, for a field in a unique
    /// key or an index, a blind index in `blind_index`, a second column.
    Encrypted { blind_index: Option<String> },
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
    /// Whether the domain type has it (not `domain_skip`).
    pub in_domain: bool,
    pub id: bool,
    /// A valid `generated` key (the flag is kept for error spans).
    pub generated: bool,
    pub generated_flag: darling::util::Flag,
    /// `default = literal`.
    pub default: Option<DefaultLit>,
    /// `renamed_from = "old"`.
    pub renamed_from: Option<String>,
    /// `references = Entity`.
    pub references: Option<Reference>,
    /// What the library keeps in it (`version`, `created_at`, `updated_at`), with the
    /// attribute's span.
    pub policy: Option<(Policy, Span)>,
    /// Whether PostgreSQL's Row-Level Security scopes the table by this (tenant) field.
    pub row_level_security: bool,
}

impl Field {
    /// The column of an encrypted field's blind index, if it is looked up.
    pub(crate) fn blind_index(&self) -> Option<&str> {
        match &self.mapping {
            Mapping::Encrypted { blind_index } => blind_index.as_deref(),
            _ => None,
        }
    }

    /// The column equality compares: an encrypted field's blind index, else its column.
    pub(crate) fn lookup_column(&self) -> &str {
        self.blind_index().unwrap_or(&self.column)
    }

    /// Whether the field is stored encrypted.
    pub(crate) fn encrypted(&self) -> bool {
        matches!(self.mapping, Mapping::Encrypted { .. })
    }

    /// The policy the library keeps this field under, if any.
    pub(crate) fn policy(&self) -> Option<Policy> {
        self.policy.map(|(policy, _)| policy)
    }

    /// Whether the caller gives this field's value (the library sets a policy field).
    pub(crate) fn given(&self) -> bool {
        self.policy.is_none()
    }

    /// Whether an update writes this field from a bound value (not the version, which moves
    /// in place, nor what the insert set once).
    pub(crate) fn written_by_update(&self) -> bool {
        self.policy().is_none_or(Policy::bound_by_update)
    }
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

/// The struct a field belongs to, as generated code names it: the runtime's path and the
/// struct's name (which errors give).
pub(crate) trait Owner {
    fn krate(&self) -> &syn::Path;
    fn ident(&self) -> &syn::Ident;
    /// The table its fields are stored in; `None` for an embeddable, stored in whichever
    /// embeds it.
    fn table(&self) -> Option<&str>;
}

/// A `#[derive(Embeddable)]` value object: persisted fields, stored as columns of whichever
/// entity embeds it; it has no table, key or constraints of its own.
pub(crate) struct Embeddable {
    pub ident: syn::Ident,
    pub vis: syn::Visibility,
    pub krate: syn::Path,
    pub fields: Vec<Field>,
    pub skipped: Vec<Skipped>,
}

impl Owner for Embeddable {
    fn krate(&self) -> &syn::Path {
        &self.krate
    }

    fn ident(&self) -> &syn::Ident {
        &self.ident
    }

    fn table(&self) -> Option<&str> {
        None
    }
}

impl Owner for Entity {
    fn krate(&self) -> &syn::Path {
        &self.krate
    }

    fn ident(&self) -> &syn::Ident {
        &self.ident
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }
}

/// A `#[derive(Repository)]` struct: its table, fields, keys and constraints.
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
    /// `renamed_from = "old"`: the table's previous name.
    pub renamed_from: Option<String>,
    /// Foreign keys: the constraint's name and the field's position.
    pub foreign_keys: Vec<(String, usize)>,
    /// `port = path`: a `#[port]` trait to implement.
    pub port: Option<syn::Path>,
    /// The belongs-to of each `references` field, then the relations declared on the struct.
    pub relations: Vec<Relation>,
    /// `cache(..)`: how rows read by key are held.
    pub cache: Option<Cache>,
}

/// An entity's `cache` settings.
pub(crate) struct Cache {
    pub capacity: u64,
    pub ttl_ms: u64,
    /// The attribute, where a missing `Clone` or `Hash` is reported.
    pub span: proc_macro2::Span,
}

/// `cache`'s settings, checked: at least one row held, for a time that parses.
fn cache(
    attr: Option<&darling::util::SpannedValue<crate::attr::CacheAttr>>,
    fields: &[Field],
    aggregate_root: bool,
    errors: &mut darling::error::Accumulator,
) -> Option<Cache> {
    let attr = attr?;
    let span = attr.span();
    if aggregate_root {
        errors.push(
            darling::Error::custom(
                "an aggregate root is not cached: its owned children change apart from it",
            )
            .with_span(&span),
        );
    }
    if fields
        .iter()
        .any(|field| field.policy() == Some(Policy::Tenant))
    {
        errors.push(
            darling::Error::custom(
                "an entity scoped by tenant is not cached: the same key reads differently per tenant",
            )
            .with_span(&span),
        );
    }
    let capacity = match &attr.capacity {
        Some(capacity) if **capacity == 0 => {
            errors.push(
                darling::Error::custom("the cache holds at least one row: `capacity = 1` or more")
                    .with_span(&capacity.span()),
            );
            1
        }
        Some(capacity) => **capacity,
        None => 10_000,
    };
    let ttl_ms = match &attr.ttl {
        Some(ttl) => match parse_duration_ms(ttl) {
            Some(ms) if ms > 0 => ms,
            _ => {
                errors.push(
                    darling::Error::custom(
                        "expected a time to live such as \"250ms\", \"30s\", \"5m\" or \"1h\"",
                    )
                    .with_span(&ttl.span()),
                );
                1
            }
        },
        None => 60_000,
    };
    Some(Cache {
        capacity,
        ttl_ms,
        span,
    })
}

/// Milliseconds in `text`: a whole number with the unit `ms`, `s`, `m` or `h`.
fn parse_duration_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    number.checked_mul(scale)
}

impl Entity {
    /// The columns a listing may be ordered by: all but encrypted fields', whose ciphertext
    /// has no order.
    pub(crate) fn orderable_columns(&self) -> impl Iterator<Item = &ColumnDef> {
        self.fields
            .iter()
            .filter(|field| !field.encrypted())
            .flat_map(|field| field.columns.iter())
    }

    /// The encrypted fields, in declaration order.
    pub(crate) fn encrypted_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| field.encrypted())
    }

    /// Whether any field is an embedded value object.
    pub(crate) fn has_embedded(&self) -> bool {
        self.fields.iter().any(|field| field.embed.is_some())
    }

    /// Whether any field is `sensitive`: the derive then writes the `Debug` impls itself.
    pub(crate) fn has_sensitive(&self) -> bool {
        self.fields.iter().any(|field| field.sensitive)
    }

    /// The owned collections (`owns`): the relation and the skipped field holding it.
    pub(crate) fn owned(&self) -> impl Iterator<Item = (&Followed, &Skipped)> {
        self.relations.iter().filter_map(|relation| match relation {
            Relation::Owns { followed, holder } => Some((followed, &self.skipped[*holder])),
            _ => None,
        })
    }

    /// Whether the entity owns children: an aggregate root.
    pub(crate) fn is_aggregate_root(&self) -> bool {
        self.owned().next().is_some()
    }

    /// Whether the skipped field `ident` holds owned children.
    pub(crate) fn holds_owned(&self, ident: &syn::Ident) -> bool {
        self.owned().any(|(_, holder)| holder.ident == *ident)
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

    /// The fields an insert writes: all but the generated key.
    pub(crate) fn insert_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|field| !field.generated)
    }

    /// The fields the caller gives to insert a row: all but the generated key and the policy
    /// fields, which the library sets.
    pub(crate) fn new_fields(&self) -> impl Iterator<Item = &Field> {
        self.insert_fields().filter(|field| field.given())
    }

    /// Whether `insert` takes a `New{Entity}` rather than the entity: without the generated key
    /// or the policy fields.
    pub(crate) fn has_new_struct(&self) -> bool {
        self.fields
            .iter()
            .any(|field| field.generated || !field.given())
    }

    /// The fields a patch may give: outside the key, and not kept by the library.
    pub(crate) fn patch_fields(&self) -> impl Iterator<Item = &Field> {
        self.non_key_fields().filter(|field| field.given())
    }

    /// Whether any field is kept by the library.
    pub(crate) fn has_policies(&self) -> bool {
        self.fields.iter().any(|field| !field.given())
    }

    /// The field kept under `policy`, if any.
    pub(crate) fn policy_field(&self, policy: Policy) -> Option<&Field> {
        self.fields
            .iter()
            .find(|field| field.policy() == Some(policy))
    }
}

/// The fields of a struct as read, before the rules of an entity or an embeddable apply.
struct ReadFields {
    fields: Vec<Field>,
    skipped: Vec<Skipped>,
    /// Positions of fields marked `unique`, with the flag's span.
    single_unique: Vec<(usize, Span)>,
    /// Positions of fields marked `index`.
    single_index: Vec<usize>,
}

/// Reads every field of the struct's `data`; `embeds` holds the columns of each embedded
/// field, in declaration order, as their `Embeddable` derives reported them.
fn read_fields(
    data: darling::ast::Data<darling::util::Ignored, crate::attr::FieldAttrs>,
    has_domain: bool,
    embeds: &[Vec<LeafDef>],
    errors: &mut darling::error::Accumulator,
) -> ReadFields {
    let field_attrs = data
        .take_struct()
        .map(|fields| fields.fields)
        .unwrap_or_default();
    let mut read = ReadFields {
        fields: Vec::new(),
        skipped: Vec::new(),
        single_unique: Vec::new(),
        single_index: Vec::new(),
    };
    let mut ctx = field::FieldContext {
        errors,
        embeds: embeds.iter(),
        has_domain,
    };
    for field in field_attrs {
        match field::parse_field(field, &mut ctx) {
            Some(field::Parsed::Field {
                field,
                unique,
                index,
            }) => {
                if let Some(span) = unique {
                    read.single_unique.push((read.fields.len(), span));
                }
                if index {
                    read.single_index.push(read.fields.len());
                }
                read.fields.push(*field);
            }
            Some(field::Parsed::Skipped(field)) => read.skipped.push(*field),
            None => {}
        }
    }
    read
}

/// The path generated code names the runtime by: `crate = path`, or `::repo_runtime`.
fn runtime_path(attrs: &EntityAttrs) -> syn::Path {
    attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::repo_runtime))
}

/// Reads and validates an embeddable value. `embeds` holds the columns of each nested
/// embeddable, in declaration order.
pub(crate) fn parse_embeddable(
    input: &syn::DeriveInput,
    embeds: &[Vec<LeafDef>],
) -> Result<Embeddable, darling::Error> {
    check_shape(input, Kind::Embeddable)?;
    let attrs = EntityAttrs::from_derive_input(input)?;
    let mut errors = darling::Error::accumulator();
    check_embeddable_attributes(&attrs, &mut errors);
    let krate = runtime_path(&attrs);
    let has_domain = attrs.domain.is_some();
    let ReadFields {
        fields, skipped, ..
    } = read_fields(attrs.data, has_domain, embeds, &mut errors);
    check::distinct_columns(&fields, &mut errors);
    check::has_fields(&attrs.ident, &fields, "an embeddable value", &mut errors);
    errors.finish()?;
    Ok(Embeddable {
        ident: attrs.ident,
        vis: attrs.vis,
        krate,
        fields,
        skipped,
    })
}

/// Reads and validates the entity. `embeds` holds the columns of each embedded field, in
/// declaration order, as their `Embeddable` derives reported them.
pub(crate) fn parse(
    input: &syn::DeriveInput,
    embeds: &[Vec<LeafDef>],
) -> Result<Entity, darling::Error> {
    check_shape(input, Kind::Entity)?;
    let attrs = EntityAttrs::from_derive_input(input)?;
    let mut errors = darling::Error::accumulator();

    let krate = runtime_path(&attrs);
    let (table, table_span) = match &attrs.table {
        Some(table) => (table.as_str().to_owned(), table.span()),
        None => (default_table_name(&attrs.ident), attrs.ident.span()),
    };
    // Names derived from an invalid table name would only repeat its error.
    let names_valid = check_identifier(&table, "table name", table_span, &mut errors);

    let has_domain = attrs.domain.is_some();
    let ReadFields {
        mut fields,
        skipped,
        single_unique,
        single_index,
    } = read_fields(attrs.data, has_domain, embeds, &mut errors);
    let in_composite = |name: &str| {
        attrs.unique.iter().chain(&attrs.index).any(|list| {
            list.iter()
                .any(|path| path.get_ident().is_some_and(|ident| ident.unraw() == name))
        })
    };
    for (position, field) in fields.iter_mut().enumerate() {
        let looked_up = single_unique.iter().any(|(unique, _)| *unique == position)
            || single_index.contains(&position)
            || in_composite(&field.name);
        if let Mapping::Encrypted { blind_index } = &mut field.mapping
            && looked_up
        {
            let name = format!("{}_bidx", field.column);
            check_identifier(
                &name,
                "blind index column name",
                field.ident.span(),
                &mut errors,
            );
            *blind_index = Some(name.clone());
            field.columns.push(ColumnDef {
                name,
                path: format!("{}_bidx", field.name),
                field: field.name.clone(),
            });
        }
    }
    check::distinct_columns(&fields, &mut errors);
    let key: Vec<usize> = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.id)
        .map(|(i, _)| i)
        .collect();
    check::key(&attrs.ident, &fields, &key, &mut errors);
    check::has_fields(&attrs.ident, &fields, "an entity", &mut errors);
    check::insertable(&attrs.ident, &fields, &mut errors);
    check::one_field_per_policy(&fields, &mut errors);
    let tenant = fields
        .iter()
        .position(|field| field.policy() == Some(Policy::Tenant));
    if let Some(tenant) = tenant {
        check::tenant(&fields, tenant, &key, &mut errors);
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
        } else if let Some(tenant) = tenant.filter(|tenant| !positions.contains(tenant)) {
            errors.push(
                darling::Error::custom(format!(
                    "a unique key of an entity scoped by tenant holds within each tenant: name \
                     `{}` in it, `#[repo(unique({}, ...))]` on the struct",
                    fields[tenant].name, fields[tenant].name
                ))
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
    let mut foreign_keys = Vec::new();
    for (position, field) in fields.iter().enumerate() {
        if let Some(reference) = &field.references {
            let name = format!("{table}_{}_fkey", field.column);
            if names_valid {
                check_identifier(
                    &name,
                    "generated foreign key name",
                    syn::spanned::Spanned::span(&reference.entity),
                    &mut errors,
                );
            }
            foreign_keys.push((name, position));
        }
    }
    let renamed_from = attrs.renamed_from.as_ref().and_then(|old| {
        if old.as_str() == table {
            errors.push(
                darling::Error::custom(format!(
                    "`renamed_from` names the table's current name `{table}`: give the previous one"
                ))
                .with_span(&old.span()),
            );
            return None;
        }
        check_identifier(old, "previous table name", old.span(), &mut errors)
            .then(|| old.to_string())
    });
    let primary_key_name = format!("{table}_pkey");
    if names_valid {
        check_identifier(
            &primary_key_name,
            "generated primary key name",
            attrs.ident.span(),
            &mut errors,
        );
        // PostgreSQL's Row-Level Security policy is named after the table too.
        if let Some(secured) = fields.iter().find(|field| field.row_level_security) {
            check_identifier(
                &format!("{table}_tenant"),
                "generated row-level security policy name",
                secured.ident.span(),
                &mut errors,
            );
        }
    }

    let relations = relations::relations(
        relations::Declared {
            has_many: &attrs.has_many,
            has_one: &attrs.has_one,
            many_to_many: &attrs.many_to_many,
            owns: &attrs.owns,
        },
        &fields,
        &skipped,
        &unique,
        &mut errors,
    );

    let aggregate_root = relations
        .iter()
        .any(|relation| matches!(relation, Relation::Owns { .. }));
    let cache = cache(attrs.cache.as_ref(), &fields, aggregate_root, &mut errors);

    errors.finish()?;
    Ok(Entity {
        cache,
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
        renamed_from,
        foreign_keys,
        port: attrs.port,
        relations,
    })
}
