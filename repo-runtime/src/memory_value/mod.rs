//! [`Value`]: one column's value as the in-memory store keeps it, and the conversions of the
//! built-in column types to and from it (those behind cargo features are in `rich.rs`).
//! Apart from the store so that statements and column types, which bind such values, do not
//! depend on the store.

use std::cmp::Ordering;

use crate::error::BoxError;

mod rich;

/// How a bound value is kept by the in-memory store.
#[doc(hidden)]
pub trait MemoryEncode {
    /// Whether the value is one of the `time` crate's, whose values are the same as `chrono`'s
    /// here but bind differently on SQLite: a cursor rebinds them through the same crate.
    const TIME_CRATE: bool = false;

    /// The stored value.
    fn to_memory(&self) -> Result<Value, BoxError>;
}

/// How a column is read back from the in-memory store.
#[doc(hidden)]
pub trait MemoryDecode: Sized {
    /// The Rust value of a stored value.
    fn from_memory(value: &Value) -> Result<Self, BoxError>;
}

/// A stored value. Every variant but `Null` is one column type's representation.
#[derive(Debug, Clone)]
pub enum Value {
    /// `NULL`.
    Null,
    /// Any integer column.
    Int(i64),
    /// `f32` and `f64` columns.
    Float(f64),
    /// `bool`.
    Bool(bool),
    /// Text, and enums stored as text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A date and time without zone: microseconds since 1970-01-01 00:00.
    Timestamp(i64),
    /// An instant: microseconds since the Unix epoch, UTC.
    Instant(i64),
    /// A date: days since 1970-01-01.
    Date(i64),
    /// A time of day: microseconds since midnight.
    Time(i64),
    /// A UUID.
    Uuid([u8; 16]),
    /// An exact decimal.
    #[cfg(feature = "rust_decimal")]
    Decimal(rust_decimal::Decimal),
    /// JSON, as its text.
    Json(String),
}

impl Value {
    /// Position among the variants, so that values of different types still order totally.
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Int(_) => 1,
            Value::Float(_) => 2,
            Value::Bool(_) => 3,
            Value::Text(_) => 4,
            Value::Bytes(_) => 5,
            Value::Timestamp(_) => 6,
            Value::Instant(_) => 7,
            Value::Date(_) => 8,
            Value::Time(_) => 9,
            Value::Uuid(_) => 10,
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(_) => 11,
            Value::Json(_) => 12,
        }
    }

    /// Whether this is `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The SQL comparison: `None` when either side is `NULL` (unknown) or the types differ.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        if self.is_null() || other.is_null() {
            return None;
        }
        match (self, other) {
            (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
            (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            _ if self.rank() == other.rank() => Some(self.cmp(other)),
            _ => None,
        }
    }

    /// The text of a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The name of the value's type, for decode errors.
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "INTEGER",
            Value::Float(_) => "REAL",
            Value::Bool(_) => "BOOLEAN",
            Value::Text(_) => "TEXT",
            Value::Bytes(_) => "BLOB",
            Value::Timestamp(_) => "TIMESTAMP",
            Value::Instant(_) => "TIMESTAMPTZ",
            Value::Date(_) => "DATE",
            Value::Time(_) => "TIME",
            Value::Uuid(_) => "UUID",
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(_) => "DECIMAL",
            Value::Json(_) => "JSON",
        }
    }
}

/// A total order (for keys and sorting): `NULL` first, then by type, then by value.
impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Int(a), Value::Int(b))
            | (Value::Timestamp(a), Value::Timestamp(b))
            | (Value::Instant(a), Value::Instant(b))
            | (Value::Date(a), Value::Date(b))
            | (Value::Time(a), Value::Time(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) | (Value::Json(a), Value::Json(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (Value::Uuid(a), Value::Uuid(b)) => a.cmp(b),
            #[cfg(feature = "rust_decimal")]
            (Value::Decimal(a), Value::Decimal(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

pub(super) fn mismatch(expected: &str, found: &Value) -> BoxError {
    format!("expected {expected}, found {}", found.type_name()).into()
}

impl<T: MemoryEncode + ?Sized> MemoryEncode for &T {
    const TIME_CRATE: bool = T::TIME_CRATE;

    fn to_memory(&self) -> Result<Value, BoxError> {
        (**self).to_memory()
    }
}

impl<T: MemoryEncode> MemoryEncode for Option<T> {
    const TIME_CRATE: bool = T::TIME_CRATE;

    fn to_memory(&self) -> Result<Value, BoxError> {
        match self {
            Some(value) => value.to_memory(),
            None => Ok(Value::Null),
        }
    }
}

impl<T: MemoryDecode> MemoryDecode for Option<T> {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Null => Ok(None),
            value => T::from_memory(value).map(Some),
        }
    }
}

macro_rules! integer {
    ($($ty:ty),*) => {$(
        impl MemoryEncode for $ty {
            fn to_memory(&self) -> Result<Value, BoxError> {
                Ok(Value::Int(i64::from(*self)))
            }
        }

        impl MemoryDecode for $ty {
            fn from_memory(value: &Value) -> Result<Self, BoxError> {
                match value {
                    Value::Int(int) => <$ty>::try_from(*int).map_err(|_| {
                        format!("{int} is out of range for {}", stringify!($ty)).into()
                    }),
                    other => Err(mismatch("INTEGER", other)),
                }
            }
        }
    )*};
}

integer!(i16, i32, i64);

impl MemoryEncode for f32 {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Float(f64::from(*self)))
    }
}

impl MemoryEncode for f64 {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Float(*self))
    }
}

impl MemoryDecode for f64 {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Float(float) => Ok(*float),
            Value::Int(int) => Ok(*int as f64),
            other => Err(mismatch("REAL", other)),
        }
    }
}

impl MemoryDecode for f32 {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        // Stored from an f32, so narrowing gives the same value back.
        f64::from_memory(value).map(|float| float as f32)
    }
}

impl MemoryEncode for bool {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Bool(*self))
    }
}

impl MemoryDecode for bool {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Bool(flag) => Ok(*flag),
            other => Err(mismatch("BOOLEAN", other)),
        }
    }
}

impl MemoryEncode for str {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Text(self.to_owned()))
    }
}

impl MemoryEncode for String {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Text(self.clone()))
    }
}

impl MemoryDecode for String {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Text(text) => Ok(text.clone()),
            other => Err(mismatch("TEXT", other)),
        }
    }
}

impl MemoryEncode for [u8] {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Bytes(self.to_vec()))
    }
}

impl MemoryEncode for Vec<u8> {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Bytes(self.clone()))
    }
}

impl MemoryDecode for Vec<u8> {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Bytes(bytes) => Ok(bytes.clone()),
            other => Err(mismatch("BLOB", other)),
        }
    }
}
