//! `#[derive(DbEnum)]` (an enum of unit variants stored as text) and `#[derive(DbValue)]` (a
//! newtype stored as its one field): attribute grammar, checks and expansion. Both produce a
//! `ColumnValue` implementation, so the types work as entity fields like any built-in type.

use darling::util::SpannedValue;
use darling::{FromDeriveInput, FromMeta, FromVariant};
use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

/// `#[db_enum(...)]` on the enum.
#[derive(FromDeriveInput)]
#[darling(attributes(db_enum), supports(enum_any))]
struct EnumAttrs {
    ident: syn::Ident,
    data: darling::ast::Data<VariantAttrs, darling::util::Ignored>,
    /// `rename_all = "snake_case"`: how variant names become stored values, read as a
    /// [`RenameRule`] with the other checks.
    rename_all: Option<SpannedValue<String>>,
    /// `crate = path`, for a renamed runtime crate.
    #[darling(rename = "crate")]
    krate: Option<syn::Path>,
}

/// `#[db_enum(...)]` on a variant.
#[derive(FromVariant)]
#[darling(attributes(db_enum))]
struct VariantAttrs {
    ident: syn::Ident,
    fields: darling::ast::Fields<darling::util::Ignored>,
    /// `rename = "value"`: the stored value of this variant.
    rename: Option<SpannedValue<String>>,
}

/// `rename_all = "..."`: how a variant's name becomes its stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum RenameRule {
    Lowercase,
    Uppercase,
    #[default]
    SnakeCase,
    ScreamingSnakeCase,
    KebabCase,
    CamelCase,
    PascalCase,
}

const RULES: &str =
    "lowercase, UPPERCASE, snake_case, SCREAMING_SNAKE_CASE, kebab-case, camelCase, PascalCase";

impl FromMeta for RenameRule {
    fn from_string(value: &str) -> darling::Result<Self> {
        Ok(match value {
            "lowercase" => RenameRule::Lowercase,
            "UPPERCASE" => RenameRule::Uppercase,
            "snake_case" => RenameRule::SnakeCase,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnakeCase,
            "kebab-case" => RenameRule::KebabCase,
            "camelCase" => RenameRule::CamelCase,
            "PascalCase" => RenameRule::PascalCase,
            other => {
                return Err(darling::Error::custom(format!(
                    "unknown rename rule `{other}`; expected one of {RULES}"
                )));
            }
        })
    }
}

impl RenameRule {
    /// The stored value of `variant` under this rule.
    fn apply(self, variant: &str) -> String {
        let words = split_words(variant);
        let joined = |separator: &str, upper: bool| {
            let words: Vec<String> = words
                .iter()
                .map(|word| {
                    if upper {
                        word.to_uppercase()
                    } else {
                        word.to_lowercase()
                    }
                })
                .collect();
            words.join(separator)
        };
        match self {
            RenameRule::Lowercase => variant.to_lowercase(),
            RenameRule::Uppercase => variant.to_uppercase(),
            RenameRule::SnakeCase => joined("_", false),
            RenameRule::ScreamingSnakeCase => joined("_", true),
            RenameRule::KebabCase => joined("-", false),
            RenameRule::PascalCase => variant.to_owned(),
            RenameRule::CamelCase => {
                let mut chars = variant.chars();
                chars
                    .next()
                    .map(|first| first.to_lowercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        }
    }
}

/// `HttpError2` -> `["Http", "Error2"]`.
fn split_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for c in name.chars() {
        match words.last_mut() {
            Some(word) if !c.is_uppercase() && c != '_' => word.push(c),
            _ if c == '_' => words.push(String::new()),
            _ => words.push(c.to_string()),
        }
    }
    words.retain(|word| !word.is_empty());
    words
}

/// A stored value must be safe to write as a literal in a `CHECK` constraint.
fn check_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("a stored enum value cannot be empty");
    }
    if value
        .chars()
        .any(|c| c == '\'' || c == '\\' || c.is_control())
    {
        return Err("a stored enum value cannot contain quotes, backslashes or control characters");
    }
    Ok(())
}

pub(crate) fn derive_db_enum(input: &syn::DeriveInput) -> TokenStream {
    match parse_enum(input) {
        Ok(tokens) => tokens,
        Err(errors) => errors.write_errors(),
    }
}

