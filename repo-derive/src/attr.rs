//! The attribute grammar, read with darling: syntax only. Meaning is checked in `model.rs`.

use darling::util::{Flag, PathList, SpannedValue};
use darling::{FromDeriveInput, FromField, FromMeta};

/// `#[repo(...)]` on the struct.
#[derive(FromDeriveInput)]
#[darling(attributes(repo), forward_attrs(doc))]
pub(crate) struct EntityAttrs {
    pub ident: syn::Ident,
    pub vis: syn::Visibility,
    pub data: darling::ast::Data<darling::util::Ignored, FieldAttrs>,
    /// `table = "users"`.
    pub table: Option<SpannedValue<String>>,
    /// `crate = path`, for a renamed runtime crate.
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
    /// `unique(a, b)`: a composite unique key; repeatable.
    #[darling(multiple)]
    pub unique: Vec<SpannedValue<PathList>>,
    /// `index(a, b)`: a composite index; repeatable.
    #[darling(multiple)]
    pub index: Vec<SpannedValue<PathList>>,
    /// `domain = path::to::Type`: the domain type the repository speaks.
    pub domain: Option<syn::Path>,
    /// `renamed_from = "old"`: the table's previous name, for migrations.
    pub renamed_from: Option<SpannedValue<String>>,
    /// `port = path::to::Trait`: a `#[port]` trait the repository implements.
    pub port: Option<syn::Path>,
    /// `has_many(articles = Article::author_id)`: repeatable.
    #[darling(multiple)]
    pub has_many: Vec<SpannedValue<RelationAttr>>,
    /// `has_one(profile = Profile::user_id)`: repeatable.
    #[darling(multiple)]
    pub has_one: Vec<SpannedValue<RelationAttr>>,
    /// `many_to_many(tags = ArticleTag::article_id, to = tag_id)`: repeatable.
    #[darling(multiple)]
    pub many_to_many: Vec<SpannedValue<RelationAttr>>,
    /// `owns(lines = OrderLine::order_id)`: owned children, held in the skipped field
    /// `lines: Vec<OrderLine>`; repeatable.
    #[darling(multiple)]
    pub owns: Vec<SpannedValue<RelationAttr>>,
    /// `cache` or `cache(capacity = 10_000, ttl = "60s")`: rows read by key held in the
    /// handle's cache.
    pub cache: Option<SpannedValue<CacheAttr>>,
}

/// `cache`'s settings, each optional.
#[derive(Default)]
pub(crate) struct CacheAttr {
    pub capacity: Option<SpannedValue<u64>>,
    pub ttl: Option<SpannedValue<String>>,
}

#[derive(FromMeta)]
struct CacheArgs {
    #[darling(default)]
    capacity: Option<SpannedValue<u64>>,
    #[darling(default)]
    ttl: Option<SpannedValue<String>>,
}

impl FromMeta for CacheAttr {
    fn from_word() -> darling::Result<Self> {
        Ok(CacheAttr::default())
    }

    fn from_list(items: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        let CacheArgs { capacity, ttl } = CacheArgs::from_list(items)?;
        Ok(CacheAttr { capacity, ttl })
    }
}

/// A relation declared on the entity it starts from: its name, the foreign key it follows
/// (`Entity::field`, a field declared `references = ` this entity), and for a many-to-many
/// relation the link entity's foreign key to the target (`to = field`).
pub(crate) struct RelationAttr {
    pub name: syn::Ident,
    pub foreign_key: syn::Path,
    pub to: Option<syn::Ident>,
}

impl FromMeta for RelationAttr {
    fn from_list(items: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        const EXPECTED: &str = "expected `name = Entity::field`: the relation's name and the \
                                foreign key it follows";
        let mut errors = darling::Error::accumulator();
        let mut relation: Option<(syn::Ident, syn::Path)> = None;
        let mut to: Option<syn::Ident> = None;
        for item in items {
            let darling::ast::NestedMeta::Meta(syn::Meta::NameValue(pair)) = item else {
                errors.push(darling::Error::custom(EXPECTED).with_span(item));
                continue;
            };
            let (Some(key), syn::Expr::Path(value)) = (pair.path.get_ident(), &pair.value) else {
                errors.push(darling::Error::custom(EXPECTED).with_span(pair));
                continue;
            };
            if key == "to" {
                match value.path.get_ident() {
                    Some(field) if to.is_none() => to = Some(field.clone()),
                    Some(_) => errors.push(
                        darling::Error::custom("`to` is given twice").with_span(pair),
                    ),
                    None => errors.push(
                        darling::Error::custom(
                            "expected the link entity's field that refers to the target: `to = field`",
                        )
                        .with_span(&value.path),
                    ),
                }
            } else if relation.is_some() {
                errors.push(
                    darling::Error::custom(
                        "one relation per attribute: repeat the attribute for another",
                    )
                    .with_span(pair),
                );
            } else {
                relation = Some((key.clone(), value.path.clone()));
            }
        }
        let relation = relation.ok_or_else(|| darling::Error::custom(EXPECTED));
        let relation = errors.handle(relation);
        errors.finish()?;
        let (name, foreign_key) = relation.ok_or_else(|| darling::Error::custom(EXPECTED))?;
        Ok(RelationAttr {
            name,
            foreign_key,
            to,
        })
    }
}

