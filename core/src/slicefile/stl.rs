//! STL design files, binary and ASCII: triangle count, bounding box, volume, and a bounded
//! sample of the triangles for a rendered thumbnail ([`super::raster`]).
//!
//! The file is streamed once; memory is the [`Mesh`] sample plus a small buffer whatever
//! the file's size. Hostile input gets a typed error: a binary header whose triangle count
//! does not match the file's length or passes [`MAX_TRIANGLES`], an ASCII facet with other
//! than three vertices, an overlong line, a number that is not one.

use std::io::{BufRead, BufReader, Read, Seek};

use super::extract::round;
use super::mesh::{Mesh, Triangle};
use super::window::Source;
use super::{FileFormat, ModelInfo, SliceError, SliceInfo};

/// Triangles one STL may have (a 5 GB binary file).
pub const MAX_TRIANGLES: u64 = 100_000_000;
/// Longest ASCII line accepted.
const MAX_LINE: usize = 4096;
/// Size of a binary header and of one binary triangle record.
const HEADER: u64 = 84;
const RECORD: u64 = 50;

/// The triangle count a binary STL's header declares, when the file's length fits it
/// exactly (that is how a binary STL is told from an ASCII one starting with `solid`).
fn binary_count(first: &[u8], len: u64) -> Option<u64> {
    let count = u64::from(u32::from_le_bytes(first.get(80..84)?.try_into().ok()?));
    (HEADER.checked_add(count.checked_mul(RECORD)?)? == len).then_some(count)
}

/// Whether the first bytes and length look like an STL (for files without a `.stl` name).
pub(crate) fn looks_like(first: &[u8], len: u64) -> bool {
    if binary_count(first, len).is_some_and(|n| n > 0) {
        return true;
    }
    let head = String::from_utf8_lossy(&first[..first.len().min(1024)]).to_ascii_lowercase();
    head.trim_start().starts_with("solid") && head.contains("facet")
}

/// Running totals over the triangles.
struct Totals {
    triangles: u64,
    volume6: f64,
    min: [f64; 3],
    max: [f64; 3],
    skipped: u64,
    mesh: Mesh,
}

impl Totals {
    fn new() -> Self {
        Totals {
            triangles: 0,
            volume6: 0.0,
            min: [f64::INFINITY; 3],
            max: [f64::NEG_INFINITY; 3],
            skipped: 0,
            mesh: Mesh::default(),
        }
    }

    fn add(&mut self, t: Triangle) {
        if !t.iter().flatten().all(|v| v.is_finite()) {
            self.skipped += 1;
            return;
        }
        self.triangles += 1;
        let [a, b, c] = t.map(|p| p.map(f64::from));
        for p in [a, b, c] {
            for (k, v) in p.iter().enumerate() {
                self.min[k] = self.min[k].min(*v);
                self.max[k] = self.max[k].max(*v);
            }
        }
        let cross = [
            b[1] * c[2] - b[2] * c[1],
            b[2] * c[0] - b[0] * c[2],
            b[0] * c[1] - b[1] * c[0],
        ];
        self.volume6 += a[0] * cross[0] + a[1] * cross[1] + a[2] * cross[2];
        self.mesh.push(t);
    }

    fn finish(self, file_name: &str, objects: u32) -> Result<SliceInfo, SliceError> {
        if self.triangles == 0 {
            return Err(SliceError::invalid("stl", "the file has no triangles"));
        }
        let mut info = SliceInfo::new(file_name, FileFormat::Stl);
        if self.skipped > 0 {
            info.warn(format!(
                "{} triangles have coordinates that are not numbers; they were left out",
                self.skipped
            ));
        }
        info.model = Some(ModelInfo {
            objects: objects.max(1),
            triangles: self.triangles,
            bounding_box_mm: [0, 1, 2].map(|k| round(self.max[k] - self.min[k], 3)),
            // A closed mesh's signed volume; open meshes give what they give.
            volume_cm3: round((self.volume6 / 6.0).abs() / 1000.0, 3),
        });
        info.mesh = Some(self.mesh);
        Ok(info)
    }
}

