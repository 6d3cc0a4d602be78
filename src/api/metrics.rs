//! `/metrics`: counters and latency histograms in the Prometheus text exposition format
//! (version 0.0.4), written by hand: a few dozen series do not need a metrics framework.
//!
//! Labels are unit codes, key names, indications and route templates: bounded sets fixed by the
//! configuration and the code, never values a client chooses (a client-chosen label would let
//! one caller grow the registry without bound). Unit codes, key names and token labels are shown
//! to an admin key only ([`Exposure`]); a scraper without one gets the same series summed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::token::PoolStats;

/// Latency buckets in seconds: SoftHSM signs in about 1 ms, a queued request waits tens of ms,
/// and anything past 10 s is a problem whatever its exact value.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bucket, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bucket {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Default)]
struct Inner {
    /// (unit, key, result) → count.
    signatures: BTreeMap<(String, String, &'static str), u64>,
    /// indication → count.
    verifications: BTreeMap<&'static str, u64>,
    /// (permission, kind) → count.
    denials: BTreeMap<(&'static str, &'static str), u64>,
    /// (route, status) → count.
    requests: BTreeMap<(String, u16), u64>,
    /// route → latency.
    latency: BTreeMap<String, Histogram>,
    /// Time a signature spent in the HSM step (queue wait excluded).
    sign_latency: Histogram,
    /// Requests refused because a queue was full, by queue.
    rejected: BTreeMap<&'static str, u64>,
    /// Events and audit entries committed per group commit.
    ledger_groups: Histogram,
    /// Connections closed by the server's timeouts, by reason.
    connections_closed: BTreeMap<&'static str, u64>,
}

/// Who reads the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// An admin key: every label (units, key names, token labels).
    Operator,
    /// No key (a scraper, anyone who reaches the port): the same series without the labels
    /// that name units, keys or tokens, summed over them.
    Public,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A signature attempt with key `key` of `unit` ended with `result` (`ok`, `error`).
    pub fn signature(&self, unit: &str, key: &str, result: &'static str) {
        self.with(|m| {
            *m.signatures
                .entry((unit.to_owned(), key.to_owned(), result))
                .or_default() += 1
        });
    }

    pub fn sign_duration(&self, took: Duration) {
        self.with(|m| m.sign_latency.observe(took.as_secs_f64()));
    }

    pub fn verification(&self, indication: &'static str) {
        self.with(|m| *m.verifications.entry(indication).or_default() += 1);
    }

    pub fn denied(&self, permission: &'static str, kind: &'static str) {
        self.with(|m| *m.denials.entry((permission, kind)).or_default() += 1);
    }

    pub fn rejected(&self, queue: &'static str) {
        self.with(|m| *m.rejected.entry(queue).or_default() += 1);
    }

    pub fn request(&self, route: &str, status: u16, took: Duration) {
        self.with(|m| {
            *m.requests.entry((route.to_owned(), status)).or_default() += 1;
            m.latency
                .entry(route.to_owned())
                .or_default()
                .observe(took.as_secs_f64());
        });
    }

    /// The server closed a connection: `header_timeout`, `idle_timeout` or `write_stalled`.
    pub fn connection_closed(&self, reason: &'static str) {
        self.with(|m| *m.connections_closed.entry(reason).or_default() += 1);
    }

    pub fn ledger_group(&self, size: usize) {
        // Recorded as a histogram of sizes; the buckets are seconds, so sizes are scaled to
        // thousands to reuse them (1 ↔ 0.001).
        self.with(|m| m.ledger_groups.observe(size as f64 / 1000.0));
    }

