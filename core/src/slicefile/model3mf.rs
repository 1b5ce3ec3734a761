//! 3MF geometry (`3D/3dmodel.model` and the component models it references): object and
//! triangle counts, bounding box and volume of the build items after their transforms.
//! Parsing streams the XML; memory is bounded by a vertex budget.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};

use super::extract::round;
use super::mesh::{MAX_RENDER_TRIANGLES, Mesh};
use super::{ModelInfo, SliceError, xml};

/// Vertices kept for exact transformed bounding boxes, over all objects (12 bytes each).
const MAX_KEPT_VERTICES: usize = 4_000_000;
/// Vertices of one object while it is parsed (needed for its volume).
const MAX_OBJECT_VERTICES: usize = 16_000_000;
/// Object instances visited when resolving components (guards against fan-out bombs).
const MAX_VISITS: usize = 100_000;
/// Component nesting depth.
const MAX_DEPTH: usize = 16;
/// Vertices transformed for bounding boxes; past this, local boxes are transformed instead.
const MAX_TRANSFORMED: usize = 20_000_000;
/// Triangles of one object kept for drawing (an even sample of all of them).
const MAX_OBJECT_RENDER: usize = 200_000;
/// Triangles transformed into the drawn mesh, over all instances (instancing bombs).
const MAX_RENDER_TRANSFORMED: usize = 4_000_000;

/// Row-vector affine transform: `m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32`.
type Transform = [f64; 12];
const IDENTITY: Transform = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];

fn apply(t: &Transform, p: [f64; 3]) -> [f64; 3] {
    [
        p[0] * t[0] + p[1] * t[3] + p[2] * t[6] + t[9],
        p[0] * t[1] + p[1] * t[4] + p[2] * t[7] + t[10],
        p[0] * t[2] + p[1] * t[5] + p[2] * t[8] + t[11],
    ]
}

/// `child` then `parent`.
fn compose(child: &Transform, parent: &Transform) -> Transform {
    let mut r = [0.0; 12];
    for row in 0..4 {
        for col in 0..3 {
            let mut v = if row == 3 { parent[9 + col] } else { 0.0 };
            for k in 0..3 {
                v += child[row * 3 + k] * parent[k * 3 + col];
            }
            r[row * 3 + col] = v;
        }
    }
    r
}

fn determinant(t: &Transform) -> f64 {
    t[0] * (t[4] * t[8] - t[5] * t[7]) - t[1] * (t[3] * t[8] - t[5] * t[6])
        + t[2] * (t[3] * t[7] - t[4] * t[6])
}

fn parse_transform(s: Option<String>) -> Transform {
    let Some(s) = s else { return IDENTITY };
    let v: Vec<f64> = s
        .split_whitespace()
        .filter_map(super::text::parse_f64)
        .collect();
    <[f64; 12]>::try_from(v.as_slice()).unwrap_or(IDENTITY)
}

#[derive(Default)]
struct Object {
    triangles: u64,
    /// Six times the signed volume, local coordinates (mm³).
    volume6: f64,
    vertices: Option<Vec<[f32; 3]>>,
    min: [f64; 3],
    max: [f64; 3],
    has_mesh: bool,
    /// Local triangles kept for drawing.
    sample: Option<Mesh>,
    components: Vec<(Option<String>, u32, Transform)>,
}

/// One parsed model file.
#[derive(Default)]
pub(crate) struct ModelFile {
    pub(crate) application: Option<String>,
    objects: HashMap<u32, Object>,
    build: Vec<(Option<String>, u32, Transform)>,
    /// Component model paths this file references.
    pub(crate) references: Vec<String>,
}

fn unit_scale(unit: &str) -> f64 {
    match unit {
        "micron" => 0.001,
        "centimeter" => 10.0,
        "inch" => 25.4,
        "foot" => 304.8,
        "meter" => 1000.0,
        _ => 1.0,
    }
}

/// Shared across the files of one package.
#[derive(Default)]
pub(crate) struct Budget {
    kept_vertices: usize,
    kept_triangles: usize,
}

struct Parser<'a> {
    file: ModelFile,
    scale: f64,
    current: Option<(u32, Object, Vec<[f64; 3]>)>,
    in_build: bool,
    in_application: bool,
    bad_triangles: u64,
    too_many_vertices: bool,
    budget: &'a mut Budget,
}

