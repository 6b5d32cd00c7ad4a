//! Keyset pages: the next page starts after the last row of the previous one, by the values of
//! its sort columns (the key's last, so ties break), rather than by skipping rows: a page costs
//! the same however deep it is, and rows written meanwhile neither repeat nor go missing.
//! [`Cursor`] carries those values between requests as an opaque string.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use repo_sql::{Condition, Operator};

use crate::column::ColumnValue;
use crate::entity::Entity;
use crate::error::{NO_ENTITY, RepoError};
use crate::filter::{Bound, Filter};
use crate::list::ListOptions;
use crate::memory_value::Value;
use crate::statement::Statement;

/// Where a keyset page starts: after the row the previous page ended on. Opaque: its text
/// (`to_string()`, URL-safe) goes to clients, and comes back through `parse()`. It holds the
/// values of the page's sort columns, which is why keyset pages refuse `sensitive` ones.
#[derive(Clone, PartialEq)]
pub struct Cursor {
    /// Which order it continues, so that a cursor of another order is refused.
    fingerprint: u64,
    values: Vec<Captured>,
}

/// A value a cursor carries, bound as the column it came from binds it: a date or time as
/// the crate that bound it (`chrono` or `time`), whose forms differ on SQLite.
#[derive(Debug, Clone, PartialEq)]
struct Captured {
    value: Value,
    time_crate: bool,
}

impl Cursor {
    /// The cursor after `record` in the order `options` ask for (the key last): what a
    /// hand-written repository returns as a page's `next`.
    pub fn after_record<E: Entity>(
        record: &E,
        options: &ListOptions<E::Column>,
    ) -> Result<Cursor, RepoError> {
        Keyset::new::<E>(options)?.cursor(record)
    }
}

impl<E: Entity> Filter<E> {
    /// The rows after the one `cursor` was taken from, in the order `options` ask for (the
    /// key last): what a hand-written repository adds to a page's filter. A cursor of another
    /// order is [`RepoError::InvalidInput`].
    pub fn after(
        cursor: &Cursor,
        options: &ListOptions<E::Column>,
    ) -> Result<Filter<E>, RepoError> {
        Keyset::new::<E>(options)?.after(cursor)
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cursor").field(&self.to_string()).finish()
    }
}

/// A page of rows and the cursor after its last row: `None` once there are no more rows.
#[derive(Debug, Clone, PartialEq)]
pub struct KeysetPage<T> {
    /// The rows, in the page's order.
    pub rows: Vec<T>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
}

/// The sort columns of a keyset page and where each is in a row.
pub(crate) struct Keyset {
    /// Column, descending, and its position among the table's columns.
    order: Vec<(&'static str, bool, usize)>,
    fingerprint: u64,
}

fn refused(entity: &'static str, message: impl Into<String>) -> RepoError {
    RepoError::invalid_input(entity, message.into())
}

impl Keyset {
    /// The order `options` ask for, then the key's columns; refused when a page cannot
    /// continue after a row by it: an offset, an empty page, a nullable, sensitive or JSON
    /// sort column.
    pub(crate) fn new<E: Entity>(options: &ListOptions<E::Column>) -> Result<Keyset, RepoError> {
        if options.get_offset() > 0 {
            return Err(refused(
                E::NAME,
                "a keyset page starts after a cursor, not at an offset",
            ));
        }
        if options.get_limit() == Some(0) {
            return Err(refused(E::NAME, "a keyset page holds at least one row"));
        }
        let order = crate::list::order_then_key::<E>(options);
        let mut fingerprint = Fnv::new();
        fingerprint.write(E::TABLE.name.as_bytes());
        let mut located = Vec::with_capacity(order.len());
        for (name, descending) in order {
            let Some(position) = E::TABLE.columns.iter().position(|c| c.name == name) else {
                return Err(refused(E::NAME, format!("no column `{name}`")));
            };
            let column = &E::TABLE.columns[position];
            let reason = if column.nullable {
                Some("is nullable")
            } else if column.sensitive {
                Some("is sensitive, and a cursor carries its value")
            } else if matches!(column.ty, crate::schema::ColumnType::Json) {
                Some("holds JSON, which has no order")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(refused(
                    E::NAME,
                    format!("a keyset page cannot be ordered by `{name}`: it {reason}"),
                ));
            }
            fingerprint.write(name.as_bytes());
            fingerprint.write(&[u8::from(descending)]);
            located.push((name, descending, position));
        }
        Ok(Keyset {
            order: located,
            fingerprint: fingerprint.finish(),
        })
    }

