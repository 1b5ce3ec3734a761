//! Metadata from sliced files: ASCII G-code, Prusa binary G-code (`.bgcode`) and 3MF
//! (`.3mf` projects and sliced `.gcode.3mf`); geometry from STL and 3MF design files, with
//! a software-rendered picture ([`raster`]) for models that carry none.
//!
//! [`inspect`] reads only what it needs from a `Read + Seek` source: the head and tail windows
//! of a G-code file, the block headers of a `.bgcode` up to its first G-code block, and the zip
//! central directory plus a few small members of a 3MF. A 500 MB G-code costs the same as a
//! 5 MB one. The same code runs natively and on `wasm32-unknown-unknown` (no threads, no
//! filesystem, no mmap). Hostile input gives a [`SliceError`] or warnings, never a panic.

mod bgcode;
mod error;
mod extract;
mod gcode;
mod heatshrink;
mod info;
pub mod mesh;
mod meta;
mod model3mf;
pub mod raster;
mod slicers;
mod sparse;
mod stl;
mod summary;
mod text;
mod threemf;
pub mod thumbnail;
mod window;
mod xml;
mod zip;

use std::io::{Read, Seek};

pub use error::SliceError;
pub use info::{
    Filament, FileFormat, ModelInfo, Plate, SliceInfo, Slicer, Thumbnail, ThumbnailFormat,
};
pub use mesh::Mesh;
pub use sparse::{FETCH_ALIGN, NeedRange, SparseReader, SparseStep, inspect_sparse, seek_target};
pub use stl::MAX_TRIANGLES as MAX_STL_TRIANGLES;
pub use summary::format_duration;

use window::Source;

/// How many bytes are looked at to tell an ASCII G-code from anything else.
const SNIFF_LEN: usize = 4096;

/// Reads the metadata of one sliced file.
///
/// The format is detected from the magic bytes (`GCDE` for `.bgcode`, `PK\x03\x04` for 3MF),
/// then from the extension of `file_name` and the look of the first bytes (STL, ASCII G-code).
/// `file_name` is only used for detection and copied into [`SliceInfo::file`].
pub fn inspect<R: Read + Seek>(reader: &mut R, file_name: &str) -> Result<SliceInfo, SliceError> {
    let mut src = Source::new(reader)?;
    if src.len() == 0 {
        return Err(SliceError::Empty);
    }
    let first = src.read_at(0, SNIFF_LEN)?;
    let lower = file_name.to_ascii_lowercase();
    let info = if first.starts_with(b"GCDE") {
        bgcode::inspect(&mut src, file_name)?
    } else if first.starts_with(b"PK\x03\x04") || first.starts_with(b"PK\x05\x06") {
        threemf::inspect(&mut src, file_name)?
    } else if lower.ends_with(".bgcode") || lower.ends_with(".bgc") {
        return Err(SliceError::Invalid {
            format: "bgcode",
            reason: "the file does not start with GCDE".into(),
        });
    } else if lower.ends_with(".3mf") {
        return Err(SliceError::Invalid {
            format: "3mf",
            reason: "the file is not a zip archive".into(),
        });
    } else if lower.ends_with(".stl") || stl::looks_like(&first, src.len()) {
        stl::inspect(&mut src, file_name)?
    } else if text::looks_like_text(&first) {
        gcode::inspect(&mut src, file_name)?
    } else {
        return Err(SliceError::UnknownFormat);
    };
    Ok(info)
}

/// [`inspect`] over bytes already in memory (a browser `ArrayBuffer`, a test fixture).
pub fn inspect_bytes(bytes: &[u8], file_name: &str) -> Result<SliceInfo, SliceError> {
    inspect(&mut std::io::Cursor::new(bytes), file_name)
}
