//! Property tests: arbitrary values of every column type round-trip unchanged through each
//! backend, edge values included. Where a backend cannot store a value the result is a typed
//! error, never a panic or a silently changed value:
//!
//! - PostgreSQL `TEXT` cannot hold NUL: a string with one is `RepoError::InvalidInput`;
//!   SQLite and MariaDB store it.
//! - Floats must be finite on every backend (SQLite would store NaN as NULL, MariaDB refuses
//!   it): NaN and infinities are `RepoError::InvalidInput` before anything is sent.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use repo_runtime::chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use repo_runtime::prelude::*;
use repo_runtime::rust_decimal::Decimal;
use repo_runtime::time;
use repo_runtime::uuid::Uuid;
use repo_tests::{Backend, TestDb};

/// One value of every column type.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "samples")]
struct Sample {
    #[repo(id)]
    id: i64,
    small: i16,
    medium: i32,
    large: i64,
    single: f32,
    double: f64,
    flag: bool,
    text: String,
    maybe_text: Option<String>,
    bytes: Vec<u8>,
    decimal: Decimal,
    uuid: Uuid,
    instant: DateTime<Utc>,
    local: NaiveDateTime,
    date: NaiveDate,
    time_local: time::PrimitiveDateTime,
    time_date: time::Date,
    time_of_day: time::Time,
}

fn edge_or_any<T: std::fmt::Debug + Clone + 'static>(
    edges: Vec<T>,
    any: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![1 => proptest::sample::select(edges), 3 => any].boxed()
}

/// Microsecond instants within every backend's range (MariaDB: years 1000–9999).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let first = NaiveDate::from_ymd_opt(1000, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap();
    (
        first.and_utc().timestamp()..=last.and_utc().timestamp(),
        0u32..1_000_000,
    )
        .prop_map(|(seconds, micros)| DateTime::from_timestamp(seconds, micros * 1_000).unwrap())
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO
}

fn finite_f32() -> impl Strategy<Value = f32> {
    prop::num::f32::NORMAL | prop::num::f32::SUBNORMAL | prop::num::f32::ZERO
}

/// Text of any Unicode, sometimes with NUL in it.
fn text() -> impl Strategy<Value = String> {
    edge_or_any(
        vec![
            String::new(),
            "\0".into(),
            "a\0b".into(),
            " trailing ".into(),
            "🦀".repeat(3),
        ],
        "\\PC{0,40}",
    )
}

fn sample() -> impl Strategy<Value = Sample> {
    let numbers = (
        edge_or_any(vec![i16::MIN, i16::MAX, 0], any::<i16>()),
        edge_or_any(vec![i32::MIN, i32::MAX, 0], any::<i32>()),
        edge_or_any(vec![i64::MIN, i64::MAX, 0, -1], any::<i64>()),
        edge_or_any(
            vec![f32::MIN, f32::MAX, f32::MIN_POSITIVE, -0.0],
            finite_f32(),
        ),
        edge_or_any(
            vec![f64::MIN, f64::MAX, f64::MIN_POSITIVE, -0.0],
            finite_f64(),
        ),
        any::<bool>(),
    );
    let decimal = (any::<i64>(), any::<u32>(), 0u32..=28).prop_map(|(low, high, scale)| {
        let mantissa = (i128::from(high) << 64) | i128::from(low as u64);
        Decimal::from_i128_with_scale(mantissa % 10i128.pow(28), scale)
    });
    let rest = (
        text(),
        proptest::option::of(text()),
        proptest::collection::vec(any::<u8>(), 0..64),
        decimal,
        any::<u128>().prop_map(Uuid::from_u128),
        instant(),
        instant().prop_map(|instant| instant.naive_utc()),
        instant().prop_map(|instant| instant.date_naive()),
        instant().prop_map(|instant| to_time(instant.naive_utc())),
    );
    (numbers, rest).prop_map(
        |(
            (small, medium, large, single, double, flag),
            (text, maybe_text, bytes, decimal, uuid, instant, local, date, time_local),
        )| Sample {
            id: 0,
            small,
            medium,
            large,
            single,
            double,
            flag,
            text,
            maybe_text,
            bytes,
            decimal,
            uuid,
            instant,
            local,
            date,
            time_date: time_local.date(),
            time_of_day: time_local.time(),
            time_local,
        },
    )
}

