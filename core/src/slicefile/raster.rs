//! A small software rasteriser: a shaded isometric picture of a [`Mesh`], for models that
//! carry no thumbnail (STL files, plain 3MF). Plain Rust on the CPU with a z-buffer: no GPU,
//! no threads, so it runs the same on the server and in the browser (wasm32).
//!
//! The view is the classic isometric one of a Z-up printer bed seen from the front right,
//! above. Faces are lit by one light plus ambient, both sides alike (STL normals and winding
//! are often wrong). The picture is drawn at twice the size and scaled down (2×2 average),
//! which smooths the edges. Time is bounded: the pixels a picture may test are capped
//! ([`MAX_PIXEL_TESTS`]), so a hostile mesh of huge overlapping triangles cannot stall it.

use super::mesh::{Mesh, Triangle};
use super::thumbnail::Rgba;

/// Largest picture side drawn.
pub const MAX_SIDE: u32 = 1024;
/// Pixel tests allowed per picture, at the supersampled size (about a second natively).
pub const MAX_PIXEL_TESTS: u64 = 200_000_000;
/// Supersampling factor per axis.
const SUPER: u32 = 2;
/// Blank border around the model, as a share of the picture side.
const MARGIN: f32 = 0.06;
/// The model's colour (a warm filament orange) before shading, linear 0..1.
const BASE: [f32; 3] = [0.96, 0.55, 0.18];

/// Why no picture could be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the model has no triangles to draw")]
    Empty,
    #[error("a picture must be 1 to {MAX_SIDE} pixels wide and high, not {0}")]
    BadSize(u32),
    #[error("the model has no extent (all its corners are in one point or one line)")]
    Flat,
}

/// A drawn picture, with what drawing it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub image: Rgba,
    /// Triangles drawn (the mesh may hold more than were drawn when time ran out).
    pub triangles_drawn: usize,
    /// Drawing stopped at [`MAX_PIXEL_TESTS`] before every triangle was drawn.
    pub incomplete: bool,
}

