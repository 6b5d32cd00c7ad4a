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
    /// `default = literal`: the column's `DEFAULT`.
    pub default: Option<syn::Lit>,
    /// `renamed_from = "old"`: the column's previous name, for migrations.
    pub renamed_from: Option<SpannedValue<String>>,
    /// `references = Entity`: a foreign key to that entity's primary key.
    pub references: Option<syn::Path>,
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
