//! Inspecting a file that is not all at hand: a [`SparseReader`] holds the byte ranges loaded
//! so far and fails a read that needs anything else with a [`NeedRange`] error, remembering
//! the miss. [`inspect_sparse`] runs [`super::inspect`] over it and says either "done" or
//! "load these ranges and call me again". The browser answers with `Blob.slice(a, b)`, so a
//! 500 MB G-code costs its head and tail windows only; natively the same loop runs in tests.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use super::{SliceError, SliceInfo};

/// Missing ranges are widened to this granularity (aligned), so that a decoder reading a few
/// bytes at a time does not cost one round per read.
pub const FETCH_ALIGN: u64 = 64 * 1024;

/// The error a [`SparseReader`] read gives when its bytes are not loaded yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bytes {offset}..{} are not loaded yet", offset + len)]
pub struct NeedRange {
    pub offset: u64,
    pub len: u64,
}

impl NeedRange {
    /// The `NeedRange` inside an I/O error, if that is what it is.
    pub fn from_io(error: &std::io::Error) -> Option<NeedRange> {
        error.get_ref()?.downcast_ref::<NeedRange>().copied()
    }
}

/// `Read + Seek` over a file of known length of which only some byte ranges are loaded.
#[derive(Debug, Default)]
pub struct SparseReader {
    len: u64,
    pos: u64,
    /// Start offset → bytes; ranges never overlap or touch.
    ranges: BTreeMap<u64, Vec<u8>>,
    misses: Vec<NeedRange>,
}

impl SparseReader {
    /// An empty reader over a file of `len` bytes.
    pub fn new(len: u64) -> Self {
        SparseReader {
            len,
            ..Default::default()
        }
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes loaded so far.
    pub fn loaded_bytes(&self) -> u64 {
        self.ranges.values().map(|v| v.len() as u64).sum()
    }

    /// Adds the bytes at `offset` (clipped to the file's length), merging with what is loaded.
    pub fn insert(&mut self, offset: u64, mut data: Vec<u8>) {
        if offset >= self.len || data.is_empty() {
            return;
        }
        let room = usize::try_from(self.len - offset).unwrap_or(usize::MAX);
        data.truncate(room);
        let mut start = offset;
        let mut end = offset + data.len() as u64;
        // Every loaded range that overlaps or touches [start, end).
        let touching: Vec<u64> = self
            .ranges
            .range(..=end)
            .filter(|(s, v)| *s + v.len() as u64 >= start)
            .map(|(s, _)| *s)
            .collect();
        if touching.is_empty() {
            self.ranges.insert(offset, data);
            return;
        }
        let mut old = Vec::new();
        for s in touching {
            if let Some(v) = self.ranges.remove(&s) {
                start = start.min(s);
                end = end.max(s + v.len() as u64);
                old.push((s, v));
            }
        }
        let mut merged = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
        for (s, v) in old.iter().map(|(s, v)| (*s, v)).chain([(offset, &data)]) {
            let at = usize::try_from(s - start).unwrap_or(0);
            merged[at..at + v.len()].copy_from_slice(v);
        }
        self.ranges.insert(start, merged);
    }

    /// The ranges reads missed since the last call, widened to [`FETCH_ALIGN`], merged, within
    /// the file, and not already loaded at their start.
    pub fn take_misses(&mut self) -> Vec<NeedRange> {
        let mut wanted: Vec<(u64, u64)> = std::mem::take(&mut self.misses)
            .into_iter()
            .map(|m| {
                let a = m.offset / FETCH_ALIGN * FETCH_ALIGN;
                let b = m.offset.saturating_add(m.len.max(1));
                let b = b.div_ceil(FETCH_ALIGN).saturating_mul(FETCH_ALIGN);
                (a, b.min(self.len))
            })
            .filter(|(a, b)| a < b)
            .collect();
        wanted.sort_unstable();
        let mut out: Vec<NeedRange> = Vec::new();
        for (a, b) in wanted {
            match out.last_mut() {
                Some(last) if a <= last.offset + last.len => {
                    last.len = last.len.max(b - last.offset);
                }
                _ => out.push(NeedRange {
                    offset: a,
                    len: b - a,
                }),
            }
        }
        out
    }

    /// The loaded slice that starts at `pos`, if any.
    fn slice_at(&self, pos: u64) -> Option<&[u8]> {
        let (start, data) = self.ranges.range(..=pos).next_back()?;
        let at = usize::try_from(pos - start).ok()?;
        data.get(at..).filter(|rest| !rest.is_empty())
    }
}

impl Read for SparseReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.len - self.pos);
        match self.slice_at(self.pos) {
            Some(loaded) => {
                // A short read up to the end of the loaded range; the next read may miss.
                let n = loaded.len().min(want as usize);
                buf[..n].copy_from_slice(&loaded[..n]);
                self.pos += n as u64;
                Ok(n)
            }
            None => {
                let need = NeedRange {
                    offset: self.pos,
                    len: want,
                };
                self.misses.push(need);
                Err(std::io::Error::other(need))
            }
        }
    }
}