/// The same date and time in the `time` crate.
fn to_time(local: NaiveDateTime) -> time::PrimitiveDateTime {
    use repo_runtime::chrono::{Datelike, Timelike};
    let month = time::Month::try_from(local.month() as u8).unwrap();
    let date = time::Date::from_calendar_date(local.year(), month, local.day() as u8).unwrap();
    let clock = time::Time::from_hms_micro(
        local.hour() as u8,
        local.minute() as u8,
        local.second() as u8,
        local.nanosecond() / 1_000,
    )
    .unwrap();
    time::PrimitiveDateTime::new(date, clock)
}

fn plain_sample() -> Sample {
    let instant = DateTime::from_timestamp(1_700_000_000, 123_000).unwrap();
    Sample {
        id: 0,
        small: 1,
        medium: 2,
        large: 3,
        single: 1.5,
        double: 2.5,
        flag: true,
        text: "text".into(),
        maybe_text: None,
        bytes: vec![1, 2],
        decimal: Decimal::new(12_345, 2),
        uuid: Uuid::nil(),
        instant,
        local: instant.naive_utc(),
        date: instant.date_naive(),
        time_local: to_time(instant.naive_utc()),
        time_date: to_time(instant.naive_utc()).date(),
        time_of_day: to_time(instant.naive_utc()).time(),
    }
}

fn has_nul(sample: &Sample) -> bool {
    sample.text.contains('\0')
        || sample
            .maybe_text
            .as_deref()
            .is_some_and(|t| t.contains('\0'))
}

/// Runs the property on one backend; skipped (with the harness's message) when its server is
/// not configured.
fn values_round_trip(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some(test) = runtime.block_on(TestDb::new(backend, "roundtrip")) else {
        return;
    };
    let db = &test.db;
    runtime.block_on(db.create_schema::<Sample>()).unwrap();
    let samples = Sample::repository(db);
    let next_id = std::sync::atomic::AtomicI64::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&sample(), |mut value| {
            value.id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            runtime.block_on(async {
                let stored = samples.insert(value.clone()).await;
                if backend == Backend::Postgres && has_nul(&value) {
                    prop_assert!(
                        matches!(stored, Err(RepoError::InvalidInput { .. })),
                        "NUL on PostgreSQL: {stored:?}"
                    );
                    prop_assert!(!samples.exists(value.id).await.unwrap());
                    return Ok(());
                }
                prop_assert_eq!(
                    stored.map_err(|e| TestCaseError::fail(e.to_string()))?,
                    value.clone()
                );
                let read = samples
                    .get(value.id)
                    .await
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(read, value);
                Ok(())
            })
        })
        .unwrap();
    // Non-finite floats are refused alike everywhere, and nothing is written.
    for (single, double) in [
        (0.0, f64::NAN),
        (f32::INFINITY, 0.0),
        (0.0, f64::NEG_INFINITY),
    ] {
        let id = i64::MAX;
        let probe = Sample {
            id,
            single,
            double,
            ..plain_sample()
        };
        let error = runtime.block_on(samples.insert(probe)).unwrap_err();
        match &error {
            RepoError::InvalidInput { entity, message } => {
                assert_eq!(*entity, "Sample");
                assert!(message.contains("finite"), "{message}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        assert!(!runtime.block_on(samples.exists(id)).unwrap());
    }
}

#[test]
fn values_round_trip_on_sqlite() {
    values_round_trip(Backend::Sqlite);
}

#[test]
fn values_round_trip_on_sqlite_through_rusqlite() {
    values_round_trip(Backend::Rusqlite);
}

#[test]
fn values_round_trip_on_postgres() {
    values_round_trip(Backend::Postgres);
}

#[test]
fn values_round_trip_on_mysql() {
    values_round_trip(Backend::MySql);
}

#[test]
fn values_round_trip_in_memory() {
    values_round_trip(Backend::Memory);
}
