//! The app-wide local state: the store, the sync driver, and what the screens show
//! (the pulled server state with the pending ops replayed on top by core's rules).

use std::rc::Rc;

use printstall_core::domain::ProductId;
use printstall_core::domain::product::StockLevel;
use printstall_core::money::{Currency, Minor};
use printstall_core::sync::{EntityKind, EntityRef, OpBody, SaleView, State, apply};
use serde_json::Value;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::store::{AckedOp, Snapshot, Store};
use crate::sync::{Driver, SyncError, SyncStatus};

/// What the screens read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// The store has been opened and read once.
    pub ready: bool,
    pub snap: Snapshot,
    /// Server state with acknowledged and pending ops replayed.
    pub state: State,
}

/// A product as the Sell and Stock screens show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRow {
    pub id: ProductId,
    pub name: String,
    pub sku: String,
    pub price: Minor,
    pub level: StockLevel,
}

impl Model {
    pub fn from_snapshot(snap: Snapshot) -> Model {
        let mut state = State::new();
        for c in &snap.cells {
            let kind = serde_json::from_value::<EntityKind>(Value::String(c.kind.clone()));
            if let (Ok(kind), Ok(doc)) = (kind, serde_json::from_value(c.cell.clone())) {
                state.put_cell(EntityRef { kind, id: c.id }, doc);
            }
        }
        // Merging is idempotent per op, so ops already in the pulled cells change nothing;
        // answered ops are replayed until a pull brings their effect.
        for a in snap.acked.iter().filter(|a| !a.rejected()) {
            let _ = apply(&mut state, &a.op);
        }
        for op in &snap.outbox {
            let _ = apply(&mut state, op);
        }
        let mut snap = snap;
        if let Some(shop) = snap.shop.as_mut() {
            overlay_shop(shop, &state);
        }
        Model {
            ready: true,
            snap,
            state,
        }
    }

    pub fn currency(&self) -> Currency {
        self.snap
            .shop
            .as_ref()
            .and_then(|s| Currency::parse(&s.currency).ok())
            .unwrap_or(Currency::EUR)
    }

    pub fn money(&self, m: Minor) -> String {
        let c = self.currency();
        let amount = m.format_in(c);
        match c.code() {
            "EUR" => format!("€{amount}"),
            "USD" => format!("${amount}"),
            "GBP" => format!("£{amount}"),
            code => format!("{amount} {code}"),
        }
    }

    pub fn rejected(&self) -> Vec<&AckedOp> {
        self.snap.acked.iter().filter(|a| a.rejected()).collect()
    }

    /// Products not deleted, by name.
    pub fn products(&self) -> Vec<ProductRow> {
        let mut out: Vec<ProductRow> = self
            .state
            .entities
            .get(&EntityKind::Product)
            .into_iter()
            .flatten()
            .filter(|(_, c)| !c.is_deleted())
            .filter(|(_, c)| c.value("active").and_then(Value::as_bool) != Some(false))
            .map(|(id, c)| {
                let pid = ProductId(*id);
                ProductRow {
                    id: pid,
                    name: c
                        .value("name")
                        .and_then(Value::as_str)
                        .unwrap_or("(no name)")
                        .to_owned(),
                    sku: c
                        .value("sku")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    price: Minor(c.value("price").and_then(Value::as_i64).unwrap_or(0)),
                    level: self.state.stock_level(pid),
                }
            })
            .collect();
        out.sort_by_key(|a| a.name.to_lowercase());
        out
    }

    /// Sales recorded today (by this device's time zone) that are not voided.
    pub fn sales_today(&self) -> Vec<SaleView> {
        let today = local_day(js_sys::Date::now());
        self.state
            .sales
            .keys()
            .filter_map(|id| self.state.sale(*id))
            .filter(|s| s.void_reason.is_none())
            .filter(|s| {
                let ms = (s.sale.taken_at.unix_timestamp_nanos() / 1_000_000) as f64;
                local_day(ms) == today
            })
            .collect()
    }
}

/// The shop's settings as synced (changed on the Settings screen with `entity.set.v1`),
/// over what `GET /shop` answered when the device signed in.
fn overlay_shop(shop: &mut crate::store::ShopInfo, state: &State) {
    let Some(c) = state.entity_cell(EntityKind::Shop, shop.id) else {
        return;
    };
    if let Some(v) = c.value("name").and_then(Value::as_str) {
        shop.name = v.to_owned();
    }
    if let Some(v) = c.value("currency").and_then(Value::as_str) {
        shop.currency = v.to_owned();
    }
    if let Some(v) = c.value("time_zone").and_then(Value::as_str) {
        shop.time_zone = v.to_owned();
    }
    if let Some(v) = c
        .value("tax_rate_bp")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
    {
        shop.tax_rate_bp = v;
    }
    if let Some(v) = c.value("prices_include_tax").and_then(Value::as_bool) {
        shop.prices_include_tax = v;
    }
}