    /// The exposition text, with the session pools of the open tokens, the queue depths and
    /// the open connections (open, capacity).
    pub fn render(
        &self,
        pools: &[(String, PoolStats)],
        queues: &[(&'static str, usize, usize)],
        connections: (usize, usize),
        exposure: Exposure,
    ) -> String {
        let mut out = String::new();
        self.with(|m| {
            header(
                &mut out,
                "kyso_signatures_total",
                "counter",
                "Signature attempts by unit, key and result.",
            );
            match exposure {
                Exposure::Operator => {
                    for ((unit, key, result), n) in &m.signatures {
                        let _ = writeln!(
                            out,
                            "kyso_signatures_total{{unit=\"{}\",key=\"{}\",result=\"{result}\"}} {n}",
                            escape(unit),
                            escape(key)
                        );
                    }
                }
                Exposure::Public => {
                    let mut by_result: BTreeMap<&'static str, u64> = BTreeMap::new();
                    for ((_, _, result), n) in &m.signatures {
                        *by_result.entry(result).or_default() += n;
                    }
                    for (result, n) in by_result {
                        let _ = writeln!(out, "kyso_signatures_total{{result=\"{result}\"}} {n}");
                    }
                }
            }
            header(
                &mut out,
                "kyso_verifications_total",
                "counter",
                "Documents verified, by the document's indication.",
            );
            for (indication, n) in &m.verifications {
                let _ = writeln!(
                    out,
                    "kyso_verifications_total{{indication=\"{indication}\"}} {n}"
                );
            }
            header(
                &mut out,
                "kyso_denials_total",
                "counter",
                "Requests refused by authentication or authorisation.",
            );
            for ((permission, kind), n) in &m.denials {
                let _ = writeln!(
                    out,
                    "kyso_denials_total{{permission=\"{permission}\",kind=\"{kind}\"}} {n}"
                );
            }
            header(
                &mut out,
                "kyso_rejected_total",
                "counter",
                "Requests refused with 503 because a queue was full.",
            );
            for (queue, n) in &m.rejected {
                let _ = writeln!(out, "kyso_rejected_total{{queue=\"{queue}\"}} {n}");
            }
            header(
                &mut out,
                "kyso_http_requests_total",
                "counter",
                "HTTP requests by route and status.",
            );
            for ((route, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "kyso_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
            header(
                &mut out,
                "kyso_http_request_duration_seconds",
                "histogram",
                "Time to the response's head, by route.",
            );
            for (route, h) in &m.latency {
                histogram(
                    &mut out,
                    "kyso_http_request_duration_seconds",
                    &format!("route=\"{}\"", escape(route)),
                    h,
                    1.0,
                );
            }
            header(
                &mut out,
                "kyso_sign_duration_seconds",
                "histogram",
                "Time spent signing (preparing, HSM, embedding), queue wait excluded.",
            );
            histogram(
                &mut out,
                "kyso_sign_duration_seconds",
                "",
                &m.sign_latency,
                1.0,
            );
            header(
                &mut out,
                "kyso_connections_closed_total",
                "counter",
                "Connections the server closed: a request head too slow, idle too long, or a response not read.",
            );
            for (reason, n) in &m.connections_closed {
                let _ = writeln!(
                    out,
                    "kyso_connections_closed_total{{reason=\"{reason}\"}} {n}"
                );
            }
            header(
                &mut out,
                "kyso_ledger_group_size",
                "histogram",
                "Requests committed together by one ledger transaction.",
            );
            histogram(
                &mut out,
                "kyso_ledger_group_size",
                "",
                &m.ledger_groups,
                1000.0,
            );
        });
        // (labels of a token's series, its counters): per token for operators, one sum otherwise
        // (a token's label names whose keys it holds).
        let pools: Vec<(String, PoolStats)> = match exposure {
            Exposure::Operator => pools
                .iter()
                .map(|(token, stats)| (format!("token=\"{}\"", escape(token)), *stats))
                .collect(),
            Exposure::Public if pools.is_empty() => Vec::new(),
            Exposure::Public => {
                let mut all = PoolStats::default();
                for (_, stats) in pools {
                    all.max_sessions += stats.max_sessions;
                    all.open += stats.open;
                    all.idle += stats.idle;
                    all.opened_total += stats.opened_total;
                    all.discarded_total += stats.discarded_total;
                    all.waits_total += stats.waits_total;
                }
                vec![(String::new(), all)]
            }
        };
        header(
            &mut out,
            "kyso_hsm_sessions",
            "gauge",
            "PKCS#11 sessions of each token's pool, by state.",
        );
        for (labels, stats) in &pools {
            let sep = if labels.is_empty() { "" } else { "," };
            for (state, n) in [
                ("open", stats.open),
                ("idle", stats.idle),
                ("in_use", stats.open.saturating_sub(stats.idle)),
                ("max", stats.max_sessions),
            ] {
                let _ = writeln!(
                    out,
                    "kyso_hsm_sessions{{{labels}{sep}state=\"{state}\"}} {n}"
                );
            }
        }
        header(
            &mut out,
            "kyso_hsm_session_waits_total",
            "counter",
            "Session checkouts that waited for a free session.",
        );
        for (labels, stats) in &pools {
            let _ = writeln!(
                out,
                "kyso_hsm_session_waits_total{} {}",
                braces(labels),
                stats.waits_total
            );
        }
        header(
            &mut out,
            "kyso_hsm_sessions_opened_total",
            "counter",
            "Sessions opened, re-opens after failures included.",
        );
        for (labels, stats) in &pools {
            let _ = writeln!(
                out,
                "kyso_hsm_sessions_opened_total{} {}",
                braces(labels),
                stats.opened_total
            );
        }
        header(
            &mut out,
            "kyso_queue_in_use",
            "gauge",
            "Admitted requests per queue (in work or waiting).",
        );
        for (queue, used, _) in queues {
            let _ = writeln!(out, "kyso_queue_in_use{{queue=\"{queue}\"}} {used}");
        }
        header(
            &mut out,
            "kyso_queue_capacity",
            "gauge",
            "Requests a queue admits before answering 503.",
        );
        for (queue, _, capacity) in queues {
            let _ = writeln!(out, "kyso_queue_capacity{{queue=\"{queue}\"}} {capacity}");
        }
        header(
            &mut out,
            "kyso_connections_open",
            "gauge",
            "Open connections; at kyso_connections_max new ones wait to be accepted.",
        );
        let _ = writeln!(out, "kyso_connections_open {}", connections.0);
        header(
            &mut out,
            "kyso_connections_max",
            "gauge",
            "Connections served at once ([serve] max_connections).",
        );
        let _ = writeln!(out, "kyso_connections_max {}", connections.1);
        out
    }
}

/// `{labels}`, or nothing for no labels.
fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram, scale: f64) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (bucket, count) in BUCKETS.iter().zip(h.counts.iter()) {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"{}\"}} {count}",
            bucket * scale
        );
    }
    let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", h.sum * scale);
    let _ = writeln!(out, "{name}_count{braces} {}", h.count);
}

/// Escapes a label value (backslash, double quote, newline), as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.signature("STP", "stp-01", "ok");
        m.signature("STP", "stp-01", "ok");
        m.verification("TOTAL-PASSED");
        m.denied("sign", "unit");
        m.sign_duration(Duration::from_millis(3));
        m.connection_closed("header_timeout");
        let text = m.render(&[], &[("sign", 1, 8)], (3, 512), Exposure::Operator);
        assert!(
            text.contains("kyso_signatures_total{unit=\"STP\",key=\"stp-01\",result=\"ok\"} 2"),
            "{text}"
        );
        assert!(text.contains("kyso_verifications_total{indication=\"TOTAL-PASSED\"} 1"));
        assert!(text.contains("kyso_denials_total{permission=\"sign\",kind=\"unit\"} 1"));
        assert!(
            text.contains("kyso_sign_duration_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(text.contains("kyso_sign_duration_seconds_bucket{le=\"0.0025\"} 0"));
        assert!(text.contains("kyso_queue_capacity{queue=\"sign\"} 8"));
        assert!(text.contains("kyso_connections_closed_total{reason=\"header_timeout\"} 1"));
        assert!(text.contains("kyso_connections_open 3\n"), "{text}");
        assert!(text.contains("kyso_connections_max 512\n"), "{text}");
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }

    #[test]
    fn the_public_view_names_no_unit_key_or_token() {
        let m = Metrics::default();
        m.signature("STP", "stp-01", "ok");
        m.signature("SYT", "syt-01", "ok");
        m.signature("SYT", "syt-01", "error");
        let pool = PoolStats {
            max_sessions: 4,
            open: 2,
            idle: 1,
            ..PoolStats::default()
        };
        let pools = [
            ("token-stp".to_owned(), pool),
            ("token-syt".to_owned(), pool),
        ];
        let text = m.render(&pools, &[], (0, 512), Exposure::Public);
        for named in ["STP", "SYT", "stp-01", "token-"] {
            assert!(!text.contains(named), "{named}: {text}");
        }
        assert!(
            text.contains("kyso_signatures_total{result=\"ok\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("kyso_hsm_sessions{state=\"max\"} 8"),
            "{text}"
        );
        assert!(text.contains("kyso_hsm_session_waits_total 0"), "{text}");
        let text = m.render(&pools, &[], (0, 512), Exposure::Operator);
        assert!(
            text.contains("kyso_hsm_sessions{token=\"token-syt\",state=\"max\"} 4"),
            "{text}"
        );
    }
}
