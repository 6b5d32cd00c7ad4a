//! How the column types are bound and read through rusqlite (feature `rusqlite`): in exactly the
//! forms sqlx's SQLite driver writes (dates as its text, UUIDs as 16-byte blobs, booleans as
//! integers), so that one database file reads the same through either driver, and read back
//! as leniently as that driver reads them.

use rusqlite::types::{Value, ValueRef};

use crate::error::BoxError;

/// How a value is bound as a parameter through rusqlite.
#[doc(hidden)]
pub trait ToSqlite {
    /// The value SQLite stores.
    fn to_sqlite(&self) -> Result<Value, BoxError>;
}

/// How a column is read through rusqlite.
#[doc(hidden)]
pub trait FromSqlite: Sized {
    /// The Rust value of a stored value.
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError>;
}

fn mismatch(wanted: &str, value: ValueRef<'_>) -> BoxError {
    let stored = match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    };
    format!("mismatched types: a {wanted} column holds {stored}").into()
}

/// The text of a value stored as text.
fn text<'a>(value: ValueRef<'a>, wanted: &str) -> Result<&'a str, BoxError> {
    match value {
        ValueRef::Text(bytes) => Ok(std::str::from_utf8(bytes)?),
        other => Err(mismatch(wanted, other)),
    }
}

impl<T: ToSqlite + ?Sized> ToSqlite for &T {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        (**self).to_sqlite()
    }
}

impl<T: ToSqlite> ToSqlite for Option<T> {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        match self {
            Some(value) => value.to_sqlite(),
            None => Ok(Value::Null),
        }
    }
}

impl<T: FromSqlite> FromSqlite for Option<T> {
    #[inline]
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_sqlite(other).map(Some),
        }
    }
}

macro_rules! integer {
    ($($ty:ty),*) => {$(
        impl ToSqlite for $ty {
            #[inline]
            fn to_sqlite(&self) -> Result<Value, BoxError> {
                Ok(Value::Integer(i64::from(*self)))
            }
        }

        impl FromSqlite for $ty {
            #[inline]
            fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
                match value {
                    ValueRef::Integer(integer) => Ok(<$ty>::try_from(integer)?),
                    other => Err(mismatch(stringify!($ty), other)),
                }
            }
        }
    )*};
}

integer!(i16, i32, i64);

impl ToSqlite for f64 {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Real(*self))
    }
}

impl ToSqlite for f32 {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Real(f64::from(*self)))
    }
}

impl FromSqlite for f64 {
    #[inline]
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Real(real) => Ok(real),
            // SQLite stores a REAL with no fraction as an integer where the column allows it.
            ValueRef::Integer(integer) => Ok(integer as f64),
            other => Err(mismatch("REAL", other)),
        }
    }
}

impl FromSqlite for f32 {
    #[inline]
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        // As sqlx reads it: the column is a double, narrowed.
        f64::from_sqlite(value).map(|real| real as f32)
    }
}

impl ToSqlite for bool {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Integer(i64::from(*self)))
    }
}

impl FromSqlite for bool {
    #[inline]
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Integer(integer) => Ok(integer != 0),
            other => Err(mismatch("BOOLEAN", other)),
        }
    }
}

impl ToSqlite for str {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Text(self.to_owned()))
    }
}

impl ToSqlite for String {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Text(self.clone()))
    }
}

impl FromSqlite for String {
    #[inline]
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        text(value, "TEXT").map(str::to_owned)
    }
}

impl ToSqlite for [u8] {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Blob(self.to_vec()))
    }
}

impl ToSqlite for Vec<u8> {
    #[inline]
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Blob(self.clone()))
    }
}

impl FromSqlite for Vec<u8> {
    #[inline]
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Ok(bytes.to_vec()),
            other => Err(mismatch("BLOB", other)),
        }
    }
}

#[cfg(feature = "chrono")]
mod chrono_values {
    use chrono::{
        DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat,
        TimeZone, Utc,
    };

    use super::*;