impl Parser<'_> {
    fn element(&mut self, e: &BytesStart<'_>) {
        match xml::name(e).as_slice() {
            b"model" => self.scale = unit_scale(&xml::attr(e, "unit").unwrap_or_default()),
            b"metadata" => {
                self.in_application = xml::attr(e, "name").as_deref() == Some("Application")
            }
            b"object" => {
                let id = xml::attr(e, "id")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                let room = MAX_RENDER_TRIANGLES.saturating_sub(self.budget.kept_triangles);
                let object = Object {
                    sample: (room > 0).then(|| Mesh::with_cap(room.min(MAX_OBJECT_RENDER))),
                    ..Object::default()
                };
                self.current = Some((id, object, Vec::new()));
            }
            b"vertex" => self.vertex(e),
            b"triangle" => self.triangle(e),
            b"component" => {
                if let Some((_, obj, _)) = self.current.as_mut() {
                    let path = xml::attr(e, "path").map(|p| p.trim_start_matches('/').to_string());
                    let id = xml::attr(e, "objectid")
                        .and_then(|s| s.trim().parse().ok())
                        .unwrap_or(0);
                    if let Some(p) = path.as_ref().filter(|p| !self.file.references.contains(p)) {
                        self.file.references.push(p.clone());
                    }
                    obj.components
                        .push((path, id, parse_transform(xml::attr(e, "transform"))));
                }
            }
            b"build" => self.in_build = true,
            b"item" if self.in_build => {
                let path = xml::attr(e, "path").map(|p| p.trim_start_matches('/').to_string());
                let id = xml::attr(e, "objectid")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                if let Some(p) = path.as_ref().filter(|p| !self.file.references.contains(p)) {
                    self.file.references.push(p.clone());
                }
                self.file
                    .build
                    .push((path, id, parse_transform(xml::attr(e, "transform"))));
            }
            _ => {}
        }
    }

    fn vertex(&mut self, e: &BytesStart<'_>) {
        let Some((_, obj, verts)) = self.current.as_mut() else {
            return;
        };
        if verts.len() >= MAX_OBJECT_VERTICES {
            self.too_many_vertices = true;
            return;
        }
        let p = ["x", "y", "z"].map(|k| xml::attr_f64(e, k).unwrap_or(0.0) * self.scale);
        if verts.is_empty() {
            obj.min = p;
            obj.max = p;
        }
        for (k, v) in p.iter().enumerate() {
            obj.min[k] = obj.min[k].min(*v);
            obj.max[k] = obj.max[k].max(*v);
        }
        obj.has_mesh = true;
        verts.push(p);
    }

    fn triangle(&mut self, e: &BytesStart<'_>) {
        let Some((_, obj, verts)) = self.current.as_mut() else {
            return;
        };
        obj.triangles += 1;
        let idx = ["v1", "v2", "v3"].map(|k| {
            xml::attr(e, k)
                .and_then(|s| s.trim().parse::<usize>().ok())
                .and_then(|i| verts.get(i).copied())
        });
        match idx {
            [Some(a), Some(b), Some(c)] => {
                let cross = [
                    b[1] * c[2] - b[2] * c[1],
                    b[2] * c[0] - b[0] * c[2],
                    b[0] * c[1] - b[1] * c[0],
                ];
                obj.volume6 += a[0] * cross[0] + a[1] * cross[1] + a[2] * cross[2];
                if let Some(sample) = obj.sample.as_mut() {
                    sample.push([a, b, c].map(|p| p.map(|v| v as f32)));
                }
            }
            _ => self.bad_triangles += 1,
        }
    }

    fn end_object(&mut self) {
        let Some((id, mut obj, verts)) = self.current.take() else {
            return;
        };
        if self.budget.kept_vertices + verts.len() <= MAX_KEPT_VERTICES {
            self.budget.kept_vertices += verts.len();
            obj.vertices = Some(verts.iter().map(|p| p.map(|v| v as f32)).collect());
        }
        self.budget.kept_triangles += obj.sample.as_ref().map_or(0, |m| m.triangles().len());
        self.file.objects.insert(id, obj);
    }
}

/// Parses one model file.
pub(crate) fn parse<Rd: BufRead>(
    reader: Rd,
    budget: &mut Budget,
    warnings: &mut Vec<String>,
) -> Result<ModelFile, SliceError> {
    let mut reader = quick_xml::Reader::from_reader(reader);
    reader.config_mut().trim_text(true);
    let mut p = Parser {
        file: ModelFile::default(),
        scale: 1.0,
        current: None,
        in_build: false,
        in_application: false,
        bad_triangles: 0,
        too_many_vertices: false,
        budget,
    };
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => p.element(&e),
            Ok(Event::Empty(e)) => {
                p.element(&e);
                if e.local_name().as_ref() == b"metadata" {
                    p.in_application = false;
                }
            }
            Ok(Event::Text(t)) if p.in_application => {
                p.file.application = Some(xml::unescape(&t));
                p.in_application = false;
            }
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"object" => p.end_object(),
                b"build" => p.in_build = false,
                b"metadata" => p.in_application = false,
                _ => {}
            },
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(SliceError::invalid("3mf", format!("model XML: {e}")));
            }
        }
        buf.clear();
    }
    if p.bad_triangles > 0 {
        warnings.push(format!(
            "{} triangles refer to missing vertices",
            p.bad_triangles
        ));
    }
    if p.too_many_vertices {
        warnings.push(format!(
            "an object has more than {MAX_OBJECT_VERTICES} vertices; the rest are ignored"
        ));
    }
    Ok(p.file)
}

