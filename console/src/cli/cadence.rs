//! When the retrain scheduler runs: a fixed interval (`24h`) or a crontab expression
//! (`0 3 * * 1`, in local time, with crontab's meaning: 0 or 7 is Sunday).

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Local};

/// How often `amesops retrain --every` runs.
#[derive(Debug, Clone)]
pub enum Cadence {
    /// Right away, then this long after each run ends.
    Interval(Duration),
    /// At the times a crontab expression names, in local time.
    Cron(Box<croner::Cron>),
}

impl Cadence {
    /// Parses `90s`, `30m`, `24h`, `7d`, or a cron expression of 5 fields (6 with seconds first).
    pub fn parse(text: &str) -> Result<Cadence, String> {
        let text = text.trim();
        if !text.contains(char::is_whitespace) && !text.starts_with('@') {
            return parse_duration(text).map(Cadence::Interval);
        }
        croner::Cron::from_str(text)
            .map(|cron| Cadence::Cron(Box::new(cron))).map_err(|e| {
            format!(
                "{text:?} is not a cron expression ({e}); expected minute hour day-of-month month \
                 day-of-week, e.g. \"0 3 * * *\" for 03:00 every day, or an interval such as 24h"
            )
        })
    }

    /// Whether the first run waits for the schedule (cron) or starts at once (interval).
    pub fn runs_at_start(&self) -> bool {
        matches!(self, Cadence::Interval(_))
    }

    /// How long to wait from `now` until the next run.
    pub fn wait_from(&self, now: DateTime<Local>) -> Result<Duration, String> {
        match self {
            Cadence::Interval(every) => Ok(*every),
            Cadence::Cron(cron) => {
                let next = cron.find_next_occurrence(&now, false).map_err(|e| {
                    format!("the cron expression {:?} never fires: {e}", cron.as_str())
                })?;
                Ok((next - now).to_std().unwrap_or_default())
            }
        }
    }

    /// For logs: `{"every_s": 86400}` or `{"cron": "0 3 * * *", "meaning": "At 03:00"}`.
    pub fn describe(&self) -> serde_json::Value {
        match self {
            Cadence::Interval(every) => serde_json::json!({ "every_s": every.as_secs() }),
            Cadence::Cron(cron) => serde_json::json!({
                "cron": cron.as_str(),
                "meaning": cron.describe(),
                "time_zone": "local",
            }),
        }
    }
}

/// Parses `90s`, `30m`, `24h`, `7d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with s, m, h or d, e.g. 24h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?}; use s, m, h or d"
            ));
        }
    };
    if seconds == 0 {
        return Err("the interval must be at least 1s".to_string());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Local> {
        Local
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("an unambiguous local time")
    }

    #[test]
    fn intervals_and_cron_expressions_parse() {
        assert!(matches!(
            Cadence::parse("24h"),
            Ok(Cadence::Interval(d)) if d == Duration::from_secs(86_400)
        ));
        assert!(matches!(Cadence::parse("0 3 * * *"), Ok(Cadence::Cron(_))));
        assert!(matches!(Cadence::parse("@daily"), Ok(Cadence::Cron(_))));
        let error = Cadence::parse("0 25 * * *").expect_err("hour 25");
        assert!(error.contains("minute hour"), "{error}");
        assert!(Cadence::parse("3 days").is_err());
        assert!(Cadence::parse("0s").is_err());
    }

    #[test]
    fn cron_waits_follow_crontab_meaning() {
        // Friday 27 November 2026, 13:45 local time.
        let now = local(2026, 11, 27, 13, 45, 0);
        let wait = |expr: &str| {
            Cadence::parse(expr)
                .expect("parses")
                .wait_from(now)
                .expect("fires")
        };
        assert_eq!(wait("0 3 * * *"), Duration::from_secs((13 * 60 + 15) * 60));
        assert_eq!(wait("*/15 * * * *"), Duration::from_secs(15 * 60));
        // 1 is Monday (30 November), 0 and 7 are Sunday (29 November), as in crontab.
        let monday = local(2026, 11, 30, 3, 0, 0) - now;
        assert_eq!(wait("0 3 * * 1"), monday.to_std().expect("future"));
        let sunday = (local(2026, 11, 29, 3, 0, 0) - now)
            .to_std()
            .expect("future");
        assert_eq!(wait("0 3 * * 0"), sunday);
        assert_eq!(wait("0 3 * * 7"), sunday);
        // Six fields: seconds first.
        assert_eq!(wait("*/5 * * * * *"), Duration::from_secs(5));
        assert!(Cadence::parse("0 3 * * *").expect("parses").describe()["cron"] == "0 3 * * *");
    }

    #[test]
    fn intervals_run_at_start_and_cron_waits() {
        assert!(Cadence::parse("1h").expect("parses").runs_at_start());
        assert!(!Cadence::parse("0 * * * *").expect("parses").runs_at_start());
    }

    #[test]
    fn durations_parse_with_units_and_reject_nonsense() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_duration("3x").is_err());
        assert!(parse_duration("").is_err());
    }
}
