//! The grammar of derived query method names, Spring Data style in snake case:
//!
//! ```text
//! name      := action [ "top" N | "first" ] "by" condition { ("and" | "or") condition }
//!              [ "order_by" property [ "asc" | "desc" ] { [ "order_by" ] property [ "asc" | "desc" ] } ]
//! action    := "find" | "get" | "find_all" | "count" | "exists" | "delete"
//! condition := property [ operator ]
//! operator  := "is_null" | "is_not_null" | "not" | "in" | "not_in" | "like" | "containing"
//!            | "starting_with" | "ending_with" | "greater_than" | "greater_than_equal"
//!            | "less_than" | "less_than_equal" | "after" | "before" | "between"
//! ```
//!
//! Properties are matched against the entity's field names, longest first, so a field may
//! contain `_and_` or end in an operator word. `and` binds tighter than `or`. A property that
//! is no field may follow one of the entity's relations: `author_username` is the `username`
//! of the row the relation `author` reaches (one relation deep; the related entity's fields
//! are checked by the compiler, so there the operator is the longest operator word at the
//! end).

/// What the method does with the matching rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `find_by`: `Option<T>` (or `Vec<T>` when it returns one).
    Find,
    /// `get_by`: `T`, `NotFound` when absent.
    Get,
    /// `find_all_by`: `Vec<T>`.
    FindAll,
    /// `count_by`: `u64`.
    Count,
    /// `exists_by`: `bool`.
    Exists,
    /// `delete_by`: `u64`, the rows deleted.
    Delete,
}

/// A comparison of one property: the one operator list, shared with the runtime.
pub(crate) use repo_sql::Operator;

/// The operator words, longest first so that `greater_than_equal` wins over `greater_than`.
const OPERATORS: &[(&str, Operator)] = &[
    ("greater_than_equal", Operator::GreaterThanEqual),
    ("less_than_equal", Operator::LessThanEqual),
    ("starting_with", Operator::StartingWith),
    ("ending_with", Operator::EndingWith),
    ("greater_than", Operator::GreaterThan),
    ("is_not_null", Operator::IsNotNull),
    ("containing", Operator::Containing),
    ("less_than", Operator::LessThan),
    ("is_null", Operator::IsNull),
    ("between", Operator::Between),
    ("not_in", Operator::NotIn),
    ("before", Operator::LessThan),
    ("after", Operator::GreaterThan),
    ("like", Operator::Containing),
    ("not", Operator::NotEqual),
    ("in", Operator::In),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    /// The field compared: this entity's, or with `through`, the related entity's.
    pub property: String,
    /// The relation the property is reached through.
    pub through: Option<String>,
    pub operator: Operator,
}

/// A parsed method name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryName {
    pub action: Action,
    /// `top_N` / `first`.
    pub limit: Option<u64>,
    /// Alternatives (`or`) of conjunctions (`and`).
    pub any_of: Vec<Vec<Condition>>,
    /// `(property, descending)`.
    pub order: Vec<(String, bool)>,
}

/// Why a name does not parse; `unknown` is a property-shaped word that matches no field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameError {
    /// The name is not a derived query at all (no action prefix and `by`).
    NotAQuery,
    /// Words where a property was expected.
    UnknownProperty(String),
    /// Anything else, with a message.
    Malformed(String),
}

