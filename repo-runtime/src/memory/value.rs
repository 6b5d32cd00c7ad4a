//! [`Value`]: one column's value as the in-memory store keeps it, and the conversions of the
//! types statements bind and rows read. Times are kept to the microsecond, as the databases
//! keep them, so a value reads back from memory exactly as it would from a server.

use std::cmp::Ordering;

use crate::error::BoxError;
use crate::value::{MemoryDecode, MemoryEncode};

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

fn mismatch(expected: &str, found: &Value) -> BoxError {
    format!("expected {expected}, found {}", found.type_name()).into()
}

impl<T: MemoryEncode + ?Sized> MemoryEncode for &T {
    fn to_memory(&self) -> Result<Value, BoxError> {
        (**self).to_memory()
    }
}

impl<T: MemoryEncode> MemoryEncode for Option<T> {
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

#[cfg(any(feature = "chrono", feature = "time"))]
const MICROS_PER_DAY: i64 = 86_400_000_000;

#[cfg(feature = "chrono")]
mod chrono_values {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

    use super::*;

    /// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
    const EPOCH_DAYS_FROM_CE: i64 = 719_163;

    fn out_of_range(what: &str) -> BoxError {
        format!("the stored {what} is out of chrono's range").into()
    }

    impl MemoryEncode for NaiveDateTime {
        fn to_memory(&self) -> Result<Value, BoxError> {
            Ok(Value::Timestamp(self.and_utc().timestamp_micros()))
        }
    }

    impl MemoryDecode for NaiveDateTime {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Timestamp(micros) => DateTime::from_timestamp_micros(*micros)
                    .map(|instant| instant.naive_utc())
                    .ok_or_else(|| out_of_range("timestamp")),
                other => Err(mismatch("TIMESTAMP", other)),
            }
        }
    }

    impl MemoryEncode for DateTime<Utc> {
        fn to_memory(&self) -> Result<Value, BoxError> {
            Ok(Value::Instant(self.timestamp_micros()))
        }
    }

    impl MemoryDecode for DateTime<Utc> {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Instant(micros) => {
                    DateTime::from_timestamp_micros(*micros).ok_or_else(|| out_of_range("instant"))
                }
                other => Err(mismatch("TIMESTAMPTZ", other)),
            }
        }
    }

    impl MemoryEncode for NaiveDate {
        fn to_memory(&self) -> Result<Value, BoxError> {
            Ok(Value::Date(
                i64::from(chrono::Datelike::num_days_from_ce(self)) - EPOCH_DAYS_FROM_CE,
            ))
        }
    }

    impl MemoryDecode for NaiveDate {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Date(days) => i32::try_from(days + EPOCH_DAYS_FROM_CE)
                    .ok()
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .ok_or_else(|| out_of_range("date")),
                other => Err(mismatch("DATE", other)),
            }
        }
    }

    impl MemoryEncode for NaiveTime {
        fn to_memory(&self) -> Result<Value, BoxError> {
            let micros = i64::from(self.num_seconds_from_midnight()) * 1_000_000
                + i64::from(self.nanosecond() / 1_000);
            Ok(Value::Time(micros.min(MICROS_PER_DAY - 1)))
        }
    }

    impl MemoryDecode for NaiveTime {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Time(micros) => u32::try_from(micros / 1_000_000)
                    .ok()
                    .zip(u32::try_from(micros % 1_000_000 * 1_000).ok())
                    .and_then(|(secs, nanos)| {
                        NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
                    })
                    .ok_or_else(|| out_of_range("time")),
                other => Err(mismatch("TIME", other)),
            }
        }
    }
}

#[cfg(feature = "time")]
mod time_values {
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

    use super::*;

    /// The Julian day of 1970-01-01.
    const EPOCH_JULIAN_DAY: i64 = 2_440_588;

    fn micros_of(instant: OffsetDateTime) -> Result<i64, BoxError> {
        i64::try_from(instant.unix_timestamp_nanos().div_euclid(1_000))
            .map_err(|_| "the instant is out of range".into())
    }

