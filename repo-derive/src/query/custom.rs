//! `#[query("...")]` on a port method: SQL the developer wrote, for what method names cannot
//! say. Named parameters (`:status`) are checked against the method's parameters at compile
//! time and become each dialect's placeholders, bound in order of appearance. A query
//! returning rows is wrapped as `SELECT <the entity's columns> FROM (...)`, so the record's
//! mapper reads them whatever the query's own column order.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Columns, Fetch, Returns, parameters, returns, run};
use crate::expand::sql_literal;
use crate::model::Entity;
use crate::names::closest;
use crate::sql::{DIALECTS, Dialect};

/// The SQL split at its named parameters: text, then `(name, text)` pairs.
struct Template {
    head: String,
    parts: Vec<(String, String)>,
}

/// Splits `sql` at `:name` outside string literals and quoted identifiers; `::` (a
/// PostgreSQL cast) is not a parameter.
fn split(sql: &str) -> Template {
    let mut template = Template {
        head: String::new(),
        parts: Vec::new(),
    };
    let chars: Vec<char> = sql.chars().collect();
    let mut quote: Option<char> = None;
    let mut i = 0;
    let push = |template: &mut Template, c: char| match template.parts.last_mut() {
        Some((_, text)) => text.push(c),
        None => template.head.push(c),
    };
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if c == ':' && chars.get(i + 1) == Some(&':') => {
                push(&mut template, ':');
                push(&mut template, ':');
                i += 2;
                continue;
            }
            None if c == ':'
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                template
                    .parts
                    .push((chars[start..end].iter().collect(), String::new()));
                i = end;
                continue;
            }
            None => {}
        }
        push(&mut template, c);
        i += 1;
    }
    template
}

fn render(template: &Template, d: Dialect) -> String {
    let mut sql = template.head.clone();
    for (index, (_, text)) in template.parts.iter().enumerate() {
        sql.push_str(&d.placeholder(index + 1));
        sql.push_str(text);
    }
    sql
}

/// The body of a method with `#[query("...")]`.
pub(super) fn body(
    entity: &Entity,
    signature: &syn::Signature,
    literal: &syn::LitStr,
) -> syn::Result<TokenStream> {
    let method = &signature.ident;
    let krate = &entity.krate;
    let template = split(&literal.value());
    let mut parameters = parameters(signature)?;
    // A trailing `Page` is not named in the SQL: it becomes its `LIMIT` and `OFFSET`.
    let page = match parameters.last() {
        Some((ident, ty)) if super::last_segment_ident(ty).is_some_and(|i| i == "Page") => {
            let page = *ident;
            parameters.pop();
            Some(page)
        }
        _ => None,
    };
    let names: Vec<String> = parameters
        .iter()
        .map(|(ident, _)| ident.to_string())
        .collect();
    for (name, _) in &template.parts {
        if !names.contains(name) {
            let message = match closest(name, names.iter().map(String::as_str)) {
                Some(close) => {
                    format!("`:{name}` is not a parameter of `{method}`; did you mean `:{close}`?")
                }
                None => format!("`:{name}` is not a parameter of `{method}`"),
            };
            return Err(syn::Error::new(literal.span(), message));
        }
    }
    for (ident, _) in &parameters {
        if !template.parts.iter().any(|(name, _)| *ident == name) {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "parameter `{ident}` of `{method}` is not used in its query: name it `:{ident}`"
                ),
            ));
        }
    }
    let shape = returns(signature);
    let output = match &signature.output {
        syn::ReturnType::Type(_, ty) => super::last_generic(ty),
        syn::ReturnType::Default => None,
    };
    let scalar = output
        .and_then(super::last_segment_ident)
        .map(ToString::to_string);
    // The statement as written, its own `ORDER BY` kept: its rows are read by column name.
    let text = DIALECTS.map(|d| {
        let mut sql = render(&template, d);
        if page.is_some() {
            let next = template.parts.len();
            let (limit, offset) = (d.placeholder(next + 1), d.placeholder(next + 2));
            sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        }
        sql
    });
    let sql = sql_literal(krate, &text);
    let binds = template.parts.iter().filter_map(|(name, _)| {
        let (ident, ty) = parameters
            .iter()
            .find(|(ident, _)| ident.to_string() == *name)?;
        Some(quote_spanned! {ty.span()=> __repo_statement.bind(#ident); })
    });
    let operation = method.to_string();
    let page = page.map(|page| {
        quote! { #krate::__private::ports::bind_page(&mut __repo_statement, #page); }
    });
    let build = quote! {
        let mut __repo_statement = self.executor.statement(#operation, &__REPO_SQL);
        #(#binds)*
        #page
    };
    let is_select = literal
        .value()
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("SELECT");
    // Rows of neither the record nor its domain type are a projection's.
    let element = match shape {
        Returns::Vec | Returns::Option => output.and_then(super::last_generic),
        Returns::One => output,
    };
    let projection = element.filter(|ty| {
        let Some(name) = super::last_segment_ident(ty) else {
            return false;
        };
        let domain = entity
            .domain
            .as_ref()
            .and_then(|path| path.segments.last())
            .map(|segment| &segment.ident);
        *name != entity.ident && Some(name) != domain
    });
    let fetch = match (scalar.as_deref(), projection) {
        (Some("bool"), _) => Fetch::Exists,
        (Some("u64"), _) if is_select => Fetch::Count,
        (Some("u64"), _) => Fetch::Execute,
        (_, Some(projection)) => Fetch::Projections(shape, projection),
        _ => Fetch::Rows(shape),
    };
    let run = run(entity, fetch, Columns::ByName, &build);
    Ok(quote! {
        const __REPO_SQL: #krate::Sql = #sql;
        #run
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_placeholders_outside_quotes_and_casts() {
        let template =
            split("SELECT * FROM t WHERE a = :a AND b::text = ':b' AND c > :c OR a < :a");
        let names: Vec<&str> = template.parts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "c", "a"]);
        assert_eq!(
            render(&template, Dialect::Postgres),
            "SELECT * FROM t WHERE a = $1 AND b::text = ':b' AND c > $2 OR a < $3"
        );
        assert_eq!(
            render(&template, Dialect::MySql),
            "SELECT * FROM t WHERE a = ? AND b::text = ':b' AND c > ? OR a < ?"
        );
    }
}