/// Parses `name` against `fields` and `relations` (the entity's relation names).
pub(crate) fn parse(
    name: &str,
    fields: &[String],
    relations: &[String],
) -> Result<QueryName, NameError> {
    let words: Vec<&str> = name.split('_').collect();
    let (action, mut at) = match words.as_slice() {
        ["find", "all", ..] => (Action::FindAll, 2),
        ["find", ..] => (Action::Find, 1),
        ["get", ..] => (Action::Get, 1),
        ["count", ..] => (Action::Count, 1),
        ["exists", ..] => (Action::Exists, 1),
        ["delete", ..] => (Action::Delete, 1),
        _ => return Err(NameError::NotAQuery),
    };
    let mut limit = None;
    match words.get(at) {
        Some(&"first") => {
            limit = Some(1);
            at += 1;
        }
        Some(&"top") => {
            let n = words
                .get(at + 1)
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    NameError::Malformed(
                        "`top` takes a positive number: `find_top_10_by_...`".into(),
                    )
                })?;
            limit = Some(n);
            at += 2;
        }
        _ => {}
    }
    if words.get(at) != Some(&"by") {
        return Err(NameError::NotAQuery);
    }
    at += 1;
    if limit.is_some() && !matches!(action, Action::Find | Action::FindAll) {
        return Err(NameError::Malformed(
            "`top` and `first` go with `find_by` and `find_all_by` only".into(),
        ));
    }
    let mut any_of = vec![Vec::new()];
    loop {
        let (through, property, next) = match property_at(&words, at, fields) {
            Ok((property, next)) => (None, property, next),
            Err(unknown) => match related_at(&words, at, relations) {
                Some((relation, property, next)) => (Some(relation), property, next),
                None => return Err(unknown),
            },
        };
        at = next;
        let mut operator = Operator::Equal;
        for (word, op) in OPERATORS {
            let parts: Vec<&str> = word.split('_').collect();
            if words.len() >= at + parts.len() && words[at..at + parts.len()] == parts[..] {
                operator = *op;
                at += parts.len();
                break;
            }
        }
        if let Some(all) = any_of.last_mut() {
            all.push(Condition {
                property,
                through,
                operator,
            });
        }
        match words.get(at) {
            None => break,
            Some(&"and") => at += 1,
            Some(&"or") => {
                any_of.push(Vec::new());
                at += 1;
            }
            Some(&"order") if words.get(at + 1) == Some(&"by") => break,
            Some(_) => {
                return Err(NameError::UnknownProperty(words[at..].join("_")));
            }
        }
    }
    let mut order = Vec::new();
    if words.get(at) == Some(&"order") {
        if !matches!(action, Action::Find | Action::FindAll) {
            return Err(NameError::Malformed(
                "`order_by` goes with `find_by` and `find_all_by` only".into(),
            ));
        }
        at += 2;
        while at < words.len() {
            // `_order_by_` may be repeated before each property, as Spring Data users write it.
            if !order.is_empty()
                && words[at..].starts_with(&["order", "by"])
                && property_at(&words, at, fields).is_err()
            {
                at += 2;
                if at == words.len() {
                    return Err(NameError::Malformed(
                        "`order_by` needs a property: `order_by_name_desc`".into(),
                    ));
                }
            }
            let (property, next) = property_at(&words, at, fields)?;
            at = next;
            let descending = match words.get(at) {
                Some(&"desc") => {
                    at += 1;
                    true
                }
                Some(&"asc") => {
                    at += 1;
                    false
                }
                _ => false,
            };
            order.push((property, descending));
        }
        if order.is_empty() {
            return Err(NameError::Malformed(
                "`order_by` needs a property: `order_by_name_desc`".into(),
            ));
        }
    }
    Ok(QueryName {
        action,
        limit,
        any_of,
        order,
    })
}

/// A relation's name made of the words from `at` (the longest), then the related entity's
/// property: the words up to the next keyword or the operator that ends the condition.
/// Returns the relation, the property and the position after it.
fn related_at(words: &[&str], at: usize, relations: &[String]) -> Option<(String, String, usize)> {
    let (relation, start) = (at + 1..words.len()).rev().find_map(|end| {
        let candidate = words[at..end].join("_");
        relations.contains(&candidate).then_some((candidate, end))
    })?;
    let ends_condition = |i: usize| {
        matches!(words[i], "and" | "or")
            || (words[i] == "order" && words.get(i + 1) == Some(&"by"))
            || OPERATORS.iter().any(|(word, _)| {
                let parts: Vec<&str> = word.split('_').collect();
                words[i..].starts_with(&parts)
                    && matches!(
                        words.get(i + parts.len()),
                        None | Some(&"and") | Some(&"or") | Some(&"order")
                    )
            })
    };
    let end = (start..words.len())
        .find(|&i| i > start && ends_condition(i))
        .unwrap_or(words.len());
    (end > start).then(|| (relation, words[start..end].join("_"), end))
}

