//! Time zones as the browser knows them (its own IANA database, so this works offline):
//! whether a name is one, and the list to pick from. Core checks a zone's shape only; the
//! server's reports convert times with PostgreSQL, which must know the zone too.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn intl() -> Option<Object> {
    Reflect::get(&js_sys::global(), &"Intl".into())
        .ok()
        .and_then(|v| v.dyn_into::<Object>().ok())
}

/// Whether the browser can format times in `tz` (`new Intl.DateTimeFormat("en", {timeZone})`
/// throws a RangeError for a zone it does not know). True when the browser cannot tell.
pub fn is_known(tz: &str) -> bool {
    let Some(ctor) = intl()
        .and_then(|i| Reflect::get(&i, &"DateTimeFormat".into()).ok())
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return true;
    };
    let options = Object::new();
    if Reflect::set(&options, &"timeZone".into(), &JsValue::from_str(tz)).is_err() {
        return true;
    }
    let args = Array::of2(&JsValue::from_str("en"), &options);
    Reflect::construct(&ctor, &args).is_ok()
}

/// The zones the browser lists (`Intl.supportedValuesOf("timeZone")`), for a picker; empty
/// where the browser cannot list them.
pub fn all() -> Vec<String> {
    let Some(i) = intl() else {
        return Vec::new();
    };
    Reflect::get(&i, &"supportedValuesOf".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call1(&i, &"timeZone".into()).ok())
        .map(|v| {
            Array::from(&v)
                .iter()
                .filter_map(|s| s.as_string())
                .collect()
        })
        .unwrap_or_default()
}
