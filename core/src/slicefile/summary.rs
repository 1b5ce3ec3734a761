//! A short human summary of a [`SliceInfo`] for the command line.

use std::fmt::Write;

use super::{FileFormat, SliceInfo};

/// `1h 5m 41s` style, like the slicers print it.
pub fn format_duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    let mut out = String::new();
    for (v, unit) in [(d, "d"), (h, "h"), (m, "m")] {
        if v > 0 || !out.is_empty() {
            let _ = write!(out, "{v}{unit} ");
        }
    }
    let _ = write!(out, "{s}s");
    out
}

impl SliceInfo {
    /// A few lines for people: file, slicer, printer, time, filaments, plates, model, notes.
    pub fn to_summary(&self) -> String {
        let mut out = String::new();
        let format = match self.format {
            FileFormat::Gcode => "G-code",
            FileFormat::Bgcode => "binary G-code",
            FileFormat::ThreeMf => "3MF",
            FileFormat::Stl => "STL",
        };
        let _ = write!(out, "{} ({format})", self.file);
        if let Some(s) = &self.slicer {
            let _ = write!(out, ", {} {}", s.name, s.version.as_deref().unwrap_or(""));
            out = out.trim_end().to_string();
        }
        out.push('\n');
        let mut line = Vec::new();
        if let Some(p) = &self.printer_model {
            line.push(format!("printer {p}"));
        }
        if let Some(t) = self.print_time_s {
            line.push(format!("time {}", format_duration(t)));
        }
        if let Some(h) = self.layer_height_mm {
            line.push(format!("layers {h} mm"));
        }
        if let Some(n) = self.layer_count {
            line.push(format!("{n} layers"));
        }
        if let Some(z) = self.object_height_mm {
            line.push(format!("height {z} mm"));
        }
        if !line.is_empty() {
            let _ = writeln!(out, "  {}", line.join(", "));
        }
        for f in &self.filaments {
            let mut parts = vec![format!("  filament {}:", f.index)];
            parts.extend(f.kind.clone());
            parts.extend(f.color_hex.clone());
            if let Some(g) = f.used_g {
                parts.push(format!("{g} g"));
            } else if let Some(mm) = f.used_mm {
                parts.push(format!("{mm} mm"));
            } else if let Some(cm3) = f.used_cm3 {
                parts.push(format!("{cm3} cm3"));
            }
            if let Some(name) = &f.name {
                parts.push(format!("({name})"));
            }
            let _ = writeln!(out, "{}", parts.join(" "));
        }
        if self.total_filament_g.is_some() || self.total_cost.is_some() {
            let g = self
                .total_filament_g
                .map(|g| format!(" {g} g"))
                .unwrap_or_default();
            let cost = self
                .total_cost
                .map(|c| format!(" cost {c}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  total{g}{cost}");
        }
        for p in &self.plates {
            let time = p
                .print_time_s
                .map(|t| format!(" {}", format_duration(t)))
                .unwrap_or_default();
            let g = p.filament_g.map(|g| format!(" {g} g")).unwrap_or_default();
            let _ = writeln!(out, "  plate {}{time}{g}", p.index);
        }
        if let Some(m) = &self.model {
            let [x, y, z] = m.bounding_box_mm;
            let _ = writeln!(
                out,
                "  model: {} objects, {} triangles, {x} x {y} x {z} mm, {} cm3",
                m.objects, m.triangles, m.volume_cm3
            );
        }
        if let Some(i) = self.best_thumbnail_index() {
            let t = &self.thumbnails[i];
            let _ = writeln!(
                out,
                "  {} thumbnails, best {}x{} {:?}",
                self.thumbnails.len(),
                t.width,
                t.height,
                t.format
            );
        }
        for w in &self.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::format_duration;

    #[test]
    fn durations_read_like_slicers() {
        assert_eq!(format_duration(57), "57s");
        assert_eq!(format_duration(3_941), "1h 5m 41s");
        assert_eq!(format_duration(93_784), "1d 2h 3m 4s");
        assert_eq!(format_duration(3_600), "1h 0m 0s");
    }
}
