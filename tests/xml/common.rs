//! Helpers shared by the XML tests.

/// Whether an external tool is on PATH; interop tests skip (loudly) without it.
pub fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
