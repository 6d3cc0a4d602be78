//! Shared helpers for the conformance runners.

/// A tally printed as `suite: N passed, M failed, K unsupported`.
#[derive(Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: Vec<String>,
    pub unsupported: Vec<(String, String)>,
}

impl Tally {
    pub fn print(&self, suite: &str) {
        for f in &self.failed {
            println!("  FAIL {f}");
        }
        for (name, why) in &self.unsupported {
            println!("  UNSUPPORTED {name}: {why}");
        }
        println!(
            "{suite}: {} passed, {} failed, {} unsupported",
            self.passed,
            self.failed.len(),
            self.unsupported.len()
        );
    }
}
