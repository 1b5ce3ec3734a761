//! Read-only views of the local state for the work screens (queue, filament, events,
//! dashboard, costing): the rows of each kind, read field by field (a field a newer app
//! wrote, or one missing, never breaks a screen), and the inputs core's planning, costing
//! and report rules take.

use std::collections::BTreeMap;

use printstall_core::domain::costing::{FilamentRate, UnitCost, unit_cost};
use printstall_core::domain::event_report::{EventReport, event_report, sale_in_event};
use printstall_core::domain::filament::Material;
use printstall_core::domain::planning::{FilamentInfo, JobLoad, PastEvent, PlanNeed, SpoolStock};
use printstall_core::domain::print_job::JobStatus;
use printstall_core::domain::product::StockLevel;
use printstall_core::domain::sale::NewSale;
use printstall_core::domain::spool::UsageReason;
use printstall_core::domain::variant::FilamentNeed;
use printstall_core::domain::{
    Centigrams, FilamentId, MarketEventId, PrintJobId, ProductId, SpoolId, VariantId,
};
use printstall_core::money::Minor;
use printstall_core::sync::State;
use printstall_core::sync::cells::EntityCell;
use printstall_core::sync::op::EntityKind;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::Date;
use uuid::Uuid;

fn get<T: DeserializeOwned>(c: &EntityCell, field: &str) -> Option<T> {
    c.value(field)
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn text(c: &EntityCell, field: &str) -> String {
    get::<String>(c, field).unwrap_or_default()
}

fn live(state: &State, kind: EntityKind) -> impl Iterator<Item = (&Uuid, &EntityCell)> {
    state
        .entities
        .get(&kind)
        .into_iter()
        .flatten()
        .filter(|(_, c)| !c.is_deleted())
}

/// A date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilamentRow {
    pub id: FilamentId,
    pub brand: String,
    pub material: Material,
    pub colour_name: String,
    pub hex: String,
    pub net_weight: Centigrams,
    pub empty_spool: Option<Centigrams>,
    pub price_per_spool: Option<Minor>,
}

