//! Prusa binary G-code (`.bgcode`, libbgcode spec v1): walks the block headers from the file
//! header to the first G-code block, decoding metadata blocks (none / zlib / heatshrink) and
//! taking thumbnail blocks raw. G-code blocks are never read.

use std::io::{Read, Seek};

use super::meta::Meta;
use super::window::Source;
use super::{FileFormat, SliceError, SliceInfo, extract, heatshrink, slicers, text, thumbnail};

/// Decoded size allowed for one metadata block (PrusaSlicer's are ≤ 40 KB).
const MAX_METADATA: u32 = 16 * 1024 * 1024;
/// Blocks walked before giving up on finding the first G-code block.
const MAX_BLOCKS: usize = 4096;

const FILE_METADATA: u16 = 0;
const GCODE: u16 = 1;
const SLICER_METADATA: u16 = 2;
const PRINTER_METADATA: u16 = 3;
const PRINT_METADATA: u16 = 4;
const THUMBNAIL: u16 = 5;

fn le_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn block_name(kind: u16) -> &'static str {
    match kind {
        FILE_METADATA => "file metadata",
        GCODE => "G-code",
        SLICER_METADATA => "slicer metadata",
        PRINTER_METADATA => "printer metadata",
        PRINT_METADATA => "print metadata",
        _ => "thumbnail",
    }
}

/// Decompresses a block payload to exactly `size` bytes.
pub(crate) fn decompress(
    compression: u16,
    data: Vec<u8>,
    size: u32,
    what: &str,
) -> Result<Vec<u8>, SliceError> {
    let out = match compression {
        0 => data,
        1 => {
            let mut out = Vec::new();
            let decoder = flate2::read::ZlibDecoder::new(data.as_slice());
            super::window::Limited::new(decoder, u64::from(size), what)
                .read_to_end(&mut out)
                .map_err(|e| SliceError::invalid("bgcode", format!("{what}: {e}")))?;
            out
        }
        2 => heatshrink::decode(&data, 11, 4, size as usize)?,
        3 => heatshrink::decode(&data, 12, 4, size as usize)?,
        other => {
            return Err(SliceError::invalid(
                "bgcode",
                format!("{what}: unknown compression {other}"),
            ));
        }
    };
    if out.len() != size as usize {
        return Err(SliceError::invalid(
            "bgcode",
            format!(
                "{what} decodes to {} bytes, its header says {size}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

pub(crate) fn inspect<R: Read + Seek>(
    src: &mut Source<R>,
    file_name: &str,
) -> Result<SliceInfo, SliceError> {
    let header = src.read_exact_at(0, 10, "the file header")?;
    let version = le_u32(&header, 4);
    if version != 1 {
        return Err(SliceError::UnsupportedVersion {
            format: "bgcode",
            version,
        });
    }
    let checksum_size: u64 = match le_u16(&header, 8) {
        0 => 0,
        1 => 4,
        other => {
            return Err(SliceError::invalid(
                "bgcode",
                format!("unknown checksum type {other}"),
            ));
        }
    };
    let mut info = SliceInfo::new(file_name, FileFormat::Bgcode);
    // Metadata blocks come in order file → printer → print → slicer; the first value wins.
    let mut meta = Meta::default();
    let mut pos: u64 = 10;
    let mut found_gcode = false;
    for _ in 0..MAX_BLOCKS {
        if pos >= src.len() {
            break;
        }
        let head = src.read_at(pos, 12)?;
        if head.len() < 8 {
            return Err(SliceError::Truncated(format!(
                "block header at offset {pos}"
            )));
        }
        let kind = le_u16(&head, 0);
        let compression = le_u16(&head, 2);
        let size = le_u32(&head, 4);
        if kind > THUMBNAIL {
            return Err(SliceError::invalid(
                "bgcode",
                format!("unknown block type {kind} at offset {pos}"),
            ));
        }
        if compression > 3 {
            return Err(SliceError::invalid(
                "bgcode",
                format!("unknown compression {compression} at offset {pos}"),
            ));
        }
        let (header_size, data_size) = if compression == 0 {
            (8u64, size)
        } else {
            if head.len() < 12 {
                return Err(SliceError::Truncated(format!(
                    "block header at offset {pos}"
                )));
            }
            (12, le_u32(&head, 8))
        };
        let params_size: u64 = if kind == THUMBNAIL { 6 } else { 2 };
        let end = pos + header_size + params_size + u64::from(data_size) + checksum_size;
        if end > src.len() {
            return Err(SliceError::Truncated(format!(
                "{} block at offset {pos} ends at {end}, past the end of the file ({})",
                block_name(kind),
                src.len()
            )));
        }
        if kind == GCODE {
            found_gcode = true;
            break;
        }
        if size > MAX_METADATA || data_size > MAX_METADATA {
            return Err(SliceError::TooLarge {
                what: format!("{} block at offset {pos}", block_name(kind)),
                limit: u64::from(MAX_METADATA),
            });
        }
        let body_len = (header_size + params_size + u64::from(data_size)) as usize;
        let block = src.read_exact_at(pos, body_len + checksum_size as usize, "a block")?;
        if checksum_size == 4 {
            let mut crc = flate2::Crc::new();
            crc.update(&block[..body_len]);
            if crc.sum() != le_u32(&block, body_len) {
                info.warn(format!(
                    "checksum mismatch in the {} block at offset {pos}",
                    block_name(kind)
                ));
            }
        }
        let params = &block[header_size as usize..(header_size + params_size) as usize];
        let data = block[(header_size + params_size) as usize..body_len].to_vec();
        let what = format!("{} block at offset {pos}", block_name(kind));
        if kind == THUMBNAIL {
            let (width, height) = (u32::from(le_u16(params, 2)), u32::from(le_u16(params, 4)));
            match decompress(compression, data, size, &what) {
                Ok(image) => thumbnail::add(
                    &mut info,
                    image,
                    Some((width, height)),
                    &format!("{width}x{height}"),
                ),
                Err(e) => info.warn(e.to_string()),
            }
        } else {
            let encoding = le_u16(params, 0);
            let payload = decompress(compression, data, size, &what)?;
            let body = text::lossy(&payload);
            if encoding == 1 {
                match serde_json::from_str::<serde_json::Value>(&body) {
                    Ok(v) => meta.add_json(&v),
                    Err(e) => info.warn(format!("{what}: invalid JSON: {e}")),
                }
            } else {
                for line in body.lines() {
                    meta.add_ini_line(line);
                }
            }
        }
        pos = end;
    }
    if !found_gcode {
        info.warn("no G-code block found after the metadata");
    }
    info.slicer = meta.get("Producer").and_then(slicers::split_name_version);
    extract::fill(&meta, &mut info);
    Ok(info)
}
