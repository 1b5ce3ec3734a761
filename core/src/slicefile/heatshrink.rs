//! Heatshrink (LZSS) decoder, as used by `.bgcode` blocks with compression 2 (window 11,
//! lookahead 4) and 3 (window 12, lookahead 4).
//!
//! Stream: a 1 bit means a literal byte (8 bits) follows; a 0 bit means a back-reference:
//! `window` bits of (offset - 1), then `lookahead` bits of (count - 1). Bits are MSB first.
//! References before the start of the output read zeros, like the reference decoder's
//! zero-filled window. Output is capped at `max_out` bytes.

use super::SliceError;

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    bit: u8,
}

impl Bits<'_> {
    fn take(&mut self, count: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..count {
            let byte = *self.data.get(self.pos)?;
            let b = (byte >> (7 - self.bit)) & 1;
            v = (v << 1) | u32::from(b);
            self.bit += 1;
            if self.bit == 8 {
                self.bit = 0;
                self.pos += 1;
            }
        }
        Some(v)
    }
}

/// Decodes `input`; fails if the output would exceed `max_out` bytes.
pub(crate) fn decode(
    input: &[u8],
    window_bits: u32,
    lookahead_bits: u32,
    max_out: usize,
) -> Result<Vec<u8>, SliceError> {
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(16 * 1024 * 1024));
    let mut bits = Bits {
        data: input,
        pos: 0,
        bit: 0,
    };
    let too_large = || SliceError::TooLarge {
        what: "heatshrink block".into(),
        limit: max_out as u64,
    };
    while let Some(tag) = bits.take(1) {
        if tag == 1 {
            let Some(byte) = bits.take(8) else { break };
            if out.len() >= max_out {
                return Err(too_large());
            }
            out.push(byte as u8);
        } else {
            let Some(index) = bits.take(window_bits) else {
                break;
            };
            let Some(count) = bits.take(lookahead_bits) else {
                break;
            };
            let offset = index as usize + 1;
            let count = count as usize + 1;
            if out.len() + count > max_out {
                return Err(too_large());
            }
            for _ in 0..count {
                let byte = out
                    .len()
                    .checked_sub(offset)
                    .and_then(|i| out.get(i).copied())
                    .unwrap_or(0);
                out.push(byte);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A greedy heatshrink encoder, only to check the decoder round-trips.
    fn encode(data: &[u8], w: u32, l: u32) -> Vec<u8> {
        let mut bits: Vec<bool> = Vec::new();
        let push = |bits: &mut Vec<bool>, v: u32, n: u32| {
            for i in (0..n).rev() {
                bits.push((v >> i) & 1 == 1);
            }
        };
        let (max_off, max_len) = (1usize << w, 1usize << l);
        let mut i = 0;
        while i < data.len() {
            let mut best = (0, 0);
            for off in 1..=max_off.min(i) {
                let mut n = 0;
                while n < max_len && i + n < data.len() && data[i + n] == data[i + n - off] {
                    n += 1;
                }
                if n > best.1 {
                    best = (off, n);
                }
            }
            if best.1 >= 2 {
                bits.push(false);
                push(&mut bits, (best.0 - 1) as u32, w);
                push(&mut bits, (best.1 - 1) as u32, l);
                i += best.1;
            } else {
                bits.push(true);
                push(&mut bits, u32::from(data[i]), 8);
                i += 1;
            }
        }
        bits.chunks(8)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |acc, (k, &b)| acc | (u8::from(b) << (7 - k)))
            })
            .collect()
    }

    #[test]
    fn round_trips_both_windows() {
        let text = b"G1 X10 Y10 E0.5\nG1 X20 Y10 E0.5\nG1 X20 Y20 E0.5\nM73 P50 R1\n".repeat(40);
        for w in [11, 12] {
            let packed = encode(&text, w, 4);
            assert!(packed.len() < text.len() / 2);
            assert_eq!(decode(&packed, w, 4, text.len()).unwrap(), text);
        }
    }

    #[test]
    fn caps_output_and_survives_garbage() {
        let text = vec![b'a'; 5000];
        let packed = encode(&text, 12, 4);
        assert!(decode(&packed, 12, 4, 100).is_err());
        // A back-reference before the start reads zeros instead of panicking.
        let odd = decode(&[0x00, 0x00, 0xF0], 11, 4, 64).unwrap();
        assert!(odd.iter().all(|&b| b == 0));
        for seed in 0..200u32 {
            let junk: Vec<u8> = (0..300u32)
                .map(|i| (i.wrapping_mul(2654435761) ^ seed) as u8)
                .collect();
            let _ = decode(&junk, 12, 4, 10_000);
        }
    }
}