    /// The rows after `cursor` in this order: for sort columns `a`, `b` ascending,
    /// `a > ? OR (a = ? AND b > ?)`.
    pub(crate) fn after<E: Entity>(&self, cursor: &Cursor) -> Result<Filter<E>, RepoError> {
        if cursor.fingerprint != self.fingerprint || cursor.values.len() != self.order.len() {
            return Err(refused(
                E::NAME,
                "the cursor was taken from a page of another order",
            ));
        }
        let mut any = Vec::with_capacity(self.order.len());
        let mut values: Vec<Arc<dyn Bound>> = Vec::new();
        for (index, &(column, descending, _)) in self.order.iter().enumerate() {
            let mut all = Vec::with_capacity(index + 1);
            for (&(before, _, _), value) in self.order[..index].iter().zip(&cursor.values) {
                all.push(compare(before, Operator::Equal));
                values.push(Arc::new(value.clone()));
            }
            let operator = if descending {
                Operator::LessThan
            } else {
                Operator::GreaterThan
            };
            all.push(compare(column, operator));
            values.push(Arc::new(cursor.values[index].clone()));
            any.push(Condition::All(all));
        }
        Ok(Filter::from_parts(Condition::Any(any), values))
    }

    /// The cursor after `record`: the values of its sort columns.
    pub(crate) fn cursor<E: Entity>(&self, record: &E) -> Result<Cursor, RepoError> {
        let mut captured = Statement::memory("cursor");
        record.bind_all(&mut captured);
        let (row, time_crate) = captured.into_values(E::TABLE)?;
        let values = self
            .order
            .iter()
            .map(|&(_, _, position)| Captured {
                value: row.get(position).cloned().unwrap_or(Value::Null),
                time_crate: time_crate.contains(&position),
            })
            .collect();
        Ok(Cursor {
            fingerprint: self.fingerprint,
            values,
        })
    }
}

fn compare(column: &'static str, operator: Operator) -> Condition {
    Condition::Compare {
        column,
        operator,
        values: 1,
    }
}

impl Bound for Captured {
    fn bind(&self, statement: &mut Statement) {
        if statement.is_memory() {
            statement.push_value(self.value.clone());
            return;
        }
        let unsupported = |statement: &mut Statement, what: &str| {
            statement.fail(refused(
                NO_ENTITY,
                format!("a cursor holds a {what}, which this build cannot bind"),
            ));
        };
        match &self.value {
            Value::Int(n) => statement.bind(*n),
            Value::Float(x) => statement.bind(*x),
            Value::Bool(b) => statement.bind(*b),
            Value::Text(text) => statement.bind(text.clone()),
            Value::Bytes(bytes) => statement.bind(bytes.clone()),
            Value::Timestamp(_) | Value::Instant(_) | Value::Date(_) | Value::Time(_) => {
                if !bind_temporal(&self.value, self.time_crate, statement) {
                    unsupported(statement, "date or time");
                }
            }
            Value::Uuid(_) => {
                #[cfg(feature = "uuid")]
                bind_decoded::<uuid::Uuid>(&self.value, statement);
                #[cfg(not(feature = "uuid"))]
                unsupported(statement, "UUID");
            }
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(decimal) => ColumnValue::bind(decimal, statement),
            Value::Null | Value::Json(_) => unsupported(statement, "NULL or JSON"),
        }
    }
}

/// Binds `value` as the column type it is the stored form of.
#[allow(dead_code)] // Without the optional column types, nothing decodes through it.
fn bind_decoded<T: ColumnValue + crate::value::MemoryDecode>(
    value: &Value,
    statement: &mut Statement,
) {
    match T::from_memory(value) {
        Ok(decoded) => decoded.bind(statement),
        Err(error) => statement.fail(refused(NO_ENTITY, format!("a cursor's value: {error}"))),
    }
}

/// Binds a date or time through the crate that bound it (`time`'s when `time_crate`, else
/// `chrono`'s); false when that crate is not compiled in.
fn bind_temporal(value: &Value, time_crate: bool, statement: &mut Statement) -> bool {
    if time_crate {
        #[cfg(feature = "time")]
        {
            match value {
                Value::Timestamp(_) => bind_decoded::<time::PrimitiveDateTime>(value, statement),
                Value::Instant(_) => bind_decoded::<time::OffsetDateTime>(value, statement),
                Value::Date(_) => bind_decoded::<time::Date>(value, statement),
                _ => bind_decoded::<time::Time>(value, statement),
            }
            return true;
        }
    } else {
        #[cfg(feature = "chrono")]
        {
            match value {
                Value::Timestamp(_) => bind_decoded::<chrono::NaiveDateTime>(value, statement),
                Value::Instant(_) => {
                    bind_decoded::<chrono::DateTime<chrono::Utc>>(value, statement);
                }
                Value::Date(_) => bind_decoded::<chrono::NaiveDate>(value, statement),
                _ => bind_decoded::<chrono::NaiveTime>(value, statement),
            }
            return true;
        }
    }
    #[allow(unreachable_code)]
    {
        let _ = (value, statement);
        false
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![FORMAT];
        bytes.extend_from_slice(&self.fingerprint.to_le_bytes());
        for captured in &self.values {
            encode(captured, &mut bytes);
        }
        f.write_str(&base64url::encode(&bytes))
    }
}

/// The first byte of a cursor's bytes: the version of their layout.
const FORMAT: u8 = 1;

fn malformed() -> RepoError {
    refused(NO_ENTITY, "not a cursor of this application")
}

impl FromStr for Cursor {
    type Err = RepoError;

