//! A blocking `Read + Seek` over one stored object that fetches only the byte ranges that are
//! read (an S3 `GET` with `Range`, a seek and read in the local folder), through one small
//! buffer. Core's sliced-file parser takes it like a file, so the server reads a 500 MB
//! G-code's metadata from its head and tail windows without ever holding the file.
//!
//! A fetch starts at [`MIN_FETCH`] bytes (or the size of the caller's read), and doubles up to
//! [`MAX_FETCH`] while the reads go on where the last fetch ended; a seek elsewhere starts
//! small again. So at most [`MAX_FETCH`] bytes of the object are in memory at once.
//!
//! Each fetch blocks the calling thread on the runtime: use the reader inside
//! `tokio::task::spawn_blocking`, never on an async worker.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use bytes::Bytes;
use tokio::runtime::Handle;

use super::{ObjectKey, Storage};

/// The smallest fetch: a seek to somewhere new costs this much.
pub const MIN_FETCH: u64 = 64 * 1024;
/// The largest fetch, and so the most of the object held at once.
pub const MAX_FETCH: u64 = 1024 * 1024;

pub struct RangedReader {
    storage: Storage,
    key: ObjectKey,
    handle: Handle,
    len: u64,
    pos: u64,
    buf: Bytes,
    buf_start: u64,
    /// Size of the last fetch (doubles while reads are sequential).
    last_fetch: u64,
    fetched: Vec<Range<u64>>,
    /// The store's error, when a fetch failed (so a caller tells a broken store from a
    /// broken file, whatever the parser made of the read error).
    failure: Option<String>,
}

impl RangedReader {
    /// A reader over `key`, an object of `len` bytes (from [`Storage::size`]).
    pub fn new(storage: Storage, key: ObjectKey, len: u64, handle: Handle) -> Self {
        Self {
            storage,
            key,
            handle,
            len,
            pos: 0,
            buf: Bytes::new(),
            buf_start: 0,
            last_fetch: 0,
            fetched: Vec::new(),
            failure: None,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The byte ranges fetched from the store so far, in order.
    pub fn fetched(&self) -> &[Range<u64>] {
        &self.fetched
    }

    /// How many bytes were fetched from the store so far.
    pub fn fetched_bytes(&self) -> u64 {
        self.fetched.iter().map(|r| r.end - r.start).sum()
    }

    /// Why the store failed a fetch, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    fn fill(&mut self, wanted: usize) -> std::io::Result<()> {
        let buf_end = self.buf_start + self.buf.len() as u64;
        let sequential = !self.buf.is_empty() && self.pos == buf_end;
        let size = if sequential {
            self.last_fetch.saturating_mul(2)
        } else {
            MIN_FETCH
        };
        let size = size
            .max(wanted as u64)
            .clamp(MIN_FETCH, MAX_FETCH)
            .min(self.len - self.pos);
        let data = match self
            .handle
            .block_on(self.storage.read_range(&self.key, self.pos, size))
        {
            Ok(data) if !data.is_empty() => data,
            Ok(_) => {
                let message = format!(
                    "{} ends before its {} bytes (at {})",
                    self.key, self.len, self.pos
                );
                self.failure = Some(message.clone());
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    message,
                ));
            }
            Err(e) => {
                self.failure = Some(e.to_string());
                return Err(std::io::Error::other(e));
            }
        };
        // Never more than asked, whatever the store sent.
        let data = data.slice(..data.len().min(usize::try_from(size).unwrap_or(usize::MAX)));
        self.fetched.push(self.pos..self.pos + data.len() as u64);
        self.last_fetch = size;
        self.buf = data;
        self.buf_start = self.pos;
        Ok(())
    }
}

impl Read for RangedReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let buf_end = self.buf_start + self.buf.len() as u64;
        if self.pos < self.buf_start || self.pos >= buf_end {
            self.fill(out.len())?;
        }
        let at = usize::try_from(self.pos - self.buf_start).unwrap_or(usize::MAX);
        let available = self.buf.get(at..).unwrap_or_default();
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangedReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = printstall_core::slicefile::seek_target(self.len, self.pos, to)?;
        Ok(self.pos)
    }
}