fn parse_enum(input: &syn::DeriveInput) -> Result<TokenStream, darling::Error> {
    let attrs = EnumAttrs::from_derive_input(input)?;
    let mut errors = darling::Error::accumulator();
    let krate = attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::repo_runtime));
    let rule = match &attrs.rename_all {
        Some(written) => RenameRule::from_string(written).unwrap_or_else(|error| {
            errors.push(error.with_span(&written.span()));
            RenameRule::default()
        }),
        None => RenameRule::default(),
    };
    let variants = attrs.data.take_enum().unwrap_or_default();
    if variants.is_empty() {
        errors.push(
            darling::Error::custom("a DbEnum needs at least one variant").with_span(&attrs.ident),
        );
    }
    let mut stored: Vec<(syn::Ident, String)> = Vec::new();
    for variant in variants {
        if !variant.fields.is_unit() {
            errors.push(
                darling::Error::custom(format!(
                    "variant `{}` has fields; a DbEnum stores unit variants only",
                    variant.ident
                ))
                .with_span(&variant.ident),
            );
            continue;
        }
        let name = variant.ident.unraw().to_string();
        let (value, span) = match &variant.rename {
            Some(rename) => (rename.as_str().to_owned(), rename.span()),
            None => (rule.apply(&name), variant.ident.span()),
        };
        if let Err(message) = check_value(&value) {
            errors.push(darling::Error::custom(message).with_span(&span));
            continue;
        }
        if let Some((other, _)) = stored.iter().find(|(_, existing)| *existing == value) {
            errors.push(
                darling::Error::custom(format!(
                    "variants `{other}` and `{name}` are both stored as `{value}`: rename one"
                ))
                .with_span(&span),
            );
            continue;
        }
        stored.push((variant.ident, value));
    }
    errors.finish()?;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let values: Vec<&String> = stored.iter().map(|(_, value)| value).collect();
    let to_str = stored
        .iter()
        .map(|(variant, value)| quote! { #ident::#variant => #value, });
    let from_str = stored.iter().map(
        |(variant, value)| quote! { #value => ::core::option::Option::Some(#ident::#variant), },
    );
    let db_enum = quote! { #krate::__private::db_enum };
    Ok(quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::DbEnum for #ident #ty_generics #where_clause {
                const VALUES: &'static [&'static str] = &[#(#values),*];

                fn as_db_str(&self) -> &'static str {
                    match self {
                        #(#to_str)*
                    }
                }

                fn from_db_str(value: &str) -> ::core::option::Option<Self> {
                    match value {
                        #(#from_str)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[automatically_derived]
            impl #impl_generics #krate::ColumnValue for #ident #ty_generics #where_clause {
                const TYPE: #krate::ColumnType =
                    #krate::ColumnType::Enum(<Self as #krate::DbEnum>::VALUES);

                fn bind(&self, statement: &mut #krate::Statement) {
                    #db_enum::bind(self, statement);
                }

                fn bind_null(statement: &mut #krate::Statement) {
                    #db_enum::bind_null(statement);
                }

                fn bind_array(
                    values: ::std::vec::Vec<&Self>,
                    statement: &mut #krate::Statement,
                ) {
                    #db_enum::bind_array(values, statement);
                }

                fn bind_optional_array(
                    values: ::std::vec::Vec<::core::option::Option<&Self>>,
                    statement: &mut #krate::Statement,
                ) {
                    #db_enum::bind_optional_array(values, statement);
                }

                fn decode<__RepoRow: #krate::RowSource>(
                    row: &__RepoRow,
                    index: usize,
                    column: &'static str,
                ) -> ::core::result::Result<Self, #krate::RepoError> {
                    #db_enum::decode(row, index, column)
                }
            }
        };
    })
}

/// `#[repo(...)]` on a newtype deriving `DbValue`.
#[derive(FromDeriveInput)]
#[darling(attributes(repo))]
struct NewtypeAttrs {
    ident: syn::Ident,
    data: darling::ast::Data<darling::util::Ignored, NewtypeField>,
    #[darling(rename = "crate")]
    krate: Option<syn::Path>,
}