fn normalize(v: [f32; 3]) -> [f32; 3] {
    let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if len > 0.0 && len.is_finite() {
        [v[0] / len, v[1] / len, v[2] / len]
    } else {
        [0.0, 0.0, 0.0]
    }
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The camera: screen right, screen up, and towards the viewer (larger = nearer).
struct View {
    right: [f32; 3],
    up: [f32; 3],
    toward: [f32; 3],
    light: [f32; 3],
}

impl View {
    fn isometric() -> Self {
        // Looking from (+1, -1, +1) at the origin: front right, above.
        let toward = normalize([1.0, -1.0, 1.0]);
        let right = normalize([1.0, 1.0, 0.0]);
        let up = normalize(cross(right, [-toward[0], -toward[1], -toward[2]]));
        View {
            right,
            up,
            toward,
            // From above, a little left of the camera.
            light: normalize([0.3, -0.7, 1.0]),
        }
    }

    /// Screen x, screen y (up), depth.
    fn project(&self, p: [f32; 3]) -> [f32; 3] {
        [dot(p, self.right), dot(p, self.up), dot(p, self.toward)]
    }
}

/// Draws `mesh` into a `width` × `height` RGBA picture: the model centred and scaled to fit,
/// the background transparent.
pub fn render(mesh: &Mesh, width: u32, height: u32) -> Result<Rendered, RenderError> {
    render_within(mesh, width, height, MAX_PIXEL_TESTS)
}

/// [`render`] with `budget` pixel tests at most.
fn render_within(
    mesh: &Mesh,
    width: u32,
    height: u32,
    budget: u64,
) -> Result<Rendered, RenderError> {
    for side in [width, height] {
        if side == 0 || side > MAX_SIDE {
            return Err(RenderError::BadSize(side));
        }
    }
    if mesh.is_empty() {
        return Err(RenderError::Empty);
    }
    let view = View::isometric();

    // Fit the projected model into the picture.
    let mut lo = [f32::INFINITY; 2];
    let mut hi = [f32::NEG_INFINITY; 2];
    for p in mesh.triangles().iter().flatten() {
        let s = view.project(*p);
        for (k, v) in s.iter().take(2).enumerate() {
            lo[k] = lo[k].min(*v);
            hi[k] = hi[k].max(*v);
        }
    }
    let extent = [hi[0] - lo[0], hi[1] - lo[1]];
    if !(extent[0].is_finite() && extent[1].is_finite()) || extent[0].max(extent[1]) <= 0.0 {
        return Err(RenderError::Flat);
    }
    let (w, h) = (width * SUPER, height * SUPER);
    let usable = [
        w as f32 * (1.0 - 2.0 * MARGIN),
        h as f32 * (1.0 - 2.0 * MARGIN),
    ];
    let scale = (usable[0] / extent[0].max(f32::MIN_POSITIVE))
        .min(usable[1] / extent[1].max(f32::MIN_POSITIVE));
    if !scale.is_finite() || scale <= 0.0 {
        return Err(RenderError::Flat);
    }
    let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    let to_screen = |s: [f32; 3]| -> [f32; 3] {
        [
            w as f32 / 2.0 + (s[0] - centre[0]) * scale,
            // Screen rows grow downwards.
            h as f32 / 2.0 - (s[1] - centre[1]) * scale,
            s[2],
        ]
    };

    let pixels = (w as usize) * (h as usize);
    let mut depth = vec![f32::NEG_INFINITY; pixels];
    let mut colour = vec![[0u8; 3]; pixels];
    let mut tests: u64 = 0;
    let mut drawn = 0usize;
    let mut incomplete = false;
    for t in mesh.triangles() {
        let Some(shade) = shade(&view, t) else {
            continue;
        };
        let s = t.map(|p| to_screen(view.project(p)));
        let Some(cost) = draw(&s, shade, w, h, &mut depth, &mut colour, budget - tests) else {
            incomplete = true;
            break;
        };
        tests += cost;
        drawn += 1;
    }

    // 2×2 average down to the asked size; alpha from coverage.
    let mut out = Vec::with_capacity((width as usize) * (height as usize) * 4);
    for y in 0..height {
        for x in 0..width {
            let mut sum = [0u32; 3];
            let mut covered = 0u32;
            for dy in 0..SUPER {
                for dx in 0..SUPER {
                    let i = ((y * SUPER + dy) * w + x * SUPER + dx) as usize;
                    if depth[i] > f32::NEG_INFINITY {
                        covered += 1;
                        for (total, c) in sum.iter_mut().zip(colour[i]) {
                            *total += u32::from(c);
                        }
                    }
                }
            }
            if covered == 0 {
                out.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                let alpha = covered * 255 / (SUPER * SUPER);
                out.extend(sum.map(|c| (c / covered) as u8));
                out.push(alpha as u8);
            }
        }
    }
    Ok(Rendered {
        image: Rgba {
            width,
            height,
            pixels: out,
        },
        triangles_drawn: drawn,
        incomplete,
    })
}

/// The triangle's colour, or `None` for a degenerate one.
fn shade(view: &View, t: &Triangle) -> Option<[u8; 3]> {
    let n = normalize(cross(sub(t[1], t[0]), sub(t[2], t[0])));
    if n == [0.0, 0.0, 0.0] {
        return None;
    }
    // Both sides lit alike: many files have flipped normals.
    let diffuse = dot(n, view.light).abs();
    // A little rim from facing the viewer keeps steep walls readable.
    let facing = dot(n, view.toward).abs();
    let light = 0.28 + 0.6 * diffuse + 0.12 * facing;
    // Gamma 2.2 so the falloff looks even on screen.
    Some(BASE.map(|c| ((c * light).clamp(0.0, 1.0).powf(1.0 / 2.2) * 255.0).round() as u8))
}

/// Fills one screen triangle with the z-test; returns the pixels tested, or `None` (and
/// draws nothing) when that would be more than `budget`.
fn draw(
    s: &[[f32; 3]; 3],
    shade: [u8; 3],
    w: u32,
    h: u32,
    depth: &mut [f32],
    colour: &mut [[u8; 3]],
    budget: u64,
) -> Option<u64> {
    let area =
        (s[1][0] - s[0][0]) * (s[2][1] - s[0][1]) - (s[2][0] - s[0][0]) * (s[1][1] - s[0][1]);
    if !area.is_finite() || area.abs() < 1e-12 {
        return Some(0);
    }
    let min_x = s
        .iter()
        .map(|p| p[0])
        .fold(f32::INFINITY, f32::min)
        .floor()
        .max(0.0);
    let max_x = s
        .iter()
        .map(|p| p[0])
        .fold(f32::NEG_INFINITY, f32::max)
        .ceil()
        .min(w as f32 - 1.0);
    let min_y = s
        .iter()
        .map(|p| p[1])
        .fold(f32::INFINITY, f32::min)
        .floor()
        .max(0.0);
    let max_y = s
        .iter()
        .map(|p| p[1])
        .fold(f32::NEG_INFINITY, f32::max)
        .ceil()
        .min(h as f32 - 1.0);
    if min_x > max_x || min_y > max_y {
        return Some(0);
    }
    let (x0, x1, y0, y1) = (min_x as u32, max_x as u32, min_y as u32, max_y as u32);
    let cost = u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1);
    if cost > budget {
        return None;
    }
    let edge = |a: [f32; 3], b: [f32; 3], px: f32, py: f32| {
        (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0])
    };
    let inv = 1.0 / area;
    for y in y0..=y1 {
        let py = y as f32 + 0.5;
        for x in x0..=x1 {
            let px = x as f32 + 0.5;
            // Barycentric weights, positive inside for either winding.
            let w0 = edge(s[1], s[2], px, py) * inv;
            let w1 = edge(s[2], s[0], px, py) * inv;
            let w2 = edge(s[0], s[1], px, py) * inv;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let z = w0 * s[0][2] + w1 * s[1][2] + w2 * s[2][2];
            let i = (y * w + x) as usize;
            if let (Some(d), Some(c)) = (depth.get_mut(i), colour.get_mut(i))
                && z > *d
            {
                *d = z;
                *c = shade;
            }
        }
    }
    Some(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed cube of `side` mm with one corner at the origin: 12 triangles.
    fn cube(side: f32) -> Mesh {
        let c = |x: u8, y: u8, z: u8| {
            [
                f32::from(x) * side,
                f32::from(y) * side,
                f32::from(z) * side,
            ]
        };
        let quads = [
            [c(0, 0, 0), c(1, 0, 0), c(1, 1, 0), c(0, 1, 0)],
            [c(0, 0, 1), c(1, 0, 1), c(1, 1, 1), c(0, 1, 1)],
            [c(0, 0, 0), c(1, 0, 0), c(1, 0, 1), c(0, 0, 1)],
            [c(0, 1, 0), c(1, 1, 0), c(1, 1, 1), c(0, 1, 1)],
            [c(0, 0, 0), c(0, 1, 0), c(0, 1, 1), c(0, 0, 1)],
            [c(1, 0, 0), c(1, 1, 0), c(1, 1, 1), c(1, 0, 1)],
        ];
        let mut m = Mesh::default();
        for q in quads {
            m.push([q[0], q[1], q[2]]);
            m.push([q[0], q[2], q[3]]);
        }
        m
    }

    fn alpha_at(img: &Rgba, x: u32, y: u32) -> u8 {
        img.pixels[((y * img.width + x) * 4 + 3) as usize]
    }

    #[test]
    fn a_cube_fills_the_middle_and_leaves_the_corners_empty() {
        let r = render(&cube(20.0), 128, 128).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.image.width, r.image.height), (128, 128));
        assert_eq!(r.image.pixels.len(), 128 * 128 * 4);
        assert_eq!(r.triangles_drawn, 12);
        assert!(!r.incomplete);
        assert_eq!(alpha_at(&r.image, 64, 64), 255);
        // An isometric cube is a hexagon: the picture's corners stay transparent.
        for (x, y) in [(0, 0), (127, 0), (0, 127), (127, 127)] {
            assert_eq!(alpha_at(&r.image, x, y), 0, "corner {x},{y}");
        }
        let covered = r.image.pixels.chunks(4).filter(|p| p[3] > 0).count();
        // The hexagon of a fitted cube covers about half the picture.
        assert!(covered > 128 * 128 * 2 / 5, "{covered}");
        // Three faces are visible, in three different shades.
        let mut shades: Vec<[u8; 3]> = r
            .image
            .pixels
            .chunks(4)
            .filter(|p| p[3] == 255)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        shades.sort_unstable();
        shades.dedup();
        assert!(shades.len() >= 3, "{shades:?}");
    }

    #[test]
    fn the_picture_does_not_depend_on_where_or_how_big_the_model_is() {
        let a = render(&cube(1.0), 64, 64).unwrap_or_else(|e| panic!("{e}"));
        let mut moved = Mesh::default();
        for t in cube(500.0).triangles() {
            moved.push(t.map(|p| [p[0] + 1000.0, p[1] - 300.0, p[2] + 7.0]));
        }
        let b = render(&moved, 64, 64).unwrap_or_else(|e| panic!("{e}"));
        let diff = a
            .image
            .pixels
            .iter()
            .zip(&b.image.pixels)
            .filter(|(x, y)| x.abs_diff(**y) > 8)
            .count();
        // Only rounding at a few edge pixels may differ.
        assert!(diff < a.image.pixels.len() / 100, "{diff} bytes differ");
    }

    #[test]
    fn sizes_and_empty_meshes_are_refused() {
        assert_eq!(render(&cube(1.0), 0, 10), Err(RenderError::BadSize(0)));
        assert_eq!(
            render(&cube(1.0), 10, MAX_SIDE + 1),
            Err(RenderError::BadSize(MAX_SIDE + 1))
        );
        assert_eq!(render(&Mesh::default(), 10, 10), Err(RenderError::Empty));
        let mut point = Mesh::default();
        point.push([[1.0; 3]; 3]);
        assert_eq!(render(&point, 10, 10), Err(RenderError::Flat));
    }

    #[test]
    fn huge_overlapping_triangles_stop_at_the_pixel_budget() {
        // Each triangle covers the whole picture; far more than the budget in total.
        let mut m = Mesh::with_cap(1_000_000);
        for i in 0..200_000u32 {
            let z = i as f32 * 1e-6;
            m.push([[0.0, 0.0, z], [100.0, 0.0, z], [0.0, 100.0, z]]);
            m.push([[100.0, 100.0, z], [100.0, 0.0, z], [0.0, 100.0, z]]);
        }
        let r = render_within(&m, 256, 256, 5_000_000).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.incomplete);
        // Each triangle's box is tens of thousands of supersampled pixels: only some
        // dozens of the 400 000 fit in the budget.
        assert!(r.triangles_drawn < 1000, "{}", r.triangles_drawn);
        assert_eq!(r.image.pixels.len(), 256 * 256 * 4);
    }
}