struct Totals {
    triangles: u64,
    volume: f64,
    min: [f64; 3],
    max: [f64; 3],
    any: bool,
    visits: usize,
    transformed: usize,
    missing: HashSet<(String, u32)>,
    capped: bool,
    mesh: Mesh,
    render_transformed: usize,
}

impl Totals {
    fn point(&mut self, p: [f64; 3]) {
        if !self.any {
            self.min = p;
            self.max = p;
            self.any = true;
        }
        for (k, v) in p.iter().enumerate() {
            self.min[k] = self.min[k].min(*v);
            self.max[k] = self.max[k].max(*v);
        }
    }
}

fn visit(
    files: &HashMap<String, ModelFile>,
    file: &str,
    id: u32,
    t: &Transform,
    depth: usize,
    totals: &mut Totals,
) {
    if depth > MAX_DEPTH || totals.visits >= MAX_VISITS {
        totals.capped = true;
        return;
    }
    totals.visits += 1;
    let Some(obj) = files.get(file).and_then(|f| f.objects.get(&id)) else {
        totals.missing.insert((file.to_string(), id));
        return;
    };
    if obj.has_mesh {
        totals.triangles += obj.triangles;
        totals.volume += (obj.volume6 / 6.0 * determinant(t)).abs();
        if let Some(sample) = &obj.sample {
            let n = sample.triangles().len();
            if totals.render_transformed + n <= MAX_RENDER_TRANSFORMED {
                totals.render_transformed += n;
                for tri in sample.triangles() {
                    totals
                        .mesh
                        .push(tri.map(|p| apply(t, p.map(f64::from)).map(|v| v as f32)));
                }
            }
        }
        match &obj.vertices {
            Some(vs) if totals.transformed + vs.len() <= MAX_TRANSFORMED => {
                totals.transformed += vs.len();
                for v in vs {
                    totals.point(apply(t, v.map(f64::from)));
                }
            }
            _ => {
                for corner in 0..8 {
                    let pick = |k: usize| {
                        if corner >> k & 1 == 1 {
                            obj.max[k]
                        } else {
                            obj.min[k]
                        }
                    };
                    totals.point(apply(t, [pick(0), pick(1), pick(2)]));
                }
            }
        }
    }
    for (path, child, ct) in &obj.components {
        let child_file = path.as_deref().unwrap_or(file);
        visit(
            files,
            child_file,
            *child,
            &compose(ct, t),
            depth + 1,
            totals,
        );
    }
}

/// Geometry of the build items of `root` and a sample of their triangles (placed), or
/// `None` when the package has no mesh.
pub(crate) fn summarize(
    files: &HashMap<String, ModelFile>,
    root: &str,
    warnings: &mut Vec<String>,
) -> Option<(ModelInfo, Mesh)> {
    let root_file = files.get(root)?;
    let mut totals = Totals {
        triangles: 0,
        volume: 0.0,
        min: [0.0; 3],
        max: [0.0; 3],
        any: false,
        visits: 0,
        transformed: 0,
        missing: HashSet::new(),
        capped: false,
        mesh: Mesh::default(),
        render_transformed: 0,
    };
    for (path, id, t) in &root_file.build {
        visit(
            files,
            path.as_deref().unwrap_or(root),
            *id,
            t,
            0,
            &mut totals,
        );
    }
    if !totals.missing.is_empty() {
        warnings.push(format!(
            "{} referenced objects are missing",
            totals.missing.len()
        ));
    }
    if totals.capped {
        warnings.push("model components nest too deep or too often; geometry is partial".into());
    }
    if !totals.any || totals.triangles == 0 {
        return None;
    }
    let info = ModelInfo {
        objects: u32::try_from(root_file.build.len()).unwrap_or(u32::MAX),
        triangles: totals.triangles,
        bounding_box_mm: [0, 1, 2].map(|k| round(totals.max[k] - totals.min[k], 3)),
        volume_cm3: round(totals.volume / 1000.0, 3),
    };
    Some((info, totals.mesh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_compose_like_row_vectors() {
        let scale2: Transform = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0];
        let shift: Transform = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 10.0, 0.0, 0.0];
        // Child scales, parent shifts: (1,0,0) → (2,0,0) → (12,0,0).
        assert_eq!(
            apply(&compose(&scale2, &shift), [1.0, 0.0, 0.0]),
            [12.0, 0.0, 0.0]
        );
        assert_eq!(
            apply(&compose(&shift, &scale2), [1.0, 0.0, 0.0]),
            [22.0, 0.0, 0.0]
        );
        assert!((determinant(&compose(&scale2, &shift)) - 8.0).abs() < 1e-12);
    }
}
