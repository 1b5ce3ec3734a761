//! The camera: the rear camera's frames read by the browser's `BarcodeDetector` where it
//! exists, and otherwise by the rxing decoder, a separate wasm module that boot.js loads
//! on first use (`window.printstallScanner()`), so the first screen never downloads it.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    MediaStreamConstraints,
};
use yew::Callback;

/// The formats asked of `BarcodeDetector`, in its spelling.
const FORMATS: [&str; 6] = ["qr_code", "ean_13", "ean_8", "upc_a", "upc_e", "code_128"];
/// Widest frame handed to the decoder: larger frames cost time and find nothing more.
const MAX_WIDTH: u32 = 640;
/// Pause between frames (the decoder itself takes a few milliseconds).
const FRAME_GAP_MS: i32 = 100;

/// Which decoder reads the frames.
#[derive(Clone)]
pub enum Decoder {
    /// The browser's `BarcodeDetector` instance.
    Native(JsValue),
    /// The rxing module's `decode_rgba`.
    Wasm(Function),
}

impl Decoder {
    pub fn name(&self) -> &'static str {
        match self {
            Decoder::Native(_) => "barcode-detector",
            Decoder::Wasm(_) => "rxing",
        }
    }
}

fn js_error(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| {
            e.dyn_ref::<web_sys::DomException>()
                .map(|e| format!("{}: {}", e.name(), e.message()))
        })
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(js_error)
}

pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// `BarcodeDetector` when the browser has one that reads QR codes.
async fn native_decoder() -> Option<Decoder> {
    let window: JsValue = web_sys::window()?.into();
    let class = get(&window, "BarcodeDetector").ok()?;
    let class: Function = class.dyn_into().ok()?;
    let supported = get(&class, "getSupportedFormats")
        .ok()?
        .dyn_into::<Function>()
        .ok()?
        .call0(&class)
        .ok()?;
    let supported: Array = JsFuture::from(Promise::from(supported)).await.ok()?.into();
    let formats = Array::new();
    for f in FORMATS {
        if supported.includes(&JsValue::from_str(f), 0) {
            formats.push(&JsValue::from_str(f));
        }
    }
    if !formats.includes(&JsValue::from_str("qr_code"), 0) {
        return None;
    }
    let options = Object::new();
    Reflect::set(&options, &"formats".into(), &formats).ok()?;
    let args = Array::of1(&options);
    let detector = Reflect::construct(&class, &args).ok()?;
    Some(Decoder::Native(detector))
}

/// The rxing module, loaded (once) through boot.js.
pub async fn wasm_decoder() -> Result<Decoder, String> {
    let window: JsValue = web_sys::window().ok_or("no window")?.into();
    let load: Function = get(&window, "printstallScanner")?
        .dyn_into()
        .map_err(|_| "the scanner module is not part of this build".to_string())?;
    let module = JsFuture::from(Promise::from(load.call0(&window).map_err(js_error)?))
        .await
        .map_err(|e| format!("the scanner module did not load: {}", js_error(e)))?;
    let decode: Function = get(&module, "decode_rgba")?
        .dyn_into()
        .map_err(|_| "the scanner module has no decode_rgba".to_string())?;
    Ok(Decoder::Wasm(decode))
}

/// The decoder for this browser: `BarcodeDetector` if it reads QR codes, else rxing.
pub async fn decoder() -> Result<Decoder, String> {
    match native_decoder().await {
        Some(d) => Ok(d),
        None => wasm_decoder().await,
    }
}

/// Decodes one RGBA frame with the rxing module: `(format, text)`.
pub fn decode_rgba(
    decode: &Function,
    data: &JsValue,
    w: u32,
    h: u32,
) -> Result<Option<(String, String)>, String> {
    let args = Array::of4(data, &JsValue::from(w), &JsValue::from(h), &JsValue::FALSE);
    let out = decode.apply(&JsValue::NULL, &args).map_err(js_error)?;
    Ok(out.as_string().and_then(|s| {
        s.split_once('\n')
            .map(|(f, t)| (f.to_owned(), t.to_owned()))
    }))
}

/// A running camera; dropping it does not stop it: call [`Camera::stop`].
pub struct Camera {
    stream: MediaStream,
    stopped: Rc<Cell<bool>>,
}

impl Camera {
    pub fn stop(&self) {
        self.stopped.set(true);
        for t in self.stream.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<web_sys::MediaStreamTrack>() {
                t.stop();
            }
        }
    }
}

