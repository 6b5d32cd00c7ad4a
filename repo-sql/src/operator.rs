//! [`Operator`]: how a condition compares a column with its parameters, rendered per dialect.

use crate::Dialect;

/// How one condition compares its column with the statement's next parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `= ?`
    Equal,
    /// `<> ?`
    NotEqual,
    /// `IS NULL`, no parameter.
    IsNull,
    /// `IS NOT NULL`, no parameter.
    IsNotNull,
    /// `IN (...)`: as many parameters as the list (one array on PostgreSQL).
    In,
    /// `NOT IN (...)`.
    NotIn,
    /// The text contains the parameter, whose `%` and `_` match themselves.
    Containing,
    /// The text starts with the parameter.
    StartingWith,
    /// The text ends with the parameter.
    EndingWith,
    /// `> ?`
    GreaterThan,
    /// `>= ?`
    GreaterThanEqual,
    /// `< ?`
    LessThan,
    /// `<= ?`
    LessThanEqual,
    /// `BETWEEN ? AND ?`
    Between,
}

impl Operator {
    /// Every operator.
    pub const ALL: [Operator; 14] = [
        Operator::Equal,
        Operator::NotEqual,
        Operator::IsNull,
        Operator::IsNotNull,
        Operator::In,
        Operator::NotIn,
        Operator::Containing,
        Operator::StartingWith,
        Operator::EndingWith,
        Operator::GreaterThan,
        Operator::GreaterThanEqual,
        Operator::LessThan,
        Operator::LessThanEqual,
        Operator::Between,
    ];

    /// How many values the caller passes: none for the null tests, two for `Between`, one
    /// list for `In` / `NotIn`, one for the rest.
    pub const fn arity(self) -> usize {
        match self {
            Operator::IsNull | Operator::IsNotNull => 0,
            Operator::Between => 2,
            _ => 1,
        }
    }

    /// Whether the operator takes a list (`In`, `NotIn`).
    pub const fn takes_list(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }

    /// Whether the operator matches text literally (`Containing`, `StartingWith`,
    /// `EndingWith`): its parameter is escaped for `LIKE` on the servers.
    pub const fn matches_text(self) -> bool {
        matches!(
            self,
            Operator::Containing | Operator::StartingWith | Operator::EndingWith
        )
    }