    fn instant_of(micros: i64) -> Result<OffsetDateTime, BoxError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map_err(|error| error.to_string().into())
    }

    impl MemoryEncode for PrimitiveDateTime {
        fn to_memory(&self) -> Result<Value, BoxError> {
            micros_of(self.assume_utc()).map(Value::Timestamp)
        }
    }

    impl MemoryDecode for PrimitiveDateTime {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Timestamp(micros) => {
                    let instant = instant_of(*micros)?;
                    Ok(PrimitiveDateTime::new(instant.date(), instant.time()))
                }
                other => Err(mismatch("TIMESTAMP", other)),
            }
        }
    }

    impl MemoryEncode for OffsetDateTime {
        fn to_memory(&self) -> Result<Value, BoxError> {
            micros_of(*self).map(Value::Instant)
        }
    }

    impl MemoryDecode for OffsetDateTime {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Instant(micros) => Ok(instant_of(*micros)?.to_offset(UtcOffset::UTC)),
                other => Err(mismatch("TIMESTAMPTZ", other)),
            }
        }
    }

    impl MemoryEncode for Date {
        fn to_memory(&self) -> Result<Value, BoxError> {
            Ok(Value::Date(
                i64::from(self.to_julian_day()) - EPOCH_JULIAN_DAY,
            ))
        }
    }

    impl MemoryDecode for Date {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Date(days) => i32::try_from(days + EPOCH_JULIAN_DAY)
                    .map_err(|_| BoxError::from("the stored date is out of range"))
                    .and_then(|day| {
                        Date::from_julian_day(day).map_err(|error| error.to_string().into())
                    }),
                other => Err(mismatch("DATE", other)),
            }
        }
    }

    impl MemoryEncode for Time {
        fn to_memory(&self) -> Result<Value, BoxError> {
            let (hour, minute, second, micro) = self.as_hms_micro();
            Ok(Value::Time(
                ((i64::from(hour) * 60 + i64::from(minute)) * 60 + i64::from(second)) * 1_000_000
                    + i64::from(micro),
            ))
        }
    }

    impl MemoryDecode for Time {
        fn from_memory(value: &Value) -> Result<Self, BoxError> {
            match value {
                Value::Time(micros) if (0..MICROS_PER_DAY).contains(micros) => {
                    let seconds = micros / 1_000_000;
                    // In range by the guard: each part fits its type.
                    let (hour, minute, second) = (
                        (seconds / 3_600) as u8,
                        (seconds / 60 % 60) as u8,
                        (seconds % 60) as u8,
                    );
                    Time::from_hms_micro(hour, minute, second, (micros % 1_000_000) as u32)
                        .map_err(|error| error.to_string().into())
                }
                other => Err(mismatch("TIME", other)),
            }
        }
    }
}

#[cfg(feature = "uuid")]
impl MemoryEncode for uuid::Uuid {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Uuid(*self.as_bytes()))
    }
}

#[cfg(feature = "uuid")]
impl MemoryDecode for uuid::Uuid {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Uuid(bytes) => Ok(uuid::Uuid::from_bytes(*bytes)),
            other => Err(mismatch("UUID", other)),
        }
    }
}

#[cfg(feature = "rust_decimal")]
impl MemoryEncode for rust_decimal::Decimal {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Decimal(*self))
    }
}

#[cfg(feature = "rust_decimal")]
impl MemoryDecode for rust_decimal::Decimal {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Decimal(decimal) => Ok(*decimal),
            other => Err(mismatch("DECIMAL", other)),
        }
    }
}

#[cfg(feature = "json")]
impl MemoryEncode for serde_json::Value {
    fn to_memory(&self) -> Result<Value, BoxError> {
        Ok(Value::Json(self.to_string()))
    }
}

#[cfg(feature = "json")]
impl MemoryDecode for serde_json::Value {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Json(text) => Ok(serde_json::from_str(text)?),
            other => Err(mismatch("JSON", other)),
        }
    }
}

#[cfg(feature = "json")]
impl<T: serde::Serialize> MemoryEncode for sqlx::types::Json<T> {
    fn to_memory(&self) -> Result<Value, BoxError> {
        // Through `serde_json::Value`, so that object keys are sorted as a JSON column keeps them.
        let value = serde_json::to_value(&self.0)?;
        Ok(Value::Json(value.to_string()))
    }
}

#[cfg(feature = "json")]
impl<T: serde::de::DeserializeOwned> MemoryDecode for sqlx::types::Json<T> {
    fn from_memory(value: &Value) -> Result<Self, BoxError> {
        match value {
            Value::Json(text) => Ok(sqlx::types::Json(serde_json::from_str(text)?)),
            other => Err(mismatch("JSON", other)),
        }
    }
}
