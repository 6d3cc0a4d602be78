//! RFC 3161 timestamp tokens: verification and use as proof of signing time (not yet
//! implemented).
