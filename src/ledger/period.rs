//! Reporting periods and the UTC ranges they cover.
//!
//! Periods are calendar periods in Asia/Ho_Chi_Minh: a document issued at 00:00 local time on
//! 1 July belongs to the second half-year, although it is still 30 June in UTC. Vietnam has kept
//! UTC+7 without daylight saving since 1975, so a fixed offset is exact for every date the ledger
//! can hold and no time-zone database is needed. (Should that ever change, this is the one place
//! to change.)
//!
//! Accepted forms: `2022-07-01` (day), `2022-07` (month), `2022-Q3` (quarter), `2022-H1`
//! (half-year), `2022` (year), and `2022-01-15..2022-02-14` (custom, both days included).
//! This module refuses everything else rather than guess.

use std::fmt;

use serde::Serialize;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::Error;

/// Asia/Ho_Chi_Minh: the crate's one definition of Vietnam's offset.
pub use crate::VIETNAM;

/// A calendar period in Vietnamese local time. Made only by [`Period::parse`], which bounds the
/// year, so that every period has a first and a last day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period(Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Day(Date),
    Month {
        year: i32,
        month: Month,
    },
    Quarter {
        year: i32,
        quarter: u8,
    },
    Half {
        year: i32,
        half: u8,
    },
    Year(i32),
    /// From the first day to the last day, both included.
    Custom {
        first: Date,
        last: Date,
    },
}

/// A half-open UTC range `[start, end)`, what stores query with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
}

impl TimeRange {
    /// Whether `t` falls in the range.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.start <= t && t < self.end
    }
}

