//! Calendar days as the store names them (`YYYY-MM-DD`, UTC) and ISO weeks.

use time::{Date, OffsetDateTime};

/// Today in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

// One reading and writing of the store's day names for the router (`POST /sales`) and the
// console: a sale posted over HTTP and one imported from a CSV land in the same partition.
pub use predictor::sales::{day_string, parse_day};

/// The ISO week of a day: `2026-W48`.
pub fn iso_week(date: Date) -> String {
    let (year, week, _) = date.to_iso_week_date();
    format!("{year:04}-W{week:02}")
}

/// The Monday of a day's ISO week.
pub fn week_start(date: Date) -> Date {
    let back = date.weekday().number_days_from_monday();
    date - time::Duration::days(i64::from(back))
}

/// Parses a window length: `30d`, `2w`, `12h` is refused (days are the unit), or a bare number
/// of days.
pub fn parse_since(text: &str) -> Result<u32, String> {
    let t = text.trim().to_ascii_lowercase();
    let (number, scale) = if let Some(n) = t.strip_suffix('d') {
        (n, 1)
    } else if let Some(n) = t.strip_suffix('w') {
        (n, 7)
    } else {
        (t.as_str(), 1)
    };
    match number.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n * scale),
        _ => Err(format!(
            "{text:?}: give a number of days or weeks, e.g. 30d or 4w"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_weeks() {
        let d = parse_day("2026-11-27").expect("date");
        assert_eq!(day_string(d), "2026-11-27");
        assert_eq!(iso_week(d), "2026-W48");
        assert_eq!(day_string(week_start(d)), "2026-11-23");
        assert!(parse_day("2026-13-01").is_none());
        assert!(parse_day("27/11/2026").is_none());
        assert_eq!(parse_since("30d"), Ok(30));
        assert_eq!(parse_since("2w"), Ok(14));
        assert!(parse_since("0d").is_err());
    }
}