/// Days since the epoch in the browser's time zone.
pub fn local_day(ms: f64) -> i64 {
    let offset_min = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms)).get_timezone_offset();
    ((ms - offset_min * 60_000.0) / 86_400_000.0).floor() as i64
}

/// The context every screen reads.
#[derive(Clone)]
pub struct Local {
    pub model: Rc<Model>,
    pub status: SyncStatus,
    pub store: Option<Store>,
    pub driver: Option<Rc<Driver>>,
    pub error: Option<String>,
    /// Re-reads the store into the model.
    pub reload: Callback<()>,
}

impl PartialEq for Local {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.model, &other.model)
            && self.status == other.status
            && self.store == other.store
            && self.error == other.error
            && self.driver.is_some() == other.driver.is_some()
    }
}

impl Local {
    /// Records one user action locally (one transaction), shows it, then syncs when it can.
    pub fn record(&self, bodies: Vec<OpBody>, done: Callback<Result<(), String>>) {
        let Some(store) = self.store.clone() else {
            done.emit(Err("the local store is not open yet".into()));
            return;
        };
        let reload = self.reload.clone();
        let driver = self.driver.clone();
        spawn_local(async move {
            let r = store.record(bodies).await.map(|_| ()).map_err(|e| e.0);
            reload.emit(());
            if r.is_ok()
                && let Some(d) = driver
            {
                d.kick();
            }
            done.emit(r);
        });
    }

    pub fn sync_now(&self) {
        if let Some(d) = &self.driver {
            d.kick();
        }
    }

    /// Signed in (possibly with a session the server ended: then [`Local::needs_sign_in`]).
    /// The signed-in session's access token, for calls that need the network.
    pub fn access_token(&self) -> Option<String> {
        self.model
            .snap
            .session
            .as_ref()
            .filter(|s| !s.signed_out)
            .map(|s| s.access_token.clone())
    }

    pub fn has_session(&self) -> bool {
        self.model.snap.session.is_some()
    }

    pub fn needs_sign_in(&self) -> bool {
        self.model
            .snap
            .session
            .as_ref()
            .is_none_or(|s| s.signed_out)
            || self.status.error == Some(SyncError::SignIn)
    }
}

#[derive(Properties, PartialEq)]
pub struct LocalProviderProps {
    pub children: Html,
}

/// Opens the store, starts sync, and provides [`Local`] to the screens.
#[function_component(LocalProvider)]
pub fn local_provider(props: &LocalProviderProps) -> Html {
    let model = use_state(|| Rc::new(Model::default()));
    let status = use_state(SyncStatus::default);
    let store = use_state(|| None::<Store>);
    let driver = use_state(|| None::<Rc<Driver>>);
    let error = use_state(|| None::<String>);

    let reload = {
        let store = store.clone();
        let model = model.setter();
        let error = error.setter();
        Callback::from(move |()| {
            let Some(s) = (*store).clone() else { return };
            let model = model.clone();
            let error = error.clone();
            spawn_local(async move {
                match s.load().await {
                    Ok(snap) => model.set(Rc::new(Model::from_snapshot(snap))),
                    Err(e) => error.set(Some(e.0)),
                }
            });
        })
    };

    {
        let model = model.setter();
        let status = status.setter();
        let store_h = store.setter();
        let driver_h = driver.setter();
        let error = error.setter();
        use_effect_with((), move |_| {
            spawn_local(async move {
                let s = match Store::open().await {
                    Ok(s) => s,
                    Err(e) => {
                        error.set(Some(e.0));
                        return;
                    }
                };
                match s.load().await {
                    Ok(snap) => model.set(Rc::new(Model::from_snapshot(snap))),
                    Err(e) => error.set(Some(e.0)),
                }
                let reload_store = s.clone();
                let on_status = Callback::from(move |st: SyncStatus| {
                    let running = st.running;
                    status.set(st);
                    if !running {
                        let s = reload_store.clone();
                        let model = model.clone();
                        spawn_local(async move {
                            if let Ok(snap) = s.load().await {
                                model.set(Rc::new(Model::from_snapshot(snap)));
                            }
                        });
                    }
                });
                let d = Driver::new(s.clone(), on_status);
                store_h.set(Some(s));
                d.kick();
                driver_h.set(Some(d));
            });
        });
    }

    let ctx = Local {
        model: (*model).clone(),
        status: (*status).clone(),
        store: (*store).clone(),
        driver: (*driver).clone(),
        error: (*error).clone(),
        reload,
    };
    html! {
        <ContextProvider<Local> context={ctx}>
            { props.children.clone() }
        </ContextProvider<Local>>
    }
}

#[hook]
pub fn use_local() -> Local {
    use_context::<Local>().unwrap_or_else(|| Local {
        model: Rc::new(Model::default()),
        status: SyncStatus::default(),
        store: None,
        driver: None,
        error: Some("no local store".into()),
        reload: Callback::noop(),
    })
}
