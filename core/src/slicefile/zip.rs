//! A minimal zip reader: the central directory (zip64 aware) and bounded, checked member reads
//! (stored or deflated). Inflated sizes are capped and compared with the declared size and CRC.

use std::collections::HashMap;
use std::io::{Read, Seek};

use flate2::read::DeflateDecoder;

use super::SliceError;
use super::window::{Limited, Source};

/// Largest central directory read.
const MAX_DIRECTORY: u64 = 64 * 1024 * 1024;
/// Most entries accepted.
const MAX_ENTRIES: u64 = 200_000;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Name without a leading `/`.
    pub(crate) name: String,
    method: u16,
    flags: u16,
    crc: u32,
    compressed: u64,
    pub(crate) size: u64,
    local_offset: u64,
}

pub(crate) struct Archive {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn bad(reason: impl Into<String>) -> SliceError {
    SliceError::invalid("3mf", reason)
}

impl Archive {
    pub(crate) fn load<R: Read + Seek>(src: &mut Source<R>) -> Result<Self, SliceError> {
        let len = src.len();
        let tail_len = len.min(22 + 65_535);
        let tail = src.read_at(len - tail_len, tail_len as usize)?;
        let eocd = (0..tail.len().saturating_sub(21))
            .rev()
            .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
            .ok_or_else(|| bad("no zip end-of-central-directory record (truncated?)"))?;
        let e = &tail[eocd..];
        let mut count = u64::from(u16_at(e, 10));
        let mut dir_size = u64::from(u32_at(e, 12));
        let mut dir_offset = u64::from(u32_at(e, 16));
        if count == 0xFFFF || dir_size == 0xFFFF_FFFF || dir_offset == 0xFFFF_FFFF {
            // Zip64 locator just before the record.
            let eocd_abs = len - tail_len + eocd as u64;
            let locator = src.read_exact_at(eocd_abs.saturating_sub(20), 20, "zip64 locator")?;
            if !locator.starts_with(b"PK\x06\x07") {
                return Err(bad("zip64 locator missing"));
            }
            let record = src.read_exact_at(u64_at(&locator, 8), 56, "zip64 end record")?;
            if !record.starts_with(b"PK\x06\x06") {
                return Err(bad("zip64 end record missing"));
            }
            count = u64_at(&record, 32);
            dir_size = u64_at(&record, 40);
            dir_offset = u64_at(&record, 48);
        }
        if dir_size > MAX_DIRECTORY || count > MAX_ENTRIES {
            return Err(SliceError::TooLarge {
                what: "zip central directory".into(),
                limit: MAX_DIRECTORY,
            });
        }
        let dir = src.read_exact_at(dir_offset, dir_size as usize, "zip central directory")?;
        let mut entries = Vec::new();
        let mut at = 0usize;
        while entries.len() < count as usize {
            let fixed = dir
                .get(at..at + 46)
                .ok_or_else(|| bad("central directory cut short"))?;
            if !fixed.starts_with(b"PK\x01\x02") {
                return Err(bad("bad central directory entry"));
            }
            let name_len = usize::from(u16_at(fixed, 28));
            let extra_len = usize::from(u16_at(fixed, 30));
            let comment_len = usize::from(u16_at(fixed, 32));
            let name = dir
                .get(at + 46..at + 46 + name_len)
                .ok_or_else(|| bad("entry name cut short"))?;
            let extra = dir
                .get(at + 46 + name_len..at + 46 + name_len + extra_len)
                .ok_or_else(|| bad("entry extra field cut short"))?;
            let mut entry = Entry {
                name: String::from_utf8_lossy(name)
                    .trim_start_matches('/')
                    .to_string(),
                method: u16_at(fixed, 10),
                flags: u16_at(fixed, 8),
                crc: u32_at(fixed, 16),
                compressed: u64::from(u32_at(fixed, 20)),
                size: u64::from(u32_at(fixed, 24)),
                local_offset: u64::from(u32_at(fixed, 42)),
            };
            apply_zip64(&mut entry, extra);
            entries.push(entry);
            at += 46 + name_len + extra_len + comment_len;
        }
        let mut by_name = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_name.entry(e.name.clone()).or_insert(i);
        }
        Ok(Archive { entries, by_name })
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry named `name` (a leading `/` is ignored).
    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.entries
            .get(*self.by_name.get(name.trim_start_matches('/'))?)
    }