    /// Reads a cursor's text back; anything else is [`RepoError::InvalidInput`].
    fn from_str(text: &str) -> Result<Cursor, RepoError> {
        let bytes = base64url::decode(text).ok_or_else(malformed)?;
        let mut reader = Reader(&bytes);
        if reader.take(1)? != [FORMAT] {
            return Err(malformed());
        }
        let fingerprint = u64::from_le_bytes(reader.array()?);
        let mut values = Vec::new();
        while !reader.0.is_empty() {
            values.push(decode(&mut reader)?);
        }
        Ok(Cursor {
            fingerprint,
            values,
        })
    }
}

/// A `time` crate's date or time is tagged as `chrono`'s plus this.
const TIME_CRATE_TAG: u8 = 7;

fn encode(captured: &Captured, out: &mut Vec<u8>) {
    let value = &captured.value;
    let temporal = |tag: u8| {
        if captured.time_crate {
            tag + TIME_CRATE_TAG
        } else {
            tag
        }
    };
    let with_bytes = |out: &mut Vec<u8>, tag: u8, bytes: &[u8]| {
        out.push(tag);
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    let with_int = |out: &mut Vec<u8>, tag: u8, n: i64| {
        out.push(tag);
        out.extend_from_slice(&n.to_le_bytes());
    };
    match value {
        Value::Null => out.push(0),
        Value::Int(n) => with_int(out, 1, *n),
        Value::Float(x) => with_int(out, 2, x.to_bits() as i64),
        Value::Bool(b) => out.extend_from_slice(&[3, u8::from(*b)]),
        Value::Text(text) => with_bytes(out, 4, text.as_bytes()),
        Value::Bytes(bytes) => with_bytes(out, 5, bytes),
        Value::Timestamp(n) => with_int(out, temporal(6), *n),
        Value::Instant(n) => with_int(out, temporal(7), *n),
        Value::Date(n) => with_int(out, temporal(8), *n),
        Value::Time(n) => with_int(out, temporal(9), *n),
        Value::Uuid(bytes) => {
            out.push(10);
            out.extend_from_slice(bytes);
        }
        #[cfg(feature = "rust_decimal")]
        Value::Decimal(decimal) => with_bytes(out, 11, decimal.to_string().as_bytes()),
        Value::Json(text) => with_bytes(out, 12, text.as_bytes()),
    }
}

fn decode(reader: &mut Reader<'_>) -> Result<Captured, RepoError> {
    let mut tag = reader.take(1)?[0];
    let time_crate = (13..=16).contains(&tag);
    if time_crate {
        tag -= TIME_CRATE_TAG;
    }
    let int = |reader: &mut Reader<'_>| Ok::<_, RepoError>(i64::from_le_bytes(reader.array()?));
    let bytes = |reader: &mut Reader<'_>| {
        let length = u32::from_le_bytes(reader.array()?);
        Ok::<_, RepoError>(reader.take(length as usize)?.to_vec())
    };
    let text = |reader: &mut Reader<'_>| String::from_utf8(bytes(reader)?).map_err(|_| malformed());
    let value = match tag {
        0 => Value::Null,
        1 => Value::Int(int(reader)?),
        2 => Value::Float(f64::from_bits(int(reader)? as u64)),
        3 => Value::Bool(reader.take(1)?[0] != 0),
        4 => Value::Text(text(reader)?),
        5 => Value::Bytes(bytes(reader)?),
        6 => Value::Timestamp(int(reader)?),
        7 => Value::Instant(int(reader)?),
        8 => Value::Date(int(reader)?),
        9 => Value::Time(int(reader)?),
        10 => Value::Uuid(reader.array()?),
        #[cfg(feature = "rust_decimal")]
        11 => Value::Decimal(text(reader)?.parse().map_err(|_| malformed())?),
        12 => Value::Json(text(reader)?),
        _ => return Err(malformed()),
    };
    Ok(Captured { value, time_crate })
}

/// The unread bytes of a cursor.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], RepoError> {
        if self.0.len() < count {
            return Err(malformed());
        }
        let (taken, rest) = self.0.split_at(count);
        self.0 = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RepoError> {
        self.take(N)?.try_into().map_err(|_| malformed())
    }
}