    /// The variant's name, as the derive writes it in Rust.
    pub const fn name(self) -> &'static str {
        match self {
            Operator::Equal => "Equal",
            Operator::NotEqual => "NotEqual",
            Operator::IsNull => "IsNull",
            Operator::IsNotNull => "IsNotNull",
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Containing => "Containing",
            Operator::StartingWith => "StartingWith",
            Operator::EndingWith => "EndingWith",
            Operator::GreaterThan => "GreaterThan",
            Operator::GreaterThanEqual => "GreaterThanEqual",
            Operator::LessThan => "LessThan",
            Operator::LessThanEqual => "LessThanEqual",
            Operator::Between => "Between",
        }
    }

    /// The condition on the quoted `column` in `dialect`, taking its placeholders from
    /// `placeholder` in order.
    ///
    /// `In` / `NotIn` are `= ANY($n)` with one array on PostgreSQL and a marker elsewhere
    /// (`{in:column}`, `{not_in:column}`), which the runtime replaces by the list's
    /// placeholders once it knows the list's length. Text matches are `LIKE ... ESCAPE '!'` on
    /// the servers (the runtime escapes the value) and `instr` / `substr` on SQLite, whose
    /// `LIKE` ignores case; the SQLite forms bind the value more than once.
    pub fn render(
        self,
        dialect: Dialect,
        column: &str,
        placeholder: &mut impl FnMut() -> String,
    ) -> String {
        let compare = |placeholder: &mut dyn FnMut() -> String, op: &str| {
            format!("{column} {op} {}", placeholder())
        };
        match self {
            Operator::Equal => compare(placeholder, "="),
            Operator::NotEqual => compare(placeholder, "<>"),
            Operator::GreaterThan => compare(placeholder, ">"),
            Operator::GreaterThanEqual => compare(placeholder, ">="),
            Operator::LessThan => compare(placeholder, "<"),
            Operator::LessThanEqual => compare(placeholder, "<="),
            Operator::IsNull => format!("{column} IS NULL"),
            Operator::IsNotNull => format!("{column} IS NOT NULL"),
            Operator::Between => {
                let (low, high) = (placeholder(), placeholder());
                format!("{column} BETWEEN {low} AND {high}")
            }
            Operator::In | Operator::NotIn => {
                let negated = self == Operator::NotIn;
                match dialect {
                    Dialect::Postgres if negated => {
                        format!("NOT ({column} = ANY({}))", placeholder())
                    }
                    Dialect::Postgres => format!("{column} = ANY({})", placeholder()),
                    _ if negated => format!("{{not_in:{column}}}"),
                    _ => format!("{{in:{column}}}"),
                }
            }
            Operator::Containing | Operator::StartingWith | Operator::EndingWith => {
                if dialect != Dialect::Sqlite {
                    return format!("{column} LIKE {} ESCAPE '!'", placeholder());
                }
                match self {
                    Operator::Containing => format!("instr({column}, ?) > 0"),
                    Operator::StartingWith => format!("substr({column}, 1, length(?)) = ?"),
                    // `substr(x, -0)` is all of `x`: the empty suffix needs its own test, which
                    // stays unknown on a NULL column (`x = x`), as every other match does.
                    _ => format!(
                        "(substr({column}, -length(?)) = ? OR (length(?) = 0 AND {column} = {column}))"
                    ),
                }
            }
        }
    }

    /// The condition as [`Operator::render`] writes it, for an `In` / `NotIn` list whose
    /// length is known: `column IN (?, ?)` with one placeholder per value outside PostgreSQL
    /// (which binds one array), and a constant condition for an empty list (`1 = 0`: nothing
    /// is in it; `1 = 1`: everything is not).
    pub fn render_list(
        self,
        dialect: Dialect,
        column: &str,
        length: usize,
        placeholder: &mut impl FnMut() -> String,
    ) -> String {
        if dialect == Dialect::Postgres || !self.takes_list() {
            return self.render(dialect, column, placeholder);
        }
        let negated = self == Operator::NotIn;
        if length == 0 {
            return String::from(if negated { "1 = 1" } else { "1 = 0" });
        }
        let list = (0..length)
            .map(|_| placeholder())
            .collect::<Vec<_>>()
            .join(", ");
        let operator = if negated { "NOT IN" } else { "IN" };
        format!("{column} {operator} ({list})")
    }

    /// How many times the value of a text match is bound: once on the servers (a `LIKE`
    /// pattern), once per `?` of SQLite's `instr` / `substr` form.
    pub const fn text_binds(self, dialect: Dialect) -> usize {
        match (dialect, self) {
            (Dialect::Sqlite, Operator::StartingWith) => 2,
            (Dialect::Sqlite, Operator::EndingWith) => 3,
            _ => 1,
        }
    }

    /// The operator as a Rust path under `root` (the runtime's re-export of this crate).
    #[cfg(feature = "tokens")]
    pub fn to_tokens_under(self, root: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        let variant = proc_macro2::Ident::new(self.name(), proc_macro2::Span::call_site());
        quote::quote! { #root::Operator::#variant }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(operator: Operator, dialect: Dialect) -> String {
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            dialect.placeholder(next)
        };
        operator.render(dialect, &dialect.quote("c"), &mut placeholder)
    }

    #[test]
    fn each_operator_renders_per_dialect() {
        assert_eq!(rendered(Operator::Equal, Dialect::Postgres), "\"c\" = $1");
        assert_eq!(
            rendered(Operator::Between, Dialect::Postgres),
            "\"c\" BETWEEN $1 AND $2"
        );
        assert_eq!(rendered(Operator::In, Dialect::Postgres), "\"c\" = ANY($1)");
        assert_eq!(rendered(Operator::NotIn, Dialect::MySql), "{not_in:`c`}");
        assert_eq!(
            rendered(Operator::StartingWith, Dialect::Sqlite),
            "substr(\"c\", 1, length(?)) = ?"
        );
        assert_eq!(
            rendered(Operator::EndingWith, Dialect::MySql),
            "`c` LIKE ? ESCAPE '!'"
        );
        assert_eq!(rendered(Operator::IsNull, Dialect::Sqlite), "\"c\" IS NULL");
    }

    #[test]
    fn lists_of_known_length_render_their_placeholders() {
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            String::from("?")
        };
        assert_eq!(
            Operator::In.render_list(Dialect::MySql, "`c`", 3, &mut placeholder),
            "`c` IN (?, ?, ?)"
        );
        assert_eq!(
            Operator::NotIn.render_list(Dialect::Sqlite, "\"c\"", 0, &mut placeholder),
            "1 = 1"
        );
        assert_eq!(next, 3);
    }

    #[test]
    fn sqlite_text_matches_bind_once_per_question_mark() {
        for operator in [
            Operator::Containing,
            Operator::StartingWith,
            Operator::EndingWith,
        ] {
            let text = operator.render(Dialect::Sqlite, "c", &mut || unreachable!());
            assert_eq!(
                text.matches('?').count(),
                operator.text_binds(Dialect::Sqlite)
            );
        }
    }

    #[test]
    fn arity_follows_the_placeholders_written() {
        for operator in Operator::ALL {
            let mut count = 0;
            let mut placeholder = || {
                count += 1;
                String::from("$")
            };
            operator.render(Dialect::Postgres, "c", &mut placeholder);
            assert_eq!(count, operator.arity(), "{operator:?}");
        }
    }
}
