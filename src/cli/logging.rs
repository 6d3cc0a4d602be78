//! Log output: JSON lines when stderr is not a terminal (collected by a service manager), plain
//! text on a terminal. Never a PIN, key or document content: those types cannot be formatted.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use kyso::config::{LogConfig, LogFormat};

pub fn init(config: &LogConfig) {
    // cryptoki logs an ERROR for every mechanism number it has no name for when a token lists
    // its mechanisms (vendor mechanisms, newer ones): noise, not errors, so it is silenced.
    let directives = format!("{},cryptoki::mechanism=off", config.level);
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new("warn,cryptoki::mechanism=off"));
    let json = match config.format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests calling main twice) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