/// FNV-1a: a fingerprint that stays the same across builds and Rust versions, as a cursor
/// kept by a client must.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // Separates one write from the next.
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3) ^ 0xff;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5): a cursor goes in query
/// strings as it is.
mod base64url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            }
        }
        out
    }

    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let digit = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|d| d as u32);
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        for chunk in text.as_bytes().chunks(4) {
            if chunk.len() == 1 {
                return None;
            }
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                n |= digit(c)? << (18 - 6 * i);
            }
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for length in 0..20 {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 250) as u8).collect();
            let text = base64url::encode(&bytes);
            assert!(!text.contains(['+', '/', '=']));
            assert_eq!(base64url::decode(&text), Some(bytes));
        }
        assert_eq!(base64url::encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url::encode(b"fo"), "Zm8");
        assert_eq!(base64url::decode("Z"), None);
        assert_eq!(base64url::decode("Zm9v!"), None);
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_refuses_anything_else() {
        let cursor = Cursor {
            fingerprint: 42,
            values: [
                (Value::Int(-7), false),
                (Value::Float(2.5), false),
                (Value::Text("é, 'x'".into()), false),
                (Value::Bytes(vec![0, 255]), false),
                (Value::Bool(true), false),
                (Value::Instant(1_700_000_000_000_000), false),
                (Value::Instant(1_700_000_000_000_001), true),
                (Value::Time(5), true),
                (Value::Uuid([9; 16]), false),
            ]
            .into_iter()
            .map(|(value, time_crate)| Captured { value, time_crate })
            .collect(),
        };
        let text = cursor.to_string();
        assert_eq!(text.parse::<Cursor>().unwrap(), cursor);
        for bad in ["", "AQ", "not a cursor", &text[..text.len() - 3]] {
            let error = bad.parse::<Cursor>().unwrap_err();
            assert!(
                matches!(error, RepoError::InvalidInput { .. }),
                "{bad}: {error:?}"
            );
        }
    }
}
