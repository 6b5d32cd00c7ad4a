//! Names: the identifiers the derive generates, and the checks and suggestions for the
//! identifiers users write.

use proc_macro2::Span;
use syn::ext::IdentExt;

/// PostgreSQL truncates identifiers past 63 bytes; MySQL allows 64. The smaller bound wins.
pub(crate) const MAX_IDENT_BYTES: usize = 63;

/// The names the derive generates, even when the input is invalid (for the stub).
pub(crate) fn new_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("New{}", entity.unraw()), entity.span())
}

pub(crate) fn repository_trait_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("{}Repository", entity.unraw()), entity.span())
}

pub(crate) fn reader_trait_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("{}Reader", entity.unraw()), entity.span())
}

pub(crate) fn writer_trait_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("{}Writer", entity.unraw()), entity.span())
}

pub(crate) fn sql_repository_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("Sql{}Repository", entity.unraw()), entity.span())
}

pub(crate) fn memory_repository_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(
        &format!("InMemory{}Repository", entity.unraw()),
        entity.span(),
    )
}

pub(crate) fn patch_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("{}Patch", entity.unraw()), entity.span())
}

pub(crate) fn column_enum_ident(entity: &syn::Ident) -> syn::Ident {
    syn::Ident::new(&format!("{}Column", entity.unraw()), entity.span())
}

/// `OrderLine` -> `order_lines`.
pub(crate) fn default_table_name(entity: &syn::Ident) -> String {
    let mut snake = String::new();
    for (i, c) in entity.unraw().to_string().chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.extend(c.to_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake.push('s');
    snake
}

/// `created_at` -> `CreatedAt`.
pub(crate) fn upper_camel(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Reports an invalid identifier; returns whether it was valid.
pub(crate) fn check_identifier(
    name: &str,
    what: &str,
    span: Span,
    errors: &mut darling::error::Accumulator,
) -> bool {
    let mut chars = name.chars();
    let valid = match chars.next() {
        Some(first) => {
            (first == '_' || unicode_ident::is_xid_start(first))
                && chars.all(unicode_ident::is_xid_continue)
        }
        None => false,
    };
    if !valid {
        errors.push(
            darling::Error::custom(format!(
                "invalid {what} `{name}`: use letters, digits and underscores, not starting with a digit"
            ))
            .with_span(&span),
        );
        false
    } else if name.len() > MAX_IDENT_BYTES {
        errors.push(
            darling::Error::custom(format!(
                "{what} `{name}` is {} bytes long; PostgreSQL allows at most {MAX_IDENT_BYTES}: choose a shorter name",
                name.len()
            ))
            .with_span(&span),
        );
        false
    } else {
        true
    }
}

/// The candidate closest to `wanted` by edit distance, when close enough to be a typo.
pub(crate) fn closest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|candidate| (edit_distance(wanted, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}
