//! IndexedDB requests and transactions as futures, on `web-sys` directly.
//!
//! Why not `indexed_db_futures`: the store needs five operations (open with upgrade steps,
//! get, getAll, put, delete) and an explicit `commit()`; a thirty-line wrapper over
//! `web-sys` does that without another dependency (and its wasm-bindgen version pin).
//!
//! Transactions stay active across `.await` on their own requests: the futures resolve in
//! the request's success event, and the continuation runs in that event's microtask
//! checkpoint, as the `idb` library relies on too. Never await anything else (the network,
//! a timer) while a transaction is open.

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbObjectStore, IdbRequest, IdbTransaction};

/// Waits for a request's result.
pub async fn request(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok_req = req.clone();
        let ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call1(
                &JsValue::NULL,
                &ok_req.result().unwrap_or(JsValue::UNDEFINED),
            );
        });
        let err_req = req.clone();
        let fail = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = err_req
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("the request failed"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(fail.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// Commits a read-write transaction and waits until it is durable (`complete`), or fails
/// with its error (`abort`/`error`).
pub async fn commit(tx: &IdbTransaction) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let err_tx = tx.clone();
        let reject2 = reject.clone();
        let err_tx2 = tx.clone();
        let fail = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = err_tx
                .error()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("the transaction failed"));
            let _ = reject.call1(&JsValue::NULL, &err);
        });
        let abort = Closure::once_into_js(move |_e: web_sys::Event| {
            let err = err_tx2
                .error()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("the transaction was aborted"));
            let _ = reject2.call1(&JsValue::NULL, &err);
        });
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        tx.set_onerror(Some(fail.unchecked_ref()));
        tx.set_onabort(Some(abort.unchecked_ref()));
    });
    // Older browsers lack commit(); the transaction then commits when its requests end.
    // (web-sys marks the binding deprecated only for its signature.)
    #[allow(deprecated)]
    let _ = tx.commit();
    JsFuture::from(promise).await.map(|_| ())
}

/// Reads a JSON value stored as a string under `key`.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    store: &IdbObjectStore,
    key: &JsValue,
) -> Result<Option<T>, JsValue> {
    let v = request(&store.get(key)?).await?;
    match v.as_string() {
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| JsValue::from_str(&e.to_string())),
        None => Ok(None),
    }
}

/// Every value of a store, in key order, read as JSON strings.
pub async fn get_all_json<T: serde::de::DeserializeOwned>(
    store: &IdbObjectStore,
) -> Result<Vec<T>, JsValue> {
    let all = request(&store.get_all()?).await?;
    let arr: js_sys::Array = all.dyn_into()?;
    let mut out = Vec::with_capacity(arr.length() as usize);
    for v in arr.iter() {
        if let Some(s) = v.as_string()
            && let Ok(t) = serde_json::from_str(&s)
        {
            out.push(t);
        }
    }
    Ok(out)
}

/// Queues a put of `value` as a JSON string (not awaited: the transaction's commit is).
pub fn put_json<T: serde::Serialize>(
    store: &IdbObjectStore,
    key: &JsValue,
    value: &T,
) -> Result<(), JsValue> {
    let s = serde_json::to_string(value).map_err(|e| JsValue::from_str(&e.to_string()))?;
    store.put_with_key(&JsValue::from_str(&s), key)?;
    Ok(())
}
