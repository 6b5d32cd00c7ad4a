//! The in-memory forms of the column types behind cargo features: dates and times (kept to
//! the microsecond, as the databases keep them), UUIDs, decimals and JSON.

#![cfg(any(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "rust_decimal",
    feature = "json"
))]

use super::{MemoryDecode, MemoryEncode};
use super::{Value, mismatch};
use crate::error::BoxError;

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
        const TIME_CRATE: bool = true;

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
        const TIME_CRATE: bool = true;

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
        const TIME_CRATE: bool = true;

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
        const TIME_CRATE: bool = true;

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
