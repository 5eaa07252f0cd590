//! One Lambda zip: a single entry `bootstrap` (the `provided.al2023` entry point), written
//! so the same binary always gives the same bytes: DEFLATE level 9, timestamp
//! 1980-01-01 00:00:00 (the zip format's earliest), Unix mode `0755` with "made by" Unix,
//! no extra fields, no comment.

use std::io::{Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

/// The entry's name: Lambda runs `bootstrap` from the zip's root.
pub const ENTRY_NAME: &str = "bootstrap";
/// The entry's Unix permissions (`rwxr-xr-x`).
pub const ENTRY_MODE: u32 = 0o755;

/// Writes the zip of `binary` to `out` and returns `out`.
///
/// # Errors
/// An I/O error of `out`, or a binary of 4 GiB or more (no zip64 is written).
pub fn write_bootstrap_zip<W: Write + Seek>(out: W, binary: &[u8]) -> zip::result::ZipResult<W> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(ENTRY_MODE)
        .system(System::Unix)
        .large_file(false);
    let mut zip = ZipWriter::new(out);
    zip.start_file(ENTRY_NAME, options)?;
    zip.write_all(binary)?;
    zip.finish()
}
