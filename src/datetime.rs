//! The two date formats of SPEC §3 (`YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD`), read strictly
//! and turned into seconds since 1970-01-01 UTC so that they can be compared.

/// Parses `YYYY-MM-DD HH:MM:SS` (a real calendar date and time).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(' ')?;
    let days = parse_date_days(date)?;
    let mut parts = time.split(':');
    let h = two_digits(parts.next()?)?;
    let m = two_digits(parts.next()?)?;
    let sec = two_digits(parts.next()?)?;
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec))
}

/// Parses `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (midnight).
pub fn parse_date_or_datetime(s: &str) -> Option<i64> {
    if s.len() == 10 {
        parse_date_days(s).map(|d| d * 86_400)
    } else {
        parse_datetime(s)
    }
}

fn parse_date_days(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let y = digits(parts.next()?, 4)?;
    let m = two_digits(parts.next()?)?;
    let d = two_digits(parts.next()?)?;
    if parts.next().is_some() || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d))
}

fn two_digits(s: &str) -> Option<u32> {
    digits(s, 2)
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn reads_both_formats() {
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_datetime("2026-12-03 12:00:00"), Some(1_796_299_200));
        assert_eq!(parse_date_or_datetime("2000-03-01"), Some(951_868_800));
        assert_eq!(
            parse_date_or_datetime("2000-03-01 00:00:01"),
            Some(951_868_801)
        );
    }

    #[test]
    fn refuses_impossible_dates_and_loose_formats() {
        for bad in [
            "2023-02-29 00:00:00",
            "1900-02-29 00:00:00",
            "2024-13-01 00:00:00",
            "2024-04-31 00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 23:60:00",
            "2024-01-01T10:00:00",
            "2024-1-01 10:00:00",
            "2024-01-01 10:00",
            "2024-01-01 10:00:00Z",
            "+024-01-01 10:00:00",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert!(parse_datetime("2024-02-29 23:59:59").is_some());
        assert!(parse_datetime("2000-02-29 00:00:00").is_some());
        assert_eq!(parse_date_or_datetime("2024-02-30"), None);
        assert_eq!(parse_datetime("2024-01-01"), None);
    }
}