    /// The text forms sqlx's SQLite driver (after Diesel's) reads, after RFC 3339.
    const DATE_TIME_FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];

    pub(super) fn date_time(value: ValueRef<'_>) -> Result<DateTime<FixedOffset>, BoxError> {
        let parsed = match value {
            ValueRef::Text(_) => {
                let text = text(value, "DATETIME")?;
                DateTime::parse_from_rfc3339(text).ok().or_else(|| {
                    DATE_TIME_FORMATS.iter().find_map(|format| {
                        DateTime::parse_from_str(text, format).ok().or_else(|| {
                            NaiveDateTime::parse_from_str(text, format)
                                .ok()
                                .map(|naive| Utc.fix().from_utc_datetime(&naive))
                        })
                    })
                })
            }
            ValueRef::Integer(seconds) => Utc.fix().timestamp_opt(seconds, 0).single(),
            ValueRef::Real(julian) => from_julian_day(julian),
            other => return Err(mismatch("DATETIME", other)),
        };
        parsed.ok_or_else(|| "invalid datetime".into())
    }

    fn from_julian_day(julian: f64) -> Option<DateTime<FixedOffset>> {
        let seconds = (julian - 2_440_587.5) * 86_400.0;
        if !seconds.is_finite() {
            return None;
        }
        let nanos = (seconds.fract() * 1e9).abs() as u32;
        Utc.fix()
            .timestamp_opt(seconds.trunc() as i64, nanos)
            .single()
    }

    impl ToSqlite for DateTime<Utc> {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(
                self.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            ))
        }
    }

    impl FromSqlite for DateTime<Utc> {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            date_time(value).map(|instant| instant.with_timezone(&Utc))
        }
    }

    impl ToSqlite for NaiveDateTime {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format("%F %T%.f").to_string()))
        }
    }

    impl FromSqlite for NaiveDateTime {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            date_time(value).map(|instant| instant.naive_local())
        }
    }

    impl ToSqlite for NaiveDate {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format("%F").to_string()))
        }
    }

    impl FromSqlite for NaiveDate {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            Ok(NaiveDate::parse_from_str(text(value, "DATE")?, "%F")?)
        }
    }

    impl ToSqlite for NaiveTime {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format("%T%.f").to_string()))
        }
    }

    impl FromSqlite for NaiveTime {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            const FORMATS: [&str; 6] = ["%T%.f", "%R", "%RZ", "%T%.fZ", "%R%:z", "%T%.f%:z"];
            let text = text(value, "TIME")?;
            FORMATS
                .iter()
                .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
                .ok_or_else(|| format!("invalid time: {text}").into())
        }
    }
}

#[cfg(feature = "time")]
mod time_values {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    use super::*;

    const DATE_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
    const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]");
    const TIME: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[hour]:[minute]:[second].[subsecond]");

    /// The text forms of a date and time without zone read besides the one written.
    const OTHER_DATE_TIMES: [&[time::format_description::BorrowedFormatItem<'static>]; 4] = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ];

    fn primitive(value: ValueRef<'_>) -> Result<PrimitiveDateTime, BoxError> {
        match value {
            ValueRef::Text(_) => {
                let text = text(value, "DATETIME")?;
                std::iter::once(DATE_TIME)
                    .chain(OTHER_DATE_TIMES)
                    .find_map(|format| PrimitiveDateTime::parse(text, format).ok())
                    .ok_or_else(|| format!("invalid datetime: {text}").into())
            }
            ValueRef::Integer(seconds) => {
                let instant = OffsetDateTime::from_unix_timestamp(seconds)?;
                Ok(PrimitiveDateTime::new(instant.date(), instant.time()))
            }
            other => Err(mismatch("DATETIME", other)),
        }
    }

    impl ToSqlite for OffsetDateTime {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format(&Rfc3339)?))
        }
    }

    impl FromSqlite for OffsetDateTime {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            if let ValueRef::Text(_) = value
                && let Ok(instant) = OffsetDateTime::parse(text(value, "DATETIME")?, &Rfc3339)
            {
                return Ok(instant);
            }
            primitive(value).map(PrimitiveDateTime::assume_utc)
        }
    }

    impl ToSqlite for PrimitiveDateTime {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format(DATE_TIME)?))
        }
    }

    impl FromSqlite for PrimitiveDateTime {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            primitive(value)
        }
    }

    impl ToSqlite for Date {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format(DATE)?))
        }
    }

    impl FromSqlite for Date {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            Ok(Date::parse(text(value, "DATE")?, DATE)?)
        }
    }

    impl ToSqlite for Time {
        fn to_sqlite(&self) -> Result<Value, BoxError> {
            Ok(Value::Text(self.format(TIME)?))
        }
    }

    impl FromSqlite for Time {
        fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
            const OTHERS: [&[time::format_description::BorrowedFormatItem<'static>]; 2] = [
                format_description!("[hour]:[minute]:[second]"),
                format_description!("[hour]:[minute]"),
            ];
            let text = text(value, "TIME")?;
            std::iter::once(TIME)
                .chain(OTHERS)
                .find_map(|format| Time::parse(text, format).ok())
                .ok_or_else(|| format!("invalid time: {text}").into())
        }
    }
}

