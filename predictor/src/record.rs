//! Where prediction records live: the storage layout (Hive-style day partitions, shared with
//! the sales) and the time formats of keys and records. The record itself is a wire type
//! ([`crate::wire::PredictionRecord`]), re-exported here.

use time::OffsetDateTime;
use time::macros::format_description;

/// The API id a deploy's smoke test puts in the API Gateway request context of the events it
/// invokes a version with. API Gateway writes that field itself for real requests, so a client
/// cannot pass for the smoke test.
pub const SMOKE_TEST_API_ID: &str = "smoke-test";

/// The API id a canary watch puts in the events it replays through the canary's version (as
/// [`SMOKE_TEST_API_ID`], a client cannot pass for it).
pub const CANARY_REPLAY_API_ID: &str = "canary-replay";

/// The header of a replayed request that carries the price the old version gave the same
/// house; the function reports `price_shift` against it (replays only).
pub const BASELINE_PRICE_HEADER: &str = "x-amesops-baseline-price";

pub use crate::wire::{OutOfRange, PredictionRecord, Source};

/// Prefix under which all records are stored.
pub const PREFIX: &str = "predictions/";

/// RFC 3339 with microseconds, UTC.
pub fn rfc3339_micros(t: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.format(&format).unwrap_or_default()
}

/// The day partition of `prefix` (records, sales, summaries): `<prefix>dt=YYYY-MM-DD/`. Every
/// key the project stores by day is built here, so readers and writers agree on the layout.
pub fn partition(prefix: &str, day: &str) -> String {
    format!("{prefix}dt={day}/")
}

/// The day of a partition or of a key in one (`predictions/dt=2026-11-27/…` → `2026-11-27`).
pub fn partition_day(key: &str) -> Option<&str> {
    let rest = &key[key.find("dt=")? + 3..];
    let day = rest.split('/').next().unwrap_or(rest);
    (!day.is_empty()).then_some(day)
}

/// The storage key: `predictions/dt=YYYY-MM-DD/<YYYYMMDDTHHMMSS.ffffffZ>-<id>.json` (Hive-style,
/// lexicographic order is time order).
pub fn record_key(t: OffsetDateTime, id: &str) -> String {
    let day = format_description!("[year]-[month]-[day]");
    let stamp =
        format_description!("[year][month][day]T[hour][minute][second].[subsecond digits:6]Z");
    format!(
        "{}{}-{id}.json",
        partition(PREFIX, &t.format(&day).unwrap_or_default()),
        t.format(&stamp).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_hive_partitioned_by_day_and_sorts_by_time() {
        let t = time::macros::datetime!(2026-11-27 09:05:03.000042 UTC);
        assert_eq!(
            record_key(t, "abc"),
            "predictions/dt=2026-11-27/20261127T090503.000042Z-abc.json"
        );
        assert_eq!(rfc3339_micros(t), "2026-11-27T09:05:03.000042Z");
        let later = time::macros::datetime!(2026-11-27 10:00:00 UTC);
        assert!(record_key(later, "a") > record_key(t, "z"));
        assert_eq!(partition_day(&record_key(t, "abc")), Some("2026-11-27"));
        assert_eq!(
            partition_day("predictions/dt=2026-11-27/"),
            Some("2026-11-27")
        );
        assert_eq!(partition_day("predictions/"), None);
    }
}