#[derive(darling::FromField)]
struct NewtypeField {
    ident: Option<syn::Ident>,
    ty: syn::Type,
}

pub(crate) fn derive_db_value(input: &syn::DeriveInput) -> TokenStream {
    match parse_newtype(input) {
        Ok(tokens) => tokens,
        Err(errors) => errors.write_errors(),
    }
}

fn parse_newtype(input: &syn::DeriveInput) -> Result<TokenStream, darling::Error> {
    let attrs = NewtypeAttrs::from_derive_input(input)?;
    let fields = attrs
        .data
        .take_struct()
        .map(|fields| fields.fields)
        .unwrap_or_default();
    let [field] = fields.as_slice() else {
        return Err(darling::Error::custom(format!(
            "#[derive(DbValue)] stores a struct with exactly one field as that field, but `{}` has {}; \
             use #[repo(json)] or #[repo(with = module)] on the entity's field instead",
            attrs.ident,
            fields.len()
        ))
        .with_span(&attrs.ident));
    };
    let krate = attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::repo_runtime));
    let ident = &input.ident;
    let inner = &field.ty;
    let (access, construct) = match &field.ident {
        Some(name) => (quote!(#name), quote!(|inner| #ident { #name: inner })),
        None => (quote!(0), quote!(#ident)),
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let inner_value = quote! { <#inner as #krate::ColumnValue> };
    let inner_span = inner.span();
    let bound = quote::quote_spanned! {inner_span=>
        const _: fn() = || {
            fn column_value<T: #krate::ColumnValue>() {}
            column_value::<#inner>();
        };
    };
    Ok(quote! {
        const _: () = {
            #bound

            #[automatically_derived]
            impl #impl_generics #krate::ColumnValue for #ident #ty_generics #where_clause {
                const TYPE: #krate::ColumnType = #inner_value::TYPE;
                const NULLABLE: bool = #inner_value::NULLABLE;

                fn bind(&self, statement: &mut #krate::Statement) {
                    #inner_value::bind(&self.#access, statement);
                }

                fn bind_null(statement: &mut #krate::Statement) {
                    #inner_value::bind_null(statement);
                }

                fn bind_array(
                    values: ::std::vec::Vec<&Self>,
                    statement: &mut #krate::Statement,
                ) {
                    #inner_value::bind_array(
                        values.into_iter().map(|value| &value.#access).collect(),
                        statement,
                    );
                }

                fn bind_optional_array(
                    values: ::std::vec::Vec<::core::option::Option<&Self>>,
                    statement: &mut #krate::Statement,
                ) {
                    #inner_value::bind_optional_array(
                        values
                            .into_iter()
                            .map(|value| value.map(|value| &value.#access))
                            .collect(),
                        statement,
                    );
                }

                fn decode<__RepoRow: #krate::RowSource>(
                    row: &__RepoRow,
                    index: usize,
                    column: &'static str,
                ) -> ::core::result::Result<Self, #krate::RepoError> {
                    #inner_value::decode(row, index, column).map(#construct)
                }
            }
        };
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules_split_words_at_capitals() {
        let stored = |rule: &str| {
            RenameRule::from_string(rule)
                .map(|rule| rule.apply("PendingReview"))
                .ok()
        };
        assert_eq!(stored("snake_case").as_deref(), Some("pending_review"));
        assert_eq!(
            stored("SCREAMING_SNAKE_CASE").as_deref(),
            Some("PENDING_REVIEW")
        );
        assert_eq!(stored("kebab-case").as_deref(), Some("pending-review"));
        assert_eq!(stored("camelCase").as_deref(), Some("pendingReview"));
        assert_eq!(stored("lowercase").as_deref(), Some("pendingreview"));
        assert_eq!(stored("PascalCase").as_deref(), Some("PendingReview"));
        assert_eq!(stored("Title Case"), None);
    }

    #[test]
    fn stored_values_admit_no_quote_backslash_or_control_character() {
        assert!(check_value("it's").is_err());
        assert!(check_value("a\\b").is_err());
        assert!(check_value("a\nb").is_err());
        assert!(check_value("").is_err());
        assert!(check_value("pending review").is_ok());
    }
}
