//! Sliced-file metadata from a picked `File`, in the browser, before any upload and offline.
//!
//! The core parser runs over a [`SparseReader`]; whenever it needs bytes that are not loaded
//! yet, only those ranges are read with `Blob.slice(a, b).arrayBuffer()` and the parser runs
//! again. A 500 MB G-code costs its head and tail windows, never the whole file.

use printstall_core::slicefile::{
    FETCH_ALIGN, SliceInfo, SparseReader, SparseStep, inspect_sparse,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Parser rounds before giving up (each round loads every range the last one missed).
const MAX_ROUNDS: usize = 32;
/// Bytes read from one file at most, whatever the file claims.
const MAX_LOADED: u64 = 64 * 1024 * 1024;
/// A 3MF up to this size is loaded at once (its model member is read through anyway).
const WHOLE_3MF: u64 = 32 * 1024 * 1024;

/// The metadata plus what reading it cost.
pub struct Parsed {
    pub info: SliceInfo,
    pub file_size: u64,
    pub loaded_bytes: u64,
    pub rounds: usize,
    pub millis: f64,
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&e, &"message".into())
                .ok()?
                .as_string()
        })
        .unwrap_or_else(|| "the browser could not read the file".into())
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Reads `len` bytes at `offset` of the blob.
async fn read_range(blob: &web_sys::Blob, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    let part = blob
        .slice_with_f64_and_f64(offset as f64, (offset + len) as f64)
        .map_err(js_error)?;
    let buffer = JsFuture::from(part.array_buffer())
        .await
        .map_err(js_error)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Reads the metadata of `file`, loading only the byte ranges the parser asks for.
pub async fn inspect_file(file: &web_sys::File) -> Result<Parsed, String> {
    let started = now_ms();
    let name = file.name();
    let size = file.size().max(0.0) as u64;
    let mut reader = SparseReader::new(size);
    let lower = name.to_ascii_lowercase();
    // An STL is read through to the end (every triangle counts), and a 3MF's model member
    // is streamed through: for those, load the whole file at once when it is not too big.
    let whole = lower.ends_with(".stl") || (lower.ends_with(".3mf") && size <= WHOLE_3MF);
    if whole {
        if size > MAX_LOADED {
            return Err(format!(
                "{name}: reading it would need more than {} MB here; the server will read it after the upload",
                MAX_LOADED >> 20
            ));
        }
        let all = read_range(file, 0, size).await?;
        reader.insert(0, all);
    }
    // Every format looks at the first bytes, and most at the last ones: load both at once.
    let first = read_range(file, 0, FETCH_ALIGN.min(size)).await?;
    reader.insert(0, first);
    let tail_start = size.saturating_sub(FETCH_ALIGN);
    if tail_start > 0 {
        let last = read_range(file, tail_start, size - tail_start).await?;
        reader.insert(tail_start, last);
    }
    for round in 1..=MAX_ROUNDS {
        match inspect_sparse(&mut reader, &name) {
            SparseStep::Done(result) => {
                let info = (*result).map_err(|e| format!("{name}: {e}"))?;
                return Ok(Parsed {
                    info,
                    file_size: size,
                    loaded_bytes: reader.loaded_bytes(),
                    rounds: round,
                    millis: now_ms() - started,
                });
            }
            SparseStep::Need(ranges) => {
                for range in ranges {
                    if reader.loaded_bytes() + range.len > MAX_LOADED {
                        return Err(format!(
                            "{name}: reading it would need more than {} MB here; the server will read it after the upload",
                            MAX_LOADED >> 20
                        ));
                    }
                    let bytes = read_range(file, range.offset, range.len).await?;
                    reader.insert(range.offset, bytes);
                }
            }
        }
    }
    Err(format!(
        "{name}: still incomplete after {MAX_ROUNDS} reads; the server will read it after the upload"
    ))
}

/// A `blob:` URL showing `bytes` as an image of the given MIME type.
pub fn image_url(bytes: &[u8], mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Frees a URL made by [`image_url`].
pub fn revoke_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// A `data:` URL of a PNG drawn from decoded RGBA pixels (for QOI thumbnails).
pub fn rgba_data_url(rgba: &printstall_core::slicefile::thumbnail::Rgba) -> Option<String> {
    use wasm_bindgen::JsCast;
    let document = web_sys::window()?.document()?;
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(rgba.width);
    canvas.set_height(rgba.height);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&rgba.pixels),
        rgba.width,
        rgba.height,
    )
    .ok()?;
    context.put_image_data(&image, 0.0, 0.0).ok()?;
    canvas.to_data_url().ok()
}