/// Opens the rear camera into `video`.
pub async fn open(video: &HtmlVideoElement) -> Result<Camera, String> {
    let window = web_sys::window().ok_or("no window")?;
    let devices = window.navigator().media_devices().map_err(|_| {
        "this browser gives no camera access here (it needs https or localhost); type the code instead".to_string()
    })?;
    let video_c = Object::new();
    let facing = Object::new();
    let _ = Reflect::set(&facing, &"ideal".into(), &"environment".into());
    let _ = Reflect::set(&video_c, &"facingMode".into(), &facing);
    let width = Object::new();
    let _ = Reflect::set(&width, &"ideal".into(), &JsValue::from(1280));
    let _ = Reflect::set(&video_c, &"width".into(), &width);
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video_c);
    constraints.set_audio(&JsValue::FALSE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(js_error)?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| {
            let m = js_error(e);
            if m.contains("NotAllowed") || m.contains("Permission") {
                "camera access was refused; allow it in the browser's site settings, or type the code".to_string()
            } else if m.contains("NotFound") {
                "no camera found; type the code instead".to_string()
            } else {
                format!("the camera did not start: {m}")
            }
        })?
        .dyn_into()
        .map_err(|_| "the camera gave no video".to_string())?;
    video.set_src_object(Some(&stream));
    video.set_muted(true);
    if let Ok(p) = video.play() {
        let _ = JsFuture::from(p).await;
    }
    Ok(Camera {
        stream,
        stopped: Rc::new(Cell::new(false)),
    })
}

/// Reads frames until a code is found (then `on_code(format, text)` and it stops reading)
/// or the camera is stopped.
pub fn read_frames(
    camera: &Camera,
    video: HtmlVideoElement,
    decoder: Decoder,
    on_code: Callback<(String, String)>,
    on_error: Callback<String>,
) {
    let stopped = camera.stopped.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let canvas: Option<HtmlCanvasElement> = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("canvas").ok())
            .and_then(|c| c.dyn_into().ok());
        let Some(canvas) = canvas else {
            on_error.emit("no canvas to read the camera into".into());
            return;
        };
        let options = Object::new();
        let _ = Reflect::set(&options, &"willReadFrequently".into(), &JsValue::TRUE);
        let ctx: Option<CanvasRenderingContext2d> = canvas
            .get_context_with_context_options("2d", &options)
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into().ok());
        let Some(ctx) = ctx else {
            on_error.emit("no canvas to read the camera into".into());
            return;
        };
        while !stopped.get() {
            sleep(FRAME_GAP_MS).await;
            if stopped.get() {
                break;
            }
            // HAVE_CURRENT_DATA or better.
            if video.ready_state() < 2 || video.video_width() == 0 {
                continue;
            }
            let found = match &decoder {
                Decoder::Native(detector) => detect_native(detector, &video).await,
                Decoder::Wasm(decode) => {
                    let (vw, vh) = (video.video_width(), video.video_height());
                    let w = vw.min(MAX_WIDTH);
                    let h = ((f64::from(vh) * f64::from(w) / f64::from(vw)).round() as u32).max(1);
                    canvas.set_width(w);
                    canvas.set_height(h);
                    let drawn = ctx.draw_image_with_html_video_element_and_dw_and_dh(
                        &video,
                        0.0,
                        0.0,
                        f64::from(w),
                        f64::from(h),
                    );
                    match drawn
                        .and_then(|_| ctx.get_image_data(0.0, 0.0, f64::from(w), f64::from(h)))
                    {
                        Ok(img) => {
                            let data = Reflect::get(&img, &"data".into()).unwrap_or(JsValue::NULL);
                            decode_rgba(decode, &data, w, h)
                        }
                        Err(e) => Err(js_error(e)),
                    }
                }
            };
            match found {
                Ok(Some(hit)) if !stopped.get() => {
                    on_code.emit(hit);
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    on_error.emit(format!("reading the camera failed: {e}"));
                    break;
                }
            }
        }
    });
}

async fn detect_native(
    detector: &JsValue,
    video: &HtmlVideoElement,
) -> Result<Option<(String, String)>, String> {
    let detect: Function = get(detector, "detect")?
        .dyn_into()
        .map_err(|_| "BarcodeDetector has no detect".to_string())?;
    let p = detect.call1(detector, video).map_err(js_error)?;
    let list: Array = JsFuture::from(Promise::from(p))
        .await
        .map_err(js_error)?
        .into();
    let first = list.get(0);
    if first.is_undefined() {
        return Ok(None);
    }
    let text = get(&first, "rawValue")?.as_string().unwrap_or_default();
    let format = get(&first, "format")?.as_string().unwrap_or_default();
    Ok((!text.is_empty()).then_some((format, text)))
}