impl Seek for SparseReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = seek_target(self.len, self.pos, to)?;
        Ok(self.pos)
    }
}

/// Where a seek `to` lands in a source of `len` bytes read up to `pos` (past the end is
/// allowed, as for a file; before the start is an error).
pub fn seek_target(len: u64, pos: u64, to: SeekFrom) -> std::io::Result<u64> {
    let target = match to {
        SeekFrom::Start(p) => Some(p),
        SeekFrom::End(d) => len.checked_add_signed(d),
        SeekFrom::Current(d) => pos.checked_add_signed(d),
    };
    target.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "seek before the start of the file",
        )
    })
}

/// What one [`inspect_sparse`] round found.
#[derive(Debug)]
pub enum SparseStep {
    /// Finished: the same answer [`super::inspect`] gives over the whole file.
    Done(Box<Result<SliceInfo, SliceError>>),
    /// Load these ranges into the reader, then call [`inspect_sparse`] again.
    Need(Vec<NeedRange>),
}

/// One round of inspecting a partly loaded file. A miss anywhere (even one the parser turned
/// into a warning) asks for its range, so the final answer equals the whole-file answer.
pub fn inspect_sparse(reader: &mut SparseReader, file_name: &str) -> SparseStep {
    reader.misses.clear();
    reader.pos = 0;
    let result = super::inspect(reader, file_name);
    let misses = reader.take_misses();
    if misses.is_empty() {
        SparseStep::Done(Box::new(result))
    } else {
        SparseStep::Need(misses)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn reads_what_is_loaded_and_names_what_is_not() {
        let file = bytes(300_000);
        let mut r = SparseReader::new(file.len() as u64);
        r.insert(1000, file[1000..2000].to_vec());
        r.seek(SeekFrom::Start(1500)).unwrap();
        let mut buf = [0u8; 800];
        // Short read up to the end of the loaded range, then a miss at 2000.
        assert_eq!(r.read(&mut buf).unwrap(), 500);
        assert_eq!(&buf[..500], &file[1500..2000]);
        let err = r.read(&mut buf).unwrap_err();
        assert_eq!(
            NeedRange::from_io(&err),
            Some(NeedRange {
                offset: 2000,
                len: 800
            })
        );
        assert_eq!(
            r.take_misses(),
            vec![NeedRange {
                offset: 0,
                len: FETCH_ALIGN
            }]
        );
        assert!(r.take_misses().is_empty());
        // Not a NeedRange: other I/O errors are not mistaken for one.
        assert_eq!(NeedRange::from_io(&std::io::Error::other("x")), None);
    }

    #[test]
    fn end_of_file_and_seeks() {
        let mut r = SparseReader::new(10);
        assert_eq!(r.seek(SeekFrom::End(0)).unwrap(), 10);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 0);
        assert_eq!(r.seek(SeekFrom::End(-3)).unwrap(), 7);
        assert!(r.seek(SeekFrom::Current(-8)).is_err());
        r.insert(5, b"hello world".to_vec()); // clipped to the file
        assert_eq!(r.loaded_bytes(), 5);
        let mut buf = Vec::new();
        r.seek(SeekFrom::Start(5)).unwrap();
        r.read_to_end(&mut buf).unwrap();
        assert_eq!(buf, b"hello");
        // A miss near the end is clipped to the file.
        r.seek(SeekFrom::Start(2)).unwrap();
        assert!(r.read(&mut [0u8; 100]).is_err());
        assert_eq!(r.take_misses(), vec![NeedRange { offset: 0, len: 10 }]);
    }

    #[test]
    fn inserts_merge_overlapping_and_touching_ranges() {
        let file = bytes(10_000);
        let mut r = SparseReader::new(file.len() as u64);
        r.insert(100, file[100..200].to_vec());
        r.insert(300, file[300..400].to_vec());
        r.insert(200, file[200..300].to_vec()); // touches both
        r.insert(150, file[150..350].to_vec()); // inside
        r.insert(50, file[50..120].to_vec()); // overlaps the start
        assert_eq!(r.ranges.len(), 1);
        assert_eq!(r.loaded_bytes(), 350);
        let mut buf = vec![0u8; 350];
        r.seek(SeekFrom::Start(50)).unwrap();
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf, &file[50..400]);
        r.insert(5000, file[5000..5010].to_vec());
        assert_eq!(r.ranges.len(), 2);
    }

    #[test]
    fn misses_are_aligned_and_merged() {
        let mut r = SparseReader::new(10 * FETCH_ALIGN);
        for (offset, len) in [(10, 5), (FETCH_ALIGN + 3, 1), (5 * FETCH_ALIGN + 1, 2)] {
            r.misses.push(NeedRange { offset, len });
        }
        assert_eq!(
            r.take_misses(),
            vec![
                NeedRange {
                    offset: 0,
                    len: 2 * FETCH_ALIGN
                },
                NeedRange {
                    offset: 5 * FETCH_ALIGN,
                    len: FETCH_ALIGN
                },
            ]
        );
    }

    /// The browser's loop, natively: load what is asked for, until done.
    fn run_loop(file: &[u8], name: &str) -> (Result<SliceInfo, SliceError>, u64, usize) {
        let mut r = SparseReader::new(file.len() as u64);
        for round in 1..=64 {
            match inspect_sparse(&mut r, name) {
                SparseStep::Done(result) => return (*result, r.loaded_bytes(), round),
                SparseStep::Need(ranges) => {
                    for n in ranges {
                        let (a, b) = (n.offset as usize, (n.offset + n.len) as usize);
                        r.insert(n.offset, file[a..b].to_vec());
                    }
                }
            }
        }
        panic!("{name}: no answer after 64 rounds");
    }

    fn fixtures() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/slicefiles")
    }

    #[test]
    fn every_fixture_reads_the_same_sparse_as_whole() {
        let mut seen = 0;
        for entry in std::fs::read_dir(fixtures()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            // Only the sliced files: not the README, nor a folder a tool left beside them
            // (Moonraker writes `.thumbs/` next to files it reads).
            if name.ends_with(".md") || name.starts_with('.') || !path.is_file() {
                continue;
            }
            let file = std::fs::read(&path).unwrap();
            let whole = super::super::inspect_bytes(&file, &name).unwrap();
            let (sparse, loaded, rounds) = run_loop(&file, &name);
            let sparse = sparse.unwrap();
            assert_eq!(sparse, whole, "{name}");
            assert_eq!(sparse.thumbnail_data, whole.thumbnail_data, "{name}");
            assert!(rounds <= 16, "{name}: {rounds} rounds");
            assert!(loaded <= file.len() as u64);
            seen += 1;
        }
        assert!(seen >= 15, "only {seen} fixtures");
    }

    #[test]
    fn errors_are_the_whole_file_errors() {
        let (result, _, _) = run_loop(b"GCDE\x01\x00", "short.bgcode");
        assert!(
            matches!(result, Err(SliceError::Truncated(_))),
            "{result:?}"
        );
        let (result, _, _) = run_loop(b"", "empty.gcode");
        assert!(matches!(result, Err(SliceError::Empty)));
    }

    #[test]
    fn a_large_gcode_costs_its_head_and_tail_only() {
        let original = std::fs::read(fixtures().join("prusaslicer_2.6.0_mini_cube.gcode")).unwrap();
        // Head 100 KB, a body repeated to 40 MB, tail 200 KB of the real file.
        let (head, rest) = original.split_at(100_000);
        let (body, tail) = rest.split_at(rest.len() - 200_000);
        let cut = body.iter().position(|&b| b == b'\n').unwrap() + 1;
        let body = &body[cut..];
        let mut big = head.to_vec();
        big.extend_from_slice(&body[..body.iter().rposition(|&b| b == b'\n').unwrap() + 1]);
        let line_end = big.len();
        while big.len() < 40 << 20 {
            big.extend_from_within(100_000..line_end);
        }
        big.extend_from_slice(tail);
        let whole = super::super::inspect_bytes(&big, "big.gcode").unwrap();
        let (sparse, loaded, rounds) = run_loop(&big, "big.gcode");
        assert_eq!(sparse.unwrap(), whole);
        assert!(loaded < 3 << 20, "loaded {loaded} bytes of {}", big.len());
        assert!(rounds <= 40, "{rounds} rounds");
    }
}