#[cfg(feature = "uuid")]
impl ToSqlite for uuid::Uuid {
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Blob(self.as_bytes().to_vec()))
    }
}

#[cfg(feature = "uuid")]
impl FromSqlite for uuid::Uuid {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Blob(bytes) => Ok(uuid::Uuid::from_slice(bytes)?),
            other => Err(mismatch("UUID", other)),
        }
    }
}

#[cfg(feature = "json")]
impl ToSqlite for serde_json::Value {
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Text(self.to_string()))
    }
}

#[cfg(feature = "json")]
impl FromSqlite for serde_json::Value {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Ok(serde_json::from_slice(bytes)?),
            other => Err(mismatch("JSON", other)),
        }
    }
}

#[cfg(feature = "json")]
impl<T: serde::Serialize> ToSqlite for sqlx::types::Json<T> {
    fn to_sqlite(&self) -> Result<Value, BoxError> {
        Ok(Value::Text(serde_json::to_string(&self.0)?))
    }
}

#[cfg(feature = "json")]
impl<T: serde::de::DeserializeOwned> FromSqlite for sqlx::types::Json<T> {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, BoxError> {
        match value {
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                Ok(sqlx::types::Json(serde_json::from_slice(bytes)?))
            }
            other => Err(mismatch("JSON", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_narrow_with_a_range_check() {
        assert_eq!(i16::from_sqlite(ValueRef::Integer(7)).unwrap(), 7);
        assert!(i16::from_sqlite(ValueRef::Integer(70_000)).is_err());
        assert!(i64::from_sqlite(ValueRef::Text(b"7")).is_err());
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_values_are_written_as_sqlx_writes_them_and_read_back() {
        use chrono::{DateTime, NaiveDate, Utc};
        let instant = DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        let stored = instant.to_sqlite().unwrap();
        assert_eq!(
            stored,
            Value::Text("2023-11-14T22:13:20.123456+00:00".into())
        );
        let Value::Text(text) = &stored else {
            unreachable!()
        };
        let back = DateTime::<Utc>::from_sqlite(ValueRef::Text(text.as_bytes())).unwrap();
        assert_eq!(back, instant);
        let naive = instant.naive_utc();
        let Value::Text(text) = naive.to_sqlite().unwrap() else {
            unreachable!()
        };
        assert_eq!(text, "2023-11-14 22:13:20.123456");
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(day.to_sqlite().unwrap(), Value::Text("2024-02-29".into()));
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_values_round_trip() {
        use time::macros::datetime;
        let instant = datetime!(2023-11-14 22:13:20.123456 UTC);
        let Value::Text(text) = instant.to_sqlite().unwrap() else {
            unreachable!()
        };
        let back = time::OffsetDateTime::from_sqlite(ValueRef::Text(text.as_bytes())).unwrap();
        assert_eq!(back, instant);
        let naive = datetime!(2023-11-14 22:13:20.5);
        let Value::Text(text) = naive.to_sqlite().unwrap() else {
            unreachable!()
        };
        assert_eq!(text, "2023-11-14 22:13:20.5");
        let back = time::PrimitiveDateTime::from_sqlite(ValueRef::Text(text.as_bytes())).unwrap();
        assert_eq!(back, naive);
    }
}
