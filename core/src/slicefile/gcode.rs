//! ASCII G-code: a head window (until the first G-code command, at least 64 KiB, at most
//! 1 MiB) and a tail window (64 KiB, grown up to 1 MiB when it holds the end of a config block
//! but not its beginning). The body in between is never read.

use std::io::{Read, Seek};

use super::meta::Meta;
use super::thumbnail::Collector;
use super::window::Source;
use super::{FileFormat, SliceError, SliceInfo, Slicer, extract, slicers, text};

const HEAD_MIN: usize = 64 * 1024;
const HEAD_MAX: usize = 1024 * 1024;
const TAIL_MIN: usize = 64 * 1024;
const TAIL_MAX: usize = 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// Config block markers: (begin, end).
const CONFIG_MARKERS: [(&str, &str); 4] = [
    ("; prusaslicer_config = begin", "; prusaslicer_config = end"),
    ("; SuperSlicer_config = begin", "; SuperSlicer_config = end"),
    ("; slic3r_config = begin", "; slic3r_config = end"),
    ("; CONFIG_BLOCK_START", "; CONFIG_BLOCK_END"),
];

/// True for a line that is a G-code command (`G1 …`, `M73 …`, `T0`), not a comment.
pub(crate) fn is_command(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    matches!(t.first(), Some(b'G' | b'M' | b'T' | b'g' | b'm'))
        && t.get(1).is_some_and(u8::is_ascii_digit)
}

/// Reads the head: stops at the end of the chunk holding the first command once `HEAD_MIN`
/// is read, or while a config block opened at the top (Bambu) is still running, up to `HEAD_MAX`.
fn read_head<R: Read + Seek>(src: &mut Source<R>) -> Result<Vec<u8>, SliceError> {
    let mut head = Vec::new();
    let mut scanned = 0;
    let mut found_command = false;
    let mut in_config = false;
    while head.len() < HEAD_MAX {
        let chunk = src.read_at(head.len() as u64, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        head.extend_from_slice(&chunk);
        // Scan complete lines only.
        let complete = head
            .iter()
            .rposition(|&b| b == b'\n' || b == b'\r')
            .map_or(0, |i| i + 1);
        for line in text::lines(&head[scanned..complete]) {
            if line.starts_with(b"; CONFIG_BLOCK_START") {
                in_config = true;
            } else if line.starts_with(b"; CONFIG_BLOCK_END") {
                in_config = false;
            } else if !found_command && is_command(line) {
                found_command = true;
            }
        }
        scanned = complete.max(scanned);
        if found_command && !in_config && head.len() >= HEAD_MIN {
            break;
        }
    }
    // End the head on a line boundary so that no line is split between head and tail (a cut
    // `; filament used [g] = 1.2` would otherwise win over the full line).
    if (head.len() as u64) < src.len() && scanned > 0 {
        head.truncate(scanned);
    }
    Ok(head)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    memchr::memmem::find(haystack, needle.as_bytes()).is_some()
}

/// Reads the tail after `head_end`, growing it while a config block's end is present without
/// its beginning. Drops the first (partial) line unless the tail follows the head directly.
fn read_tail<R: Read + Seek>(src: &mut Source<R>, head_end: u64) -> Result<Vec<u8>, SliceError> {
    let len = src.len();
    if len <= head_end {
        return Ok(Vec::new());
    }
    let mut size = TAIL_MIN;
    loop {
        let start = len.saturating_sub(size as u64).max(head_end);
        let mut tail = src.read_at(start, size)?;
        if start > head_end {
            let cut = tail
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map_or(tail.len(), |i| i + 1);
            tail.drain(..cut);
        }
        let needs_more = CONFIG_MARKERS
            .iter()
            .any(|(begin, end)| contains(&tail, end) && !contains(&tail, begin));
        if !needs_more || start == head_end || size >= TAIL_MAX {
            return Ok(tail);
        }
        size = (size * 4).min(TAIL_MAX);
    }
}

/// Comment text of a line (after the first `;`), for comment-only lines.
fn comment(line: &[u8]) -> Option<&[u8]> {
    let t = line.trim_ascii_start();
    t.strip_prefix(b";")
}

/// Feeds the comment lines of `buf` to the metadata store, the slicer detector and the
/// thumbnail collector.
fn scan(buf: &[u8], meta: &mut Meta, slicer: &mut Option<Slicer>, thumbs: &mut Collector) {
    let mut kiss = false;
    for line in text::lines(buf) {
        let Some(c) = comment(line) else { continue };
        let c = text::lossy(c);
        thumbs.line(&c);
        if slicer.is_none() {
            *slicer = slicers::from_comment(&c);
            kiss = slicer.as_ref().is_some_and(|s| s.name == "KISSlicer");
        } else if kiss {
            // "; KISSlicer - FREE" then "; version 1.6.3 Release Linux64".
            if let Some(v) = c.trim().strip_prefix("version ") {
                if let Some(s) = slicer.as_mut() {
                    s.version = v.split_whitespace().next().map(String::from);
                }
                kiss = false;
            }
        }
        meta.add_comment(&c);
    }
}

pub(crate) fn inspect<R: Read + Seek>(
    src: &mut Source<R>,
    file_name: &str,
) -> Result<SliceInfo, SliceError> {
    let head = read_head(src)?;
    let tail = read_tail(src, head.len() as u64)?;
    let has_gcode = text::lines(&head)
        .chain(text::lines(&tail))
        .any(|l| is_command(l) || comment(l).is_some());
    if !has_gcode {
        return Err(SliceError::invalid(
            "gcode",
            "no G-code command or comment found",
        ));
    }
    let mut info = SliceInfo::new(file_name, FileFormat::Gcode);
    let mut meta = Meta::default();
    let mut slicer = None;
    let mut thumbs = Collector::default();
    scan(&head, &mut meta, &mut slicer, &mut thumbs);
    // A thumbnail cut by the head window must not swallow the tail.
    let mut tail_thumbs = Collector::default();
    scan(&tail, &mut meta, &mut slicer, &mut tail_thumbs);
    if let Some(s) = slicer.as_mut().filter(|s| s.version.is_none()) {
        // Cura Griffin: ";GENERATOR.NAME:Cura_SteamEngine" then ";GENERATOR.VERSION:5.2.1".
        s.version = meta.get("GENERATOR.VERSION").map(String::from);
    }
    info.slicer = slicer;
    thumbs.into_info(&mut info);
    tail_thumbs.into_info(&mut info);
    extract::fill(&meta, &mut info);
    Ok(info)
}

/// Adds the comment metadata of text held in memory (a config member or the head of a plate
/// G-code inside a 3MF) to `meta`, and detects the slicer if not known yet.
pub(crate) fn scan_into(buf: &[u8], meta: &mut Meta, slicer: &mut Option<Slicer>) {
    let mut thumbs = Collector::default();
    scan(buf, meta, slicer, &mut thumbs);
}