/// `#[repo(...)]` on a field.
#[derive(FromField)]
#[darling(attributes(repo), forward_attrs(doc))]
pub(crate) struct FieldAttrs {
    pub ident: Option<syn::Ident>,
    pub vis: syn::Visibility,
    pub ty: syn::Type,
    pub attrs: Vec<syn::Attribute>,
    /// Part of the primary key.
    pub id: Flag,
    /// Assigned by the database (auto-increment / identity).
    pub generated: Flag,
    /// A single-column unique key.
    pub unique: Flag,
    /// A single-column index.
    pub index: Flag,
    /// Not persisted; filled with `Default::default()` when read.
    pub skip: Flag,
    /// `column = "name"`: the column's name when it differs from the field's.
    pub column: Option<SpannedValue<String>>,
    /// Stored as JSON through serde.
    pub json: Flag,
    /// Secret: redacted from the generated `Debug` and from error messages.
    pub sensitive: Flag,
    /// Stored encrypted (and sensitive); looked up through a blind index when in a unique key
    /// or index.
    pub encrypted: Flag,
    /// A value object deriving `Embeddable`, stored as several prefixed columns.
    pub embed: Flag,
    /// `prefix = "..."`: the embedded columns' prefix; default: the field name and `_`.
    pub prefix: Option<SpannedValue<String>>,
    /// `with = module`: stored through `module::to_db` / `module::from_db`.
    pub with: Option<syn::Path>,
    /// `domain_field = name`: the domain type's field when its name differs.
    pub domain_field: Option<syn::Ident>,
    /// `domain_with = module`: converted through `module::to_domain` / `module::from_domain`.
    pub domain_with: Option<syn::Path>,
    /// `domain_skip`: no counterpart in the domain type (an owned child's key to its root,
    /// which saving the root sets): `Default::default()` from a domain value.
    pub domain_skip: Flag,
    /// `default = literal`: the column's `DEFAULT`.
    pub default: Option<syn::Lit>,
    /// `renamed_from = "old"`: the column's previous name, for migrations.
    pub renamed_from: Option<SpannedValue<String>>,
    /// `references = Entity`: a foreign key to that entity's primary key.
    pub references: Option<syn::Path>,
    /// `relation = author`: the name of the belongs-to relation of a `references` field;
    /// by default the field's name without `_id`.
    pub relation: Option<syn::Ident>,
    /// `version`: the optimistic-locking version, which every write checks and moves on.
    pub version: Flag,
    /// `created_at`: the time of the insert, set by the library.
    pub created_at: Flag,
    /// `updated_at`: the time of the latest write, set by the library.
    pub updated_at: Flag,
    /// `deleted_at`: soft delete; the time of the delete, `None` while the row lives.
    pub deleted_at: Flag,
    /// `created_by`: who inserted the row, the handle's actor.
    pub created_by: Flag,
    /// `updated_by`: who wrote the row last, the handle's actor.
    pub updated_by: Flag,
    /// `tenant`: the tenant the row belongs to, the handle's; every statement is scoped by it.
    pub tenant: Flag,
    /// `row_level_security`, with `tenant`: PostgreSQL's Row-Level Security scopes the table
    /// by it too.
    pub row_level_security: Flag,
    /// `on_delete = "cascade"`: the foreign key's action, read as an [`OnDelete`] by the model
    /// (so that an unknown action is one error among the others, not the end of parsing).
    pub on_delete: Option<SpannedValue<String>>,
}

/// `on_delete = "..."`: what a foreign key does when the row it refers to is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    /// `"no_action"` (the default): the delete fails while rows refer to it.
    NoAction,
    /// `"restrict"`: the same, checked at once.
    Restrict,
    /// `"cascade"`: the referring rows are deleted too.
    Cascade,
    /// `"set_null"`: the referring column becomes `NULL`.
    SetNull,
}

impl FromMeta for OnDelete {
    fn from_string(value: &str) -> darling::Result<Self> {
        match value {
            "no_action" => Ok(OnDelete::NoAction),
            "restrict" => Ok(OnDelete::Restrict),
            "cascade" => Ok(OnDelete::Cascade),
            "set_null" => Ok(OnDelete::SetNull),
            other => Err(darling::Error::custom(format!(
                "unknown `on_delete` action `{other}`: use \"cascade\", \"set_null\", \"restrict\" or \"no_action\""
            ))),
        }
    }
}
