//! The relations of an entity: a belongs-to for each `references` field, and the `has_many`,
//! `has_one` and `many_to_many` declared on the struct. Checked here as far as this entity
//! knows; that the other entity's field is a foreign key to this one is checked by the
//! compiler (the runtime's `ForeignKeyField`), at the path the user wrote.

use darling::util::SpannedValue;
use proc_macro2::Span;
use syn::ext::IdentExt;

use super::{Field, KeyDef, Skipped};
use crate::attr::RelationAttr;

/// One relation, named for its constant (`author` is `Entity::AUTHOR`).
pub(crate) enum Relation {
    /// This entity's field at `field` refers to another's key.
    BelongsTo { name: syn::Ident, field: usize },
    /// Rows of `entity` refer to this one through their `field`.
    HasMany(Followed),
    /// The row of `entity` that refers to this one through its `field`.
    HasOne(Followed),
    /// Rows of the link entity refer to this one through `field` and to the target through
    /// `to`.
    ManyToMany { followed: Followed, to: syn::Ident },
    /// Rows of `entity` owned by this one (an aggregate's children), held in the skipped field
    /// at `holder`.
    Owns { followed: Followed, holder: usize },
}

/// A relation declared on the struct: its name and the other entity's foreign key field.
pub(crate) struct Followed {
    pub name: syn::Ident,
    /// `Article` in `Article::author_id`.
    pub entity: syn::Path,
    /// `author_id` in `Article::author_id`.
    pub field: syn::Ident,
}

impl Relation {
    pub(crate) fn name(&self) -> &syn::Ident {
        match self {
            Relation::BelongsTo { name, .. } => name,
            Relation::HasMany(followed)
            | Relation::HasOne(followed)
            | Relation::ManyToMany { followed, .. }
            | Relation::Owns { followed, .. } => &followed.name,
        }
    }
}

/// The declared relations, as written on the struct.
pub(super) struct Declared<'a> {
    pub has_many: &'a [SpannedValue<RelationAttr>],
    pub has_one: &'a [SpannedValue<RelationAttr>],
    pub many_to_many: &'a [SpannedValue<RelationAttr>],
    pub owns: &'a [SpannedValue<RelationAttr>],
}

/// Every relation of the entity, each with a constant name no other constant of the entity
/// has (its fields', its unique keys').
pub(super) fn relations(
    declared: Declared<'_>,
    fields: &[Field],
    skipped: &[Skipped],
    unique: &[KeyDef],
    errors: &mut darling::error::Accumulator,
) -> Vec<Relation> {
    let mut relations = Vec::new();
    for (position, field) in fields.iter().enumerate() {
        let Some(reference) = &field.references else {
            continue;
        };
        let name = match &reference.relation {
            Some(name) => Some(name.clone()),
            None => field
                .name
                .strip_suffix("_id")
                .filter(|stem| !stem.is_empty())
                .map(|stem| syn::Ident::new(stem, field.ident.span())),
        };
        if let Some(name) = name {
            relations.push(Relation::BelongsTo {
                name,
                field: position,
            });
        }
    }
    let kinds: [(&[SpannedValue<RelationAttr>], &str); 4] = [
        (declared.has_many, "has_many"),
        (declared.has_one, "has_one"),
        (declared.many_to_many, "many_to_many"),
        (declared.owns, "owns"),
    ];
    for (list, word) in kinds {
        for attr in list {
            if let Some(relation) = declared_relation(attr, word, skipped, errors) {
                relations.push(relation);
            }
        }
    }
    check_names(&relations, fields, unique, errors);
    relations
}

/// One `has_many` / `has_one` / `many_to_many` attribute, checked.
fn declared_relation(
    attr: &SpannedValue<RelationAttr>,
    word: &str,
    skipped: &[Skipped],
    errors: &mut darling::error::Accumulator,
) -> Option<Relation> {
    let RelationAttr {
        name,
        foreign_key,
        to,
    } = &**attr;
    let segments: Vec<&syn::PathSegment> = foreign_key.segments.iter().collect();
    let field = match segments.split_last() {
        Some((last, rest)) if !rest.is_empty() && last.arguments.is_none() => last.ident.clone(),
        _ => {
            errors.push(
                darling::Error::custom(format!(
                    "name the foreign key the relation follows as `Entity::field`: \
                     `{word}({name} = Other::field)`, a field of the other entity"
                ))
                .with_span(foreign_key),
            );
            return None;
        }
    };
    let entity = syn::Path {
        leading_colon: foreign_key.leading_colon,
        segments: segments[..segments.len() - 1]
            .iter()
            .map(|segment| (*segment).clone())
            .collect(),
    };
    let followed = Followed {
        name: name.clone(),
        entity,
        field,
    };
    match (word, to) {
        ("many_to_many", Some(to)) => Some(Relation::ManyToMany {
            followed,
            to: to.clone(),
        }),
        ("many_to_many", None) => {
            errors.push(
                darling::Error::custom(
                    "a many-to-many relation needs the link entity's field that refers to the target: add `to = field`",
                )
                .with_span(&attr.span()),
            );
            None
        }
        (_, Some(to)) => {
            errors.push(
                darling::Error::custom(format!(
                    "`to` belongs to `many_to_many`: a `{word}` relation follows one foreign key"
                ))
                .with_span(to),
            );
            None
        }
        ("has_one", None) => Some(Relation::HasOne(followed)),
        ("owns", None) => {
            let holder = skipped
                .iter()
                .position(|field| field.ident.unraw() == followed.name.unraw());
            let Some(holder) = holder else {
                let entity = &followed.entity;
                let entity = quote::quote!(#entity).to_string().replace(' ', "");
                errors.push(
                    darling::Error::custom(format!(
                        "owned children are held by the root: add the field `#[repo(skip)] {name}: Vec<{entity}>`"
                    ))
                    .with_span(name),
                );
                return None;
            };
            Some(Relation::Owns { followed, holder })
        }
        _ => Some(Relation::HasMany(followed)),
    }
}

/// A relation's constant must not take a name another constant of the entity has.
fn check_names(
    relations: &[Relation],
    fields: &[Field],
    unique: &[KeyDef],
    errors: &mut darling::error::Accumulator,
) {
    let constant = |name: &str| name.to_uppercase();
    let mut taken: Vec<(String, String)> = fields
        .iter()
        .map(|field| (constant(&field.name), format!("field `{}`", field.name)))
        .collect();
    let by_names = unique.iter().map(|key| {
        let names: Vec<String> = key
            .fields
            .iter()
            .map(|&i| fields[i].name.to_uppercase())
            .collect();
        (
            format!("BY_{}", names.join("_AND_")),
            "unique key".to_owned(),
        )
    });
    taken.extend(by_names);
    for relation in relations {
        let name = relation.name().unraw().to_string();
        let span: Span = relation.name().span();
        let upper = constant(&name);
        if name != name.to_lowercase() {
            errors.push(
                darling::Error::custom(format!(
                    "a relation's name is snake case, as a field's: `{}`",
                    name.to_lowercase()
                ))
                .with_span(&span),
            );
        } else if let Some((_, owner)) = taken.iter().find(|(taken, _)| *taken == upper) {
            let hint = match relation {
                Relation::BelongsTo { .. } => " (name it with `relation = ...` on the field)",
                _ => "",
            };
            errors.push(
                darling::Error::custom(format!(
                    "the relation `{name}` would be the constant `{upper}` of the {owner}: name it otherwise{hint}"
                ))
                .with_span(&span),
            );
        }
        taken.push((upper, format!("relation `{name}`")));
    }
}
