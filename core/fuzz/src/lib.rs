//! What every fuzz target does with its input: everything the server and the app do with an
//! uploaded file. Nothing may panic, whatever the bytes.

use printstall_core::slicefile::{self, raster, thumbnail};

/// Reads `data` as a file named `name` (the extension picks the format when the magic bytes
/// do not), then summarises it, serialises it, decodes its best thumbnail and draws its mesh.
pub fn exercise(data: &[u8], name: &str) {
    let Ok(info) = slicefile::inspect_bytes(data, name) else {
        return;
    };
    let _ = info.to_summary();
    if serde_json::to_string(&info).is_err() {
        panic!("{name}: the metadata does not serialise");
    }
    if let Some((_, bytes)) = info.best_thumbnail() {
        picture(bytes);
    }
    if let Some(mesh) = &info.mesh {
        let _ = raster::render(mesh, 64, 64);
    }
}

/// Decodes an embedded picture (PNG, JPEG or QOI) and scales it to the web sizes.
pub fn picture(bytes: &[u8]) {
    let _ = thumbnail::web_sizes(bytes);
    let _ = thumbnail::decode_qoi_rgba(bytes);
}
