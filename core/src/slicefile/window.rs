//! Bounded reads at absolute offsets from a `Read + Seek` source.

use std::io::{Read, Seek, SeekFrom};

use super::SliceError;

/// A source of known length that is only ever read in bounded ranges.
pub(crate) struct Source<'a, R> {
    reader: &'a mut R,
    len: u64,
}

impl<'a, R: Read + Seek> Source<'a, R> {
    pub(crate) fn new(reader: &'a mut R) -> Result<Self, SliceError> {
        let len = reader.seek(SeekFrom::End(0))?;
        Ok(Source { reader, len })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Reads up to `max` bytes at `offset`; fewer only at the end of the file.
    pub(crate) fn read_at(&mut self, offset: u64, max: usize) -> Result<Vec<u8>, SliceError> {
        if offset >= self.len {
            return Ok(Vec::new());
        }
        let available = self.len - offset;
        let want = usize::try_from(available).map_or(max, |a| a.min(max));
        self.reader.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(want);
        let got = (&mut *self.reader)
            .take(want as u64)
            .read_to_end(&mut buf)?;
        if got < want {
            return Err(SliceError::Truncated(format!(
                "expected {want} bytes at offset {offset}, got {got}"
            )));
        }
        Ok(buf)
    }

    /// Reads exactly `len` bytes at `offset`, or fails with [`SliceError::Truncated`].
    pub(crate) fn read_exact_at(
        &mut self,
        offset: u64,
        len: usize,
        what: &str,
    ) -> Result<Vec<u8>, SliceError> {
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(SliceError::Truncated(format!(
                "{what} needs {len} bytes at offset {offset}, the file has {}",
                self.len
            )));
        }
        self.read_at(offset, len)
    }

    /// A reader over `len` bytes starting at `offset`, for streaming decoders.
    pub(crate) fn range_reader(
        &mut self,
        offset: u64,
        len: u64,
    ) -> Result<std::io::Take<&mut R>, SliceError> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(SliceError::Truncated(format!(
                "{len} bytes at offset {offset} go past the end ({})",
                self.len
            )));
        }
        self.reader.seek(SeekFrom::Start(offset))?;
        Ok((&mut *self.reader).take(len))
    }
}

/// `Read` adaptor that fails once more than `limit` bytes came out of the inner reader.
pub(crate) struct Limited<R> {
    inner: R,
    remaining: u64,
    what: String,
}

impl<R: Read> Limited<R> {
    pub(crate) fn new(inner: R, limit: u64, what: impl Into<String>) -> Self {
        Limited {
            inner,
            remaining: limit,
            what: what.into(),
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Ask for one byte more than allowed so that an overrun is seen, not silently cut.
        let cap = usize::try_from(self.remaining.saturating_add(1)).unwrap_or(usize::MAX);
        let n = buf.len().min(cap);
        let got = self.inner.read(&mut buf[..n])?;
        if got as u64 > self.remaining {
            return Err(std::io::Error::other(format!(
                "{} inflates past its limit",
                self.what
            )));
        }
        self.remaining -= got as u64;
        Ok(got)
    }
}