impl FilamentRow {
    pub fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.brand,
            printstall_core::domain::planning::material_label(self.material),
            self.colour_name
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpoolRow {
    pub id: SpoolId,
    pub filament_id: FilamentId,
    pub initial_net: Centigrams,
    pub left: Centigrams,
    /// Uses beyond 0 since the last weighing: weigh it.
    pub overshoot: Centigrams,
    pub empty_spool: Option<Centigrams>,
    pub price_paid: Option<Minor>,
    pub location: Option<String>,
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VariantRow {
    pub id: VariantId,
    pub model_name: String,
    pub name: String,
    pub parts_per_plate: u32,
    pub print_time_s: Option<u32>,
    pub needs: Vec<FilamentNeed>,
}

impl VariantRow {
    pub fn label(&self) -> String {
        if self.model_name.is_empty() {
            self.name.clone()
        } else {
            format!("{} · {}", self.model_name, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductInfo {
    pub id: ProductId,
    pub name: String,
    pub sku: String,
    pub price: Minor,
    pub unit_cost: Option<Minor>,
    pub variant_id: Option<VariantId>,
    pub level: StockLevel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: PrintJobId,
    pub variant_id: Option<VariantId>,
    pub units: u32,
    pub plates: u32,
    pub priority: i32,
    pub position: i64,
    pub event_id: Option<MarketEventId>,
    pub status: JobStatus,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: MarketEventId,
    pub name: String,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub location: Option<String>,
    pub fee: Option<Minor>,
    pub tags: Vec<String>,
    /// Target per product (lines above 0).
    pub plan: Vec<(ProductId, u32)>,
}

/// One entry of a spool's ledger since its last weighing (or since it was added).
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub at_ms: u64,
    /// `Some(left)` for a weighing; `None` for a use.
    pub weighed: Option<Centigrams>,
    /// Grams taken off (negative: given back).
    pub used: Centigrams,
    pub reason: Option<UsageReason>,
}

/// Everything the work screens read, built once per state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub filaments: Vec<FilamentRow>,
    pub spools: Vec<SpoolRow>,
    pub variants: Vec<VariantRow>,
    pub products: Vec<ProductInfo>,
    /// In queue order: priority (higher first), then position.
    pub jobs: Vec<JobRow>,
    /// By first day.
    pub events: Vec<EventRow>,
    pub printers: u32,
    /// The shop's machine cost per printer hour (when its settings have one).
    pub machine_per_hour: Option<Minor>,
    /// Sales not voided.
    pub sales: Vec<NewSale>,
}

impl Catalog {
    pub fn from_state(state: &State) -> Catalog {
        let mut filaments: Vec<FilamentRow> = live(state, EntityKind::Filament)
            .map(|(id, c)| {
                let colour = c.value("colour");
                let cs = |k: &str| {
                    colour
                        .and_then(|v| v.get(k))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                FilamentRow {
                    id: FilamentId(*id),
                    brand: text(c, "brand"),
                    material: get(c, "material").unwrap_or(Material::Other),
                    colour_name: cs("name"),
                    hex: Some(cs("hex"))
                        .filter(|h| !h.is_empty())
                        .unwrap_or_else(|| "#888888".into()),
                    net_weight: get(c, "net_weight_cg").unwrap_or(Centigrams::KG),
                    empty_spool: get(c, "empty_spool_cg"),
                    price_per_spool: get(c, "price_per_spool"),
                }
            })
            .collect();
        filaments.sort_by_key(|f| f.label().to_lowercase());

        let mut spools: Vec<SpoolRow> = live(state, EntityKind::Spool)
            .filter_map(|(id, c)| {
                let sid = SpoolId(*id);
                let level = state.spool_level(sid);
                Some(SpoolRow {
                    id: sid,
                    filament_id: get(c, "filament_id")?,
                    initial_net: get(c, "initial_net_cg").unwrap_or(Centigrams::ZERO),
                    left: level.left_cg,
                    overshoot: level.overshoot_cg,
                    empty_spool: get(c, "empty_spool_cg"),
                    price_paid: get(c, "price_paid"),
                    location: get(c, "location"),
                    archived: get(c, "archived").unwrap_or(false),
                })
            })
            .filter(|s| !s.archived)
            .collect();
        spools.sort_by_key(|s| (s.filament_id, s.left));

        let models: BTreeMap<Uuid, String> = live(state, EntityKind::Model)
            .map(|(id, c)| (*id, text(c, "name")))
            .collect();
        let mut variants: Vec<VariantRow> = live(state, EntityKind::Variant)
            .map(|(id, c)| VariantRow {
                id: VariantId(*id),
                model_name: get::<Uuid>(c, "model_id")
                    .and_then(|m| models.get(&m).cloned())
                    .unwrap_or_default(),
                name: text(c, "name"),
                parts_per_plate: get(c, "parts_per_plate").unwrap_or(1),
                print_time_s: get(c, "print_time_s"),
                needs: get(c, "filament_needs").unwrap_or_default(),
            })
            .collect();
        variants.sort_by_key(|v| v.label().to_lowercase());

        let mut products: Vec<ProductInfo> = live(state, EntityKind::Product)
            .filter(|(_, c)| get::<bool>(c, "active") != Some(false))
            .map(|(id, c)| ProductInfo {
                id: ProductId(*id),
                name: get(c, "name").unwrap_or_else(|| "(no name)".into()),
                sku: text(c, "sku"),
                price: get(c, "price").unwrap_or(Minor::ZERO),
                unit_cost: get(c, "unit_cost"),
                variant_id: get(c, "variant_id"),
                level: state.stock_level(ProductId(*id)),
            })
            .collect();
        products.sort_by_key(|p| p.name.to_lowercase());

        let mut jobs: Vec<JobRow> = live(state, EntityKind::PrintJob)
            .map(|(id, c)| {
                let jid = PrintJobId(*id);
                JobRow {
                    id: jid,
                    variant_id: get(c, "variant_id"),
                    units: get(c, "units").unwrap_or(1),
                    plates: get(c, "plates").unwrap_or(1),
                    priority: get(c, "priority").unwrap_or(0),
                    position: get(c, "position").unwrap_or(0),
                    event_id: get(c, "event_id"),
                    status: state.job_status(jid),
                    notes: get(c, "notes"),
                }
            })
            .collect();
        jobs.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.position.cmp(&b.position))
                .then(a.id.cmp(&b.id))
        });

        let events = event_rows(state);

        let machine_per_hour = live(state, EntityKind::Shop)
            .find_map(|(_, c)| get::<Minor>(c, "machine_cost_per_hour"));

        let sales = live_sales(state);

        Catalog {
            filaments,
            spools,
            variants,
            products,
            jobs,
            events,
            printers: u32::try_from(live(state, EntityKind::Printer).count()).unwrap_or(1),
            machine_per_hour,
            sales,
        }
    }

    pub fn filament(&self, id: FilamentId) -> Option<&FilamentRow> {
        self.filaments.iter().find(|f| f.id == id)
    }

    pub fn variant(&self, id: VariantId) -> Option<&VariantRow> {
        self.variants.iter().find(|v| v.id == id)
    }

    pub fn product(&self, id: ProductId) -> Option<&ProductInfo> {
        self.products.iter().find(|p| p.id == id)
    }

    pub fn event(&self, id: MarketEventId) -> Option<&EventRow> {
        self.events.iter().find(|e| e.id == id)
    }

    pub fn product_name(&self, id: ProductId) -> String {
        self.product(id)
            .map_or_else(|| "(removed product)".into(), |p| p.name.clone())
    }

    /// The product a variant makes (the first one that names it).
    pub fn product_of_variant(&self, id: VariantId) -> Option<&ProductInfo> {
        self.products.iter().find(|p| p.variant_id == Some(id))
    }

    pub fn job_label(&self, j: &JobRow) -> String {
        let what = j
            .variant_id
            .and_then(|v| {
                self.product_of_variant(v)
                    .map(|p| p.name.clone())
                    .or_else(|| self.variant(v).map(VariantRow::label))
            })
            .unwrap_or_else(|| "(unknown variant)".into());
        format!("{what} × {}", j.units)
    }

    /// The price per weight of a filament: its spools' prices, else its list price.
    pub fn filament_rate(&self, id: FilamentId) -> Option<FilamentRate> {
        let f = self.filament(id)?;
        let spools: Vec<(Option<Minor>, Centigrams)> = self
            .spools
            .iter()
            .filter(|s| s.filament_id == id)
            .map(|s| (s.price_paid, s.initial_net))
            .collect();
        FilamentRate::for_filament(&spools, f.price_per_spool, f.net_weight)
    }

    pub fn variant_cost(&self, v: &VariantRow) -> UnitCost {
        unit_cost(
            &v.needs,
            |f| self.filament_rate(f),
            v.print_time_s,
            v.parts_per_plate,
            self.machine_per_hour,
        )
    }

    /// A product's unit cost: from its variant's sliced grams when every filament has a
    /// price, else the cost entered on the product.
    pub fn product_cost(&self, id: ProductId) -> Option<Minor> {
        let p = self.product(id)?;
        p.variant_id
            .and_then(|v| self.variant(v))
            .map(|v| self.variant_cost(v))
            .filter(|c| c.complete() && !c.grams.0.eq(&0))
            .map(|c| c.total)
            .or(p.unit_cost)
    }

    pub fn job_loads(&self) -> Vec<JobLoad> {
        self.jobs
            .iter()
            .map(|j| {
                let v = j.variant_id.and_then(|v| self.variant(v));
                JobLoad {
                    job_id: j.id,
                    status: j.status,
                    units: j.units,
                    plates: j.plates,
                    plate_time_s: v.and_then(|v| v.print_time_s),
                    needs: v.map(|v| v.needs.clone()).unwrap_or_default(),
                }
            })
            .collect()
    }

    pub fn filament_infos(&self) -> Vec<FilamentInfo> {
        self.filaments
            .iter()
            .map(|f| FilamentInfo {
                id: f.id,
                material: f.material,
                colour_name: f.colour_name.clone(),
                hex: f.hex.clone(),
            })
            .collect()
    }

    pub fn spool_stocks(&self) -> Vec<SpoolStock> {
        self.spools
            .iter()
            .map(|s| SpoolStock {
                filament_id: s.filament_id,
                left: s.left,
            })
            .collect()
    }

    /// The plan of an event as planning needs it.
    pub fn plan_needs(&self, e: &EventRow) -> Vec<PlanNeed> {
        e.plan
            .iter()
            .map(|&(product_id, target)| {
                let p = self.product(product_id);
                let variant = p.and_then(|p| p.variant_id);
                let in_queue = self
                    .jobs
                    .iter()
                    .filter(|j| {
                        !j.status.is_final() && j.variant_id.is_some() && j.variant_id == variant
                    })
                    .fold(0u32, |a, j| a.saturating_add(j.units));
                PlanNeed {
                    product_id,
                    target,
                    on_hand: p.map_or(0, |p| p.level.on_hand),
                    in_queue,
                    variant: variant
                        .and_then(|v| self.variant(v))
                        .map(|v| (v.id, v.parts_per_plate)),
                }
            })
            .collect()
    }

    /// The sales of an event (taken for it, or for no event on its days).
    pub fn event_sales(&self, e: &EventRow, utc_offset_s: i32) -> Vec<NewSale> {
        sales_of_event(&self.sales, e, utc_offset_s)
    }

    pub fn report(&self, e: &EventRow, utc_offset_s: i32) -> EventReport {
        event_report(
            &self.event_sales(e, utc_offset_s),
            &e.plan,
            |p| self.product_cost(p),
            e.fee,
        )
    }

    /// Earlier events and what sold there (for suggestions).
    pub fn past_events(&self, utc_offset_s: i32) -> Vec<PastEvent> {
        self.events
            .iter()
            .filter_map(|e| {
                let starts_on = e.starts_on?;
                let mut sold: BTreeMap<ProductId, u32> = BTreeMap::new();
                for s in self.event_sales(e, utc_offset_s) {
                    for l in &s.lines {
                        *sold.entry(l.product_id).or_default() += l.quantity;
                    }
                }
                Some(PastEvent {
                    event_id: e.id,
                    starts_on,
                    tags: e.tags.clone(),
                    sold: sold.into_iter().collect(),
                })
            })
            .collect()
    }
}

/// The shop's market events, by first day.
pub fn event_rows(state: &State) -> Vec<EventRow> {
    let mut events: Vec<EventRow> = live(state, EntityKind::MarketEvent)
        .map(|(id, c)| {
            let eid = MarketEventId(*id);
            EventRow {
                id: eid,
                name: get(c, "name").unwrap_or_else(|| "(no name)".into()),
                starts_on: get::<String>(c, "starts_on").and_then(|d| parse_date(&d)),
                ends_on: get::<String>(c, "ends_on").and_then(|d| parse_date(&d)),
                location: get(c, "location"),
                fee: get(c, "booth_fee"),
                tags: get(c, "theme_tags").unwrap_or_default(),
                plan: state
                    .plan(eid)
                    .into_iter()
                    .filter(|l| l.target > 0)
                    .map(|l| (l.product_id, l.target))
                    .collect(),
            }
        })
        .collect();
    events.sort_by_key(|e| (e.starts_on, e.name.clone()));
    events
}

/// The sales (not voided) in `state`.
pub fn live_sales(state: &State) -> Vec<NewSale> {
    state
        .sales
        .keys()
        .filter_map(|id| state.sale(*id))
        .filter(|s| s.void_reason.is_none())
        .map(|s| s.sale)
        .collect()
}

/// Of `sales`, those of the event `e`: taken for it, or taken for no event on its days.
pub fn sales_of_event(sales: &[NewSale], e: &EventRow, utc_offset_s: i32) -> Vec<NewSale> {
    let (Some(start), Some(end)) = (e.starts_on, e.ends_on) else {
        return sales
            .iter()
            .filter(|s| s.event_id == Some(e.id))
            .cloned()
            .collect();
    };
    sales
        .iter()
        .filter(|s| sale_in_event(s, e.id, start, end, utc_offset_s))
        .cloned()
        .collect()
}

/// A spool's ledger since its last weighing, newest first.
pub fn spool_ledger(state: &State, id: SpoolId) -> Vec<LedgerEntry> {
    let Some(cell) = state.spools.get(&id) else {
        return Vec::new();
    };
    let mut out: Vec<LedgerEntry> = cell
        .deltas
        .iter()
        .map(|(k, d)| LedgerEntry {
            at_ms: k.stamp.hlc.wall_ms,
            weighed: None,
            used: Centigrams(-d.amount),
            reason: Some(d.reason),
        })
        .collect();
    if let Some(c) = cell.count {
        out.push(LedgerEntry {
            at_ms: c.stamp.hlc.wall_ms,
            weighed: Some(Centigrams(c.value)),
            used: Centigrams::ZERO,
            reason: None,
        });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
    out
}

/// The browser's offset from UTC now, in seconds (east positive).
pub fn utc_offset_s() -> i32 {
    let d = js_sys::Date::new_0();
    (-d.get_timezone_offset() * 60.0) as i32
}

/// Seconds since the epoch, by this device's clock.
pub fn now_unix_s() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Today in the browser's time zone.
pub fn today() -> Date {
    let d = js_sys::Date::new_0();
    Date::from_calendar_date(
        d.get_full_year() as i32,
        time::Month::try_from(d.get_month() as u8 + 1).unwrap_or(time::Month::January),
        d.get_date() as u8,
    )
    .unwrap_or(Date::MIN)
}