impl Period {
    /// Parses one of the forms listed in the module documentation.
    pub fn parse(input: &str) -> Result<Period, Error> {
        let fail = |reason: &str| Error::InvalidPeriod {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let s = input.trim();
        if let Some((first, last)) = s.split_once("..") {
            let first =
                parse_day(first).ok_or_else(|| fail("custom range start is not YYYY-MM-DD"))?;
            let last = parse_day(last).ok_or_else(|| fail("custom range end is not YYYY-MM-DD"))?;
            if last < first {
                return Err(fail("custom range ends before it starts"));
            }
            return Ok(Period(Kind::Custom { first, last }));
        }
        let (year, rest) = match s.split_once('-') {
            Some((year, rest)) => (year, Some(rest)),
            None => (s, None),
        };
        let year =
            parse_year(year).ok_or_else(|| fail("year must be four digits, 1970 to 9998"))?;
        let Some(rest) = rest else {
            return Ok(Period(Kind::Year(year)));
        };
        if let Some(q) = rest.strip_prefix(['Q', 'q']) {
            return match q {
                "1" | "2" | "3" | "4" => Ok(Period(Kind::Quarter {
                    year,
                    quarter: q.parse().expect("BUG: matched a digit"),
                })),
                _ => Err(fail("quarter must be Q1 to Q4")),
            };
        }
        if let Some(h) = rest.strip_prefix(['H', 'h']) {
            return match h {
                "1" | "2" => Ok(Period(Kind::Half {
                    year,
                    half: h.parse().expect("BUG: matched a digit"),
                })),
                _ => Err(fail("half-year must be H1 or H2")),
            };
        }
        match rest.split_once('-') {
            None => {
                let month = two_digits(rest)
                    .and_then(|m| Month::try_from(m).ok())
                    .ok_or_else(|| fail("month must be 01 to 12"))?;
                Ok(Period(Kind::Month { year, month }))
            }
            Some(_) => parse_day(s).map(|d| Period(Kind::Day(d))).ok_or_else(|| {
                fail("expected YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY or DAY..DAY")
            }),
        }
    }

    /// The first and last local day of the period.
    pub fn days(&self) -> (Date, Date) {
        let first_of = |year: i32, month: u8| {
            Date::from_calendar_date(
                year,
                Month::try_from(month).expect("BUG: month in 1..=12"),
                1,
            )
            .expect("BUG: parse bounds years to 1970..=9998")
        };
        let (first, next) = match self.0 {
            Kind::Day(d) => return (d, d),
            Kind::Custom { first, last } => return (first, last),
            Kind::Month { year, month } => {
                let m = month as u8;
                let next = if m == 12 {
                    first_of(year + 1, 1)
                } else {
                    first_of(year, m + 1)
                };
                (first_of(year, m), next)
            }
            Kind::Quarter { year, quarter } => {
                let m = (quarter - 1) * 3 + 1;
                let next = if quarter == 4 {
                    first_of(year + 1, 1)
                } else {
                    first_of(year, m + 3)
                };
                (first_of(year, m), next)
            }
            Kind::Half { year, half } => {
                let m = (half - 1) * 6 + 1;
                let next = if half == 2 {
                    first_of(year + 1, 1)
                } else {
                    first_of(year, 7)
                };
                (first_of(year, m), next)
            }
            Kind::Year(year) => (first_of(year, 1), first_of(year + 1, 1)),
        };
        (
            first,
            next.previous_day()
                .expect("BUG: the day after a period start has a predecessor"),
        )
    }

    /// The calendar months the period touches, each cut to the period: `2022-H1` gives
    /// `2022-01` … `2022-06`; `2022-01-15..2022-02-10` gives `2022-01-15..2022-01-31` and
    /// `2022-02-01..2022-02-10`. A trend by month is these periods' reports side by side, so
    /// the months together cover exactly the period's days, no more and no fewer.
    pub fn months(&self) -> Vec<Period> {
        let (first, last) = self.days();
        let mut out = Vec::new();
        let mut start = first;
        while start <= last {
            let (year, month) = (start.year(), start.month());
            let month_last = Date::from_calendar_date(year, month, month.length(year))
                .expect("BUG: a month's length is a valid day of it");
            let end = month_last.min(last);
            let whole = start.day() == 1 && end == month_last;
            out.push(Period(if whole {
                Kind::Month { year, month }
            } else {
                Kind::Custom {
                    first: start,
                    last: end,
                }
            }));
            match end.next_day() {
                Some(next) => start = next,
                None => break,
            }
        }
        out
    }

    /// The UTC range from local midnight of the first day to local midnight after the last.
    pub fn range(&self) -> TimeRange {
        let (first, last) = self.days();
        let end_day = last.next_day().unwrap_or(last);
        TimeRange {
            start: local_midnight(first),
            end: local_midnight(end_day),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Day(d) => write!(f, "{}", day(*d)),
            Kind::Month { year, month } => write!(f, "{year:04}-{:02}", *month as u8),
            Kind::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Kind::Half { year, half } => write!(f, "{year:04}-H{half}"),
            Kind::Year(year) => write!(f, "{year:04}"),
            Kind::Custom { first, last } => write!(f, "{}..{}", day(*first), day(*last)),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A local (UTC+7) day as `YYYY-MM-DD`.
pub fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// The instant in UTC of 00:00 local time on `date`.
pub fn local_midnight(date: Date) -> OffsetDateTime {
    PrimitiveDateTime::new(date, Time::MIDNIGHT)
        .assume_offset(VIETNAM)
        .to_offset(UtcOffset::UTC)
}

fn parse_year(s: &str) -> Option<i32> {
    // 1970 onwards because stores keep Unix seconds; 9998 so that "the year after" exists.
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|y| (1970..=9998).contains(y))
}

fn two_digits(s: &str) -> Option<u8> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_day(s: &str) -> Option<Date> {
    let mut parts = s.trim().split('-');
    let year = parse_year(parts.next()?)?;
    let month = Month::try_from(two_digits(parts.next()?)?).ok()?;
    let day = two_digits(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn half_year_boundary_is_local_midnight() {
        let h1 = Period::parse("2022-H1").unwrap().range();
        assert_eq!(h1.start, datetime!(2021-12-31 17:00 UTC));
        assert_eq!(h1.end, datetime!(2022-06-30 17:00 UTC));
        // 00:00 on 1 July in Hanoi is 17:00 on 30 June UTC: second half.
        let midnight = datetime!(2022-07-01 00:00 +07:00);
        assert!(!h1.contains(midnight));
        assert!(Period::parse("2022-H2").unwrap().range().contains(midnight));
        assert!(h1.contains(datetime!(2022-06-30 23:59:59 +07:00)));
    }

    #[test]
    fn every_form_parses_and_prints_back() {
        for s in [
            "2022-07-01",
            "2022-07",
            "2022-Q3",
            "2022-H2",
            "2022",
            "2022-01-15..2022-02-14",
        ] {
            assert_eq!(Period::parse(s).unwrap().to_string(), s);
        }
        let q4 = Period::parse("2022-Q4").unwrap().days();
        assert_eq!(day(q4.0), "2022-10-01");
        assert_eq!(day(q4.1), "2022-12-31");
        let feb = Period::parse("2024-02").unwrap().days();
        assert_eq!(day(feb.1), "2024-02-29");
        let custom = Period::parse("2022-01-15..2022-01-15").unwrap().range();
        assert_eq!(custom.end - custom.start, time::Duration::DAY);
    }

    #[test]
    fn months_cover_the_period_exactly() {
        let names = |s: &str| -> Vec<String> {
            Period::parse(s)
                .unwrap()
                .months()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            names("2022-H1"),
            [
                "2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06"
            ]
        );
        assert_eq!(names("2022").len(), 12);
        assert_eq!(names("2022-Q4"), ["2022-10", "2022-11", "2022-12"]);
        assert_eq!(names("2024-02"), ["2024-02"]);
        assert_eq!(names("2022-03-05"), ["2022-03-05..2022-03-05"]);
        assert_eq!(
            names("2021-12-15..2022-02-10"),
            [
                "2021-12-15..2021-12-31",
                "2022-01",
                "2022-02-01..2022-02-10"
            ]
        );
        let period = Period::parse("2021-12-15..2022-02-10").unwrap();
        let months = period.months();
        assert_eq!(months[0].range().start, period.range().start);
        assert_eq!(months[2].range().end, period.range().end);
        for pair in months.windows(2) {
            assert_eq!(pair[0].range().end, pair[1].range().start);
        }
    }

    #[test]
    fn malformed_periods_are_refused_with_reason() {
        for (s, reason) in [
            ("2022-H3", "half-year"),
            ("2022-Q0", "quarter"),
            ("2022-13", "month"),
            ("22-H1", "year"),
            ("2022-02-30", "YYYY-MM-DD"),
            ("2022-02-01..2022-01-01", "ends before"),
            ("", "year"),
        ] {
            let err = Period::parse(s).unwrap_err().to_string();
            assert!(err.contains(reason), "{s}: {err}");
        }
    }
}
