//! A bounded sample of a model's triangles, for drawing a thumbnail (see [`super::raster`]).
//!
//! A mesh may have hundreds of millions of triangles; a 512 px picture needs far fewer. A
//! [`Mesh`] keeps at most `cap` of them, sampled evenly over the whole model: when it is full
//! it drops every second one it holds and from then on keeps only every second one offered
//! (and so on), so memory is bounded whatever the file says and the picture still shows
//! every part of the model.

/// One triangle: three corners, millimetres, in the model's build coordinates.
pub type Triangle = [[f32; 3]; 3];

/// Triangles kept for drawing, over all objects of a model (36 bytes each: 18 MB).
pub const MAX_RENDER_TRIANGLES: usize = 500_000;

/// An evenly sampled, bounded set of a model's triangles.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    triangles: Vec<Triangle>,
    cap: usize,
    /// Keep one triangle in `stride` of those offered.
    stride: u64,
    offered: u64,
}

impl Default for Mesh {
    fn default() -> Self {
        Mesh::with_cap(MAX_RENDER_TRIANGLES)
    }
}

impl Mesh {
    /// An empty mesh that keeps at most `cap` triangles (at least 2).
    pub fn with_cap(cap: usize) -> Self {
        Mesh {
            triangles: Vec::new(),
            cap: cap.max(2),
            stride: 1,
            offered: 0,
        }
    }

    /// Offers one triangle; it is kept or not by the sampling rule. Triangles with a
    /// non-finite coordinate are never kept.
    pub fn push(&mut self, t: Triangle) {
        let index = self.offered;
        self.offered += 1;
        if !t.iter().flatten().all(|v| v.is_finite()) || !index.is_multiple_of(self.stride) {
            return;
        }
        if self.triangles.len() >= self.cap {
            // Keep every second one, and offer-wise every second from now on.
            let mut i = 0usize;
            self.triangles.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride = self.stride.saturating_mul(2);
            if !index.is_multiple_of(self.stride) {
                return;
            }
        }
        self.triangles.push(t);
    }

    /// The triangles kept.
    pub fn triangles(&self) -> &[Triangle] {
        &self.triangles
    }

    /// How many triangles were offered (kept or not).
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// Whether some offered triangles were left out.
    pub fn is_sampled(&self) -> bool {
        self.stride > 1
    }

    pub fn is_empty(&self) -> bool {
        self.triangles.is_empty()
    }

    /// Smallest and largest corner of the kept triangles, or `None` when there are none.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let mut corners = self.triangles.iter().flatten();
        let first = *corners.next()?;
        let (mut min, mut max) = (first, first);
        for p in corners {
            for (k, v) in p.iter().enumerate() {
                min[k] = min[k].min(*v);
                max[k] = max[k].max(*v);
            }
        }
        Some((min, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tri(i: u64) -> Triangle {
        let x = i as f32;
        [[x, 0.0, 0.0], [x, 1.0, 0.0], [x, 0.0, 1.0]]
    }

    #[test]
    fn keeps_everything_below_the_cap() {
        let mut m = Mesh::with_cap(10);
        for i in 0..10 {
            m.push(tri(i));
        }
        assert_eq!(m.triangles().len(), 10);
        assert!(!m.is_sampled());
        assert_eq!(m.bounds(), Some(([0.0, 0.0, 0.0], [9.0, 1.0, 1.0])));
    }

    #[test]
    fn samples_evenly_and_stays_bounded() {
        let mut m = Mesh::with_cap(100);
        for i in 0..1_000_000 {
            m.push(tri(i));
        }
        assert!(m.triangles().len() <= 100);
        assert!(m.triangles().len() >= 50);
        assert!(m.is_sampled());
        assert_eq!(m.offered(), 1_000_000);
        // Spread over the whole range, not just the start.
        let (min, max) = m.bounds().unwrap_or_default();
        assert_eq!(min[0], 0.0);
        assert!(max[0] > 900_000.0, "{max:?}");
    }

    #[test]
    fn drops_non_finite_triangles() {
        let mut m = Mesh::with_cap(10);
        m.push([[f32::NAN, 0.0, 0.0], [0.0; 3], [1.0; 3]]);
        m.push([[f32::INFINITY, 0.0, 0.0], [0.0; 3], [1.0; 3]]);
        assert!(m.is_empty());
        assert_eq!(m.bounds(), None);
    }
}