fn too_many(count: u64) -> SliceError {
    SliceError::invalid(
        "stl",
        format!("the file declares {count} triangles; at most {MAX_TRIANGLES} are read"),
    )
}

pub(crate) fn inspect<R: Read + Seek>(
    src: &mut Source<R>,
    file_name: &str,
) -> Result<SliceInfo, SliceError> {
    let len = src.len();
    let first = src.read_at(0, 1024)?;
    if let Some(count) = binary_count(&first, len) {
        return binary(src, file_name, count);
    }
    let looks_ascii = String::from_utf8_lossy(&first)
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("solid");
    if looks_ascii && super::text::looks_like_text(&first) {
        return ascii(src, file_name, len);
    }
    if len < HEADER {
        return Err(SliceError::Truncated(format!(
            "a binary STL has an {HEADER}-byte header; this file has {len} bytes"
        )));
    }
    // A binary STL whose length does not match its declared triangle count.
    let declared = first
        .get(80..84)
        .and_then(|b| b.try_into().ok())
        .map_or(0, |b: [u8; 4]| u64::from(u32::from_le_bytes(b)));
    if declared > MAX_TRIANGLES {
        return Err(too_many(declared));
    }
    Err(SliceError::invalid(
        "stl",
        format!(
            "the header declares {declared} triangles ({} bytes) but the file has {len} bytes",
            HEADER + declared * RECORD
        ),
    ))
}

fn binary<R: Read + Seek>(
    src: &mut Source<R>,
    file_name: &str,
    count: u64,
) -> Result<SliceInfo, SliceError> {
    if count > MAX_TRIANGLES {
        return Err(too_many(count));
    }
    let mut reader = BufReader::with_capacity(64 * 1024, src.range_reader(HEADER, count * RECORD)?);
    let mut totals = Totals::new();
    let mut record = [0u8; RECORD as usize];
    for _ in 0..count {
        reader.read_exact(&mut record)?;
        let f = |at: usize| {
            record
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(f32::NAN, f32::from_le_bytes)
        };
        // Bytes 0..12 are the stated normal (ignored: it is computed when drawing).
        let t = [0, 1, 2].map(|v| [0, 1, 2].map(|k| f(12 + v * 12 + k * 4)));
        totals.add(t);
    }
    totals.finish(file_name, 1)
}

/// Reads one line of at most [`MAX_LINE`] bytes (without its end), or `None` at the end.
fn next_line<B: BufRead>(reader: &mut B, line: &mut Vec<u8>) -> Result<bool, SliceError> {
    line.clear();
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(!line.is_empty());
        }
        let (take, done) = match memchr::memchr2(b'\n', b'\r', buf) {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        if line.len() + take > MAX_LINE {
            return Err(SliceError::invalid(
                "stl",
                format!("a line is longer than {MAX_LINE} bytes"),
            ));
        }
        line.extend_from_slice(&buf[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(true);
        }
    }
}

