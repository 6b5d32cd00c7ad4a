//! Embedded value objects (`#[repo(embed)]`): a struct deriving `Embeddable` is stored as several
//! columns of the entity that holds it, named with a prefix (`address_street`, `address_city`).
//! The derive gives each embeddable its [`Embedded`] implementation; the names reach the
//! entity's derive at compile time, so its statements stay `&'static str`.

use crate::entity::RowSource;
use crate::error::RepoError;
use crate::schema::ColumnType;
pub use crate::schema::Leaf;
use crate::statement::Statement;

/// A value object stored as several columns of the entity that embeds it. Implemented by
/// `#[derive(Embeddable)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be embedded",
    label = "`#[repo(embed)]` needs a type with `#[derive(Embeddable)]`",
    note = "add #[derive(Embeddable)] to `{Self}` (in this crate), or store it with #[repo(json)]"
)]
pub trait Embedded: Sized + Send + Sync + 'static {
    /// Its columns, in order, nested values flattened.
    const LEAVES: &'static [Leaf];

    /// Binds every column, in order.
    fn bind(&self, statement: &mut Statement);

    /// Binds `NULL` for every column (an absent `Option<Self>`).
    fn bind_nulls(statement: &mut Statement);

    /// Reads the value from the columns starting at `first`, named `columns` (for errors).
    fn decode<R: RowSource>(
        row: &R,
        first: usize,
        columns: &[&'static str],
    ) -> Result<Self, RepoError>;
}

/// `None` when every column is `NULL`, else the value.
#[doc(hidden)]
pub fn decode_optional<E: Embedded, R: RowSource>(
    row: &R,
    first: usize,
    columns: &[&'static str],
) -> Result<Option<E>, RepoError> {
    for (offset, column) in columns.iter().enumerate() {
        if !row.is_null(first + offset, column)? {
            return E::decode(row, first, columns).map(Some);
        }
    }
    Ok(None)
}

/// The name of column `at` of an embedded value, for errors; never out of bounds.
#[doc(hidden)]
pub fn name(columns: &[&'static str], at: usize) -> &'static str {
    columns.get(at).copied().unwrap_or("embedded value")
}

/// The names of a nested embedded value's columns; never out of bounds.
#[doc(hidden)]
pub fn names<'a>(columns: &'a [&'static str], at: usize, width: usize) -> &'a [&'static str] {
    columns.get(at..at + width).unwrap_or(&[])
}

/// Binds an optional embedded value: its columns, or `NULL` for each.
#[doc(hidden)]
pub fn bind_optional<E: Embedded>(value: &Option<E>, statement: &mut Statement) {
    match value {
        Some(value) => value.bind(statement),
        None => E::bind_nulls(statement),
    }
}

/// The leaves of an embedded value's parts, in order; a part marked optional makes its leaves
/// nullable. `N` is the total count.
#[doc(hidden)]
pub const fn concat<const N: usize>(parts: &[(&[Leaf], bool)]) -> [Leaf; N] {
    let mut out = [Leaf {
        ty: ColumnType::Text,
        nullable: false,
        sensitive: false,
    }; N];
    let mut filled = 0;
    let mut part = 0;
    while part < parts.len() {
        let (leaves, optional) = parts[part];
        let mut i = 0;
        while i < leaves.len() {
            let mut leaf = leaves[i];
            leaf.nullable = leaf.nullable || optional;
            out[filled] = leaf;
            filled += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(
        filled == N,
        "the leaf count of an embedded value is its parts' total"
    );
    out
}

/// The total leaf count of an embedded value's parts.
#[doc(hidden)]
pub const fn count(parts: &[(&[Leaf], bool)]) -> usize {
    let mut total = 0;
    let mut part = 0;
    while part < parts.len() {
        total += parts[part].0.len();
        part += 1;
    }
    total
}