/// The longest field name made of the words from `at`, and the position after it.
fn property_at(words: &[&str], at: usize, fields: &[String]) -> Result<(String, usize), NameError> {
    for end in (at + 1..=words.len()).rev() {
        let candidate = words[at..end].join("_");
        if fields.contains(&candidate) {
            return Ok((candidate, end));
        }
    }
    // The unknown property runs up to the next keyword, for the message.
    let end = (at..words.len())
        .find(|&i| {
            matches!(words[i], "and" | "or" | "order")
                || OPERATORS
                    .iter()
                    .any(|(word, _)| word.split('_').next() == Some(words[i]))
        })
        .filter(|&i| i > at)
        .unwrap_or(words.len());
    Err(NameError::UnknownProperty(words[at..end].join("_")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<String> {
        [
            "email",
            "status",
            "created_at",
            "name",
            "terms_and_conditions",
            "age",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    fn condition(property: &str, operator: Operator) -> Condition {
        Condition {
            property: property.into(),
            through: None,
            operator,
        }
    }

    #[test]
    fn conditions_operators_and_alternatives() {
        let parsed = parse(
            "find_by_status_and_created_at_after_or_email_is_null",
            &fields(),
            &[],
        )
        .unwrap();
        assert_eq!(parsed.action, Action::Find);
        assert_eq!(
            parsed.any_of,
            vec![
                vec![
                    condition("status", Operator::Equal),
                    condition("created_at", Operator::GreaterThan)
                ],
                vec![condition("email", Operator::IsNull)],
            ]
        );
    }

    #[test]
    fn limits_and_ordering() {
        let parsed = parse(
            "find_top_10_by_status_order_by_created_at_desc_name",
            &fields(),
            &[],
        )
        .unwrap();
        assert_eq!(parsed.limit, Some(10));
        assert_eq!(
            parsed.order,
            vec![("created_at".into(), true), ("name".into(), false)]
        );
        assert_eq!(
            parse("find_first_by_age_greater_than_equal", &fields(), &[])
                .unwrap()
                .limit,
            Some(1)
        );
    }

    #[test]
    fn order_by_may_be_repeated_before_each_property() {
        let repeated = parse(
            "find_all_by_status_order_by_created_at_desc_order_by_name_asc",
            &fields(),
            &[],
        )
        .unwrap();
        let once = parse(
            "find_all_by_status_order_by_created_at_desc_name_asc",
            &fields(),
            &[],
        )
        .unwrap();
        assert_eq!(repeated, once);
        assert_eq!(
            repeated.order,
            vec![("created_at".into(), true), ("name".into(), false)]
        );
        assert!(matches!(
            parse("find_all_by_status_order_by_name_order_by", &fields(), &[]),
            Err(NameError::Malformed(_))
        ));
    }

    #[test]
    fn field_names_may_contain_keywords() {
        let parsed = parse("count_by_terms_and_conditions_not", &fields(), &[]).unwrap();
        assert_eq!(parsed.action, Action::Count);
        assert_eq!(
            parsed.any_of,
            vec![vec![condition("terms_and_conditions", Operator::NotEqual)]]
        );
    }

    #[test]
    fn unknown_properties_and_non_queries() {
        assert_eq!(
            parse("find_by_emial_and_status", &fields(), &[]),
            Err(NameError::UnknownProperty("emial".into()))
        );
        assert_eq!(parse("insert", &fields(), &[]), Err(NameError::NotAQuery));
        assert_eq!(parse("find_all", &fields(), &[]), Err(NameError::NotAQuery));
        assert!(matches!(
            parse("count_top_3_by_age", &fields(), &[]),
            Err(NameError::Malformed(_))
        ));
    }

    #[test]
    fn a_property_may_follow_a_relation_to_the_related_entitys_field() {
        let relations = vec!["author".to_owned(), "tags".to_owned()];
        let name = parse(
            "find_all_by_author_username_and_tags_name_in_or_tags_name_starting_with",
            &fields(),
            &relations,
        )
        .unwrap();
        let related = |relation: &str, property: &str, operator| Condition {
            property: property.into(),
            through: Some(relation.into()),
            operator,
        };
        assert_eq!(
            name.any_of,
            vec![
                vec![
                    related("author", "username", Operator::Equal),
                    related("tags", "name", Operator::In),
                ],
                vec![related("tags", "name", Operator::StartingWith)],
            ]
        );
        // A field wins over a relation of the same prefix; a relation alone is no property.
        let name = parse(
            "find_all_by_name_and_author_created_at_after",
            &fields(),
            &relations,
        );
        assert_eq!(
            name.unwrap().any_of,
            vec![vec![
                condition("name", Operator::Equal),
                related("author", "created_at", Operator::GreaterThan),
            ]]
        );
        assert_eq!(
            parse("find_all_by_author", &fields(), &relations),
            Err(NameError::UnknownProperty("author".into()))
        );
    }
}