fn ascii<R: Read + Seek>(
    src: &mut Source<R>,
    file_name: &str,
    len: u64,
) -> Result<SliceInfo, SliceError> {
    let mut reader = BufReader::with_capacity(64 * 1024, src.range_reader(0, len)?);
    let mut totals = Totals::new();
    let mut solids: u32 = 0;
    let mut corners: Vec<[f32; 3]> = Vec::with_capacity(3);
    let mut in_facet = false;
    let mut line = Vec::new();
    let mut number: u64 = 0;
    while next_line(&mut reader, &mut line)? {
        number += 1;
        let text = std::str::from_utf8(&line).map_err(|_| {
            SliceError::invalid("stl", format!("line {number} is not text (UTF-8)"))
        })?;
        let mut words = text.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        match keyword.to_ascii_lowercase().as_str() {
            "solid" => solids = solids.saturating_add(1),
            "facet" => {
                if in_facet {
                    return Err(SliceError::invalid(
                        "stl",
                        format!("line {number}: a facet starts inside another one"),
                    ));
                }
                in_facet = true;
                corners.clear();
            }
            "vertex" => {
                if !in_facet || corners.len() >= 3 {
                    return Err(SliceError::invalid(
                        "stl",
                        format!("line {number}: a facet has more than 3 vertices or none is open"),
                    ));
                }
                let mut p = [0f32; 3];
                for v in &mut p {
                    *v = words
                        .next()
                        .and_then(|w| w.parse::<f32>().ok())
                        .ok_or_else(|| {
                            SliceError::invalid(
                                "stl",
                                format!("line {number}: a vertex needs 3 numbers"),
                            )
                        })?;
                }
                corners.push(p);
            }
            "endfacet" => {
                let &[a, b, c] = corners.as_slice() else {
                    return Err(SliceError::invalid(
                        "stl",
                        format!(
                            "line {number}: a facet has {} vertices, not 3",
                            corners.len()
                        ),
                    ));
                };
                if totals.triangles + totals.skipped >= MAX_TRIANGLES {
                    return Err(too_many(MAX_TRIANGLES + 1));
                }
                totals.add([a, b, c]);
                in_facet = false;
            }
            "outer" | "endloop" | "endsolid" => {}
            other => {
                return Err(SliceError::invalid(
                    "stl",
                    format!(
                        "line {number}: unexpected word {:?}",
                        other.chars().take(32).collect::<String>()
                    ),
                ));
            }
        }
    }
    if in_facet {
        return Err(SliceError::Truncated("the last facet is not closed".into()));
    }
    totals.finish(file_name, solids)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::inspect_bytes;
    use super::*;

    /// The 12 triangles of a 10 mm cube.
    fn cube() -> Vec<Triangle> {
        let c = |x: u8, y: u8, z: u8| {
            [
                f32::from(x) * 10.0,
                f32::from(y) * 10.0,
                f32::from(z) * 10.0,
            ]
        };
        let quads = [
            [c(0, 0, 0), c(0, 1, 0), c(1, 1, 0), c(1, 0, 0)],
            [c(0, 0, 1), c(1, 0, 1), c(1, 1, 1), c(0, 1, 1)],
            [c(0, 0, 0), c(1, 0, 0), c(1, 0, 1), c(0, 0, 1)],
            [c(0, 1, 0), c(0, 1, 1), c(1, 1, 1), c(1, 1, 0)],
            [c(0, 0, 0), c(0, 0, 1), c(0, 1, 1), c(0, 1, 0)],
            [c(1, 0, 0), c(1, 1, 0), c(1, 1, 1), c(1, 0, 1)],
        ];
        quads
            .iter()
            .flat_map(|q| [[q[0], q[1], q[2]], [q[0], q[2], q[3]]])
            .collect()
    }

    fn binary_stl(tris: &[Triangle]) -> Vec<u8> {
        let mut out = vec![b' '; 80];
        out.extend_from_slice(&(tris.len() as u32).to_le_bytes());
        for t in tris {
            out.extend_from_slice(&[0u8; 12]);
            for p in t {
                for v in p {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            out.extend_from_slice(&[0, 0]);
        }
        out
    }

    fn ascii_stl(tris: &[Triangle], eol: &str) -> Vec<u8> {
        let mut s = format!("solid cube{eol}");
        for t in tris {
            s.push_str(&format!("  facet normal 0 0 0{eol}    outer loop{eol}"));
            for p in t {
                s.push_str(&format!("      vertex {} {} {}{eol}", p[0], p[1], p[2]));
            }
            s.push_str(&format!("    endloop{eol}  endfacet{eol}"));
        }
        s.push_str(&format!("endsolid cube{eol}"));
        s.into_bytes()
    }

    fn check_cube(info: &SliceInfo) {
        assert_eq!(info.format, FileFormat::Stl);
        let m = info.model.as_ref().unwrap();
        assert_eq!(m.objects, 1);
        assert_eq!(m.triangles, 12);
        assert_eq!(m.bounding_box_mm, [10.0, 10.0, 10.0]);
        assert_eq!(m.volume_cm3, 1.0);
        assert_eq!(info.mesh.as_ref().unwrap().triangles().len(), 12);
    }

    #[test]
    fn binary_and_ascii_cubes() {
        check_cube(&inspect_bytes(&binary_stl(&cube()), "cube.stl").unwrap());
        // Binary whose header starts with "solid" (some exporters do that) and no .stl name.
        let mut tricky = binary_stl(&cube());
        tricky[..5].copy_from_slice(b"solid");
        check_cube(&inspect_bytes(&tricky, "cube.bin").unwrap());
        for eol in ["\n", "\r\n", "\r"] {
            check_cube(&inspect_bytes(&ascii_stl(&cube(), eol), "cube.stl").unwrap());
        }
        // ASCII without a .stl name is still an STL, not a G-code.
        check_cube(&inspect_bytes(&ascii_stl(&cube(), "\n"), "upload").unwrap());
        let json =
            serde_json::to_value(inspect_bytes(&binary_stl(&cube()), "c.stl").unwrap()).unwrap();
        assert_eq!(json["format"], "stl");
        assert_eq!(json["model"]["triangles"], 12);
    }

    #[test]
    fn hostile_triangle_counts_are_refused() {
        // Declares 4 billion triangles in a tiny file.
        let mut lying = binary_stl(&cube());
        lying[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = inspect_bytes(&lying, "bomb.stl").unwrap_err();
        assert!(
            e.to_string().contains("4294967295 triangles; at most"),
            "{e}"
        );
        // Declares one more triangle than it has.
        let mut short = binary_stl(&cube());
        short[80..84].copy_from_slice(&13u32.to_le_bytes());
        let e = inspect_bytes(&short, "short.stl").unwrap_err();
        assert!(e.to_string().contains("declares 13 triangles"), "{e}");
        // Cut inside the header.
        assert!(matches!(
            inspect_bytes(&[0u8; 40], "cut.stl"),
            Err(SliceError::Truncated(_))
        ));
        // No triangles at all.
        assert!(inspect_bytes(&binary_stl(&[]), "empty.stl").is_err());
    }

    #[test]
    fn broken_ascii_gives_clear_errors() {
        let cases: [(&str, &str); 5] = [
            (
                "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\n",
                "2 vertices",
            ),
            (
                "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 1 1 0\nvertex 2 2 2\n",
                "more than 3",
            ),
            (
                "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 zero 0\n",
                "3 numbers",
            ),
            (
                "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\n",
                "not closed",
            ),
            ("solid x\nfacet normal 0 0 1\nG1 X10\n", "unexpected word"),
        ];
        for (text, expected) in cases {
            let e = inspect_bytes(text.as_bytes(), "x.stl").unwrap_err();
            assert!(e.to_string().contains(expected), "{text:?}: {e}");
        }
        let long = format!("solid x\n{}\n", "a".repeat(10_000));
        assert!(
            inspect_bytes(long.as_bytes(), "long.stl")
                .unwrap_err()
                .to_string()
                .contains("longer")
        );
        let mut bad_utf8 = b"solid x\nfacet normal 0 0 1\n".to_vec();
        bad_utf8.extend_from_slice(&[0xff, 0xfe, b'\n']);
        assert!(inspect_bytes(&bad_utf8, "x.stl").is_err());
    }

    #[test]
    fn non_finite_coordinates_are_left_out_with_a_warning() {
        let mut tris = cube();
        tris.push([[f32::NAN, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        let info = inspect_bytes(&binary_stl(&tris), "nan.stl").unwrap();
        assert_eq!(info.model.as_ref().unwrap().triangles, 12);
        assert!(info.warnings[0].contains("not numbers"));
    }
}