    /// Reads a whole member, at most `limit` inflated bytes, and checks its size and CRC.
    pub(crate) fn read_member<R: Read + Seek>(
        src: &mut Source<R>,
        entry: &Entry,
        limit: u64,
    ) -> Result<Vec<u8>, SliceError> {
        if entry.size > limit {
            return Err(SliceError::TooLarge {
                what: entry.name.clone(),
                limit,
            });
        }
        let mut out = Vec::with_capacity(entry.size.min(limit) as usize);
        open(src, entry)?
            .read_to_end(&mut out)
            .map_err(|e| member_error(entry, &e))?;
        if out.len() as u64 != entry.size {
            return Err(bad(format!(
                "{} inflates to {} bytes, the directory says {}",
                entry.name,
                out.len(),
                entry.size
            )));
        }
        let mut crc = flate2::Crc::new();
        crc.update(&out);
        if crc.sum() != entry.crc {
            return Err(bad(format!("{}: CRC mismatch", entry.name)));
        }
        Ok(out)
    }
}

fn member_error(entry: &Entry, e: &std::io::Error) -> SliceError {
    if e.to_string().contains("past its limit") {
        SliceError::SizeMismatch {
            what: entry.name.clone(),
            declared: entry.size,
        }
    } else {
        bad(format!("{}: {e}", entry.name))
    }
}

fn apply_zip64(entry: &mut Entry, extra: &[u8]) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at);
        let size = usize::from(u16_at(extra, at + 2));
        let Some(field) = extra.get(at + 4..at + 4 + size) else {
            return;
        };
        if id == 0x0001 {
            let mut k = 0;
            if entry.size == 0xFFFF_FFFF {
                entry.size = u64_at(field, k);
                k += 8;
            }
            if entry.compressed == 0xFFFF_FFFF {
                entry.compressed = u64_at(field, k);
                k += 8;
            }
            if entry.local_offset == 0xFFFF_FFFF {
                entry.local_offset = u64_at(field, k);
            }
        }
        at += 4 + size;
    }
}

/// A streaming reader over one member's inflated bytes; it fails past the declared size.
pub(crate) enum MemberReader<'a, R: Read> {
    Stored(Limited<std::io::Take<&'a mut R>>),
    Deflated(Limited<DeflateDecoder<std::io::Take<&'a mut R>>>),
}

impl<R: Read> Read for MemberReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            MemberReader::Stored(r) => r.read(buf),
            MemberReader::Deflated(r) => r.read(buf),
        }
    }
}

/// Opens a member for streaming. The output is limited to the declared size.
pub(crate) fn open<'a, R: Read + Seek>(
    src: &'a mut Source<R>,
    entry: &Entry,
) -> Result<MemberReader<'a, R>, SliceError> {
    if entry.flags & 1 != 0 {
        return Err(bad(format!("{} is encrypted", entry.name)));
    }
    let local = src.read_exact_at(entry.local_offset, 30, "zip local header")?;
    if !local.starts_with(b"PK\x03\x04") {
        return Err(bad(format!("{}: bad local header", entry.name)));
    }
    let data_start =
        entry.local_offset + 30 + u64::from(u16_at(&local, 26)) + u64::from(u16_at(&local, 28));
    let raw = src.range_reader(data_start, entry.compressed)?;
    match entry.method {
        0 => {
            if entry.compressed != entry.size {
                return Err(bad(format!("{}: stored sizes differ", entry.name)));
            }
            Ok(MemberReader::Stored(Limited::new(
                raw,
                entry.size,
                entry.name.clone(),
            )))
        }
        8 => Ok(MemberReader::Deflated(Limited::new(
            DeflateDecoder::new(raw),
            entry.size,
            entry.name.clone(),
        ))),
        m => Err(bad(format!(
            "{}: unsupported compression method {m}",
            entry.name
        ))),
    }
}
