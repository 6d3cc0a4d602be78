//! Writes a sample PDF: `cargo run --example sample-pdf -- OUT [PAGES] [PAD_BYTES]`.
fn main() {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .expect("usage: sample-pdf OUT [PAGES] [PAD_BYTES]");
    let pages = args.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let pad_to = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let options = kyso::pdf::sample::SampleOptions {
        pages,
        pad_to,
        ..Default::default()
    };
    std::fs::write(out, kyso::pdf::sample::sample_pdf(&options)).expect("write the sample");
}
