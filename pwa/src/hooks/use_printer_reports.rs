//! What each running job's printer has reported through the Spoolman-compatible API since
//! the job started (`GET /api/v1/printer-history/jobs`). Printer reports are spool ledger
//! rows on the server, which devices do not sync, so this is read when online and again
//! every half minute while the page is open; offline it is empty and the queue says so.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use gloo::timers::callback::Interval;
use printstall_core::domain::{Centigrams, PrintJobId, SpoolId};
use serde_json::Value;
use uuid::Uuid;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::hooks::use_online::use_online;
use crate::sync::http::{Net, call};

/// How often the reports are read again while the queue is open.
const REFRESH_MS: u32 = 30_000;

/// What one job's printer reported.
#[derive(Debug, Clone, PartialEq)]
pub struct JobReports {
    pub printer_name: String,
    /// Grams per spool, in the order the spools were first reported.
    pub spools: Vec<(SpoolId, Centigrams)>,
}

impl JobReports {
    /// All the grams reported.
    pub fn total(&self) -> Centigrams {
        Centigrams(self.spools.iter().map(|(_, g)| g.0).sum())
    }
}

fn parse(body: &Value) -> BTreeMap<PrintJobId, JobReports> {
    let uuid = |v: &Value| v.as_str().and_then(|s| Uuid::parse_str(s).ok());
    body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|j| {
            let job = uuid(&j["job_id"])?;
            let spools = j["spools"]
                .as_array()?
                .iter()
                .filter_map(|s| {
                    Some((
                        SpoolId(uuid(&s["spool_id"])?),
                        Centigrams(s["used_cg"].as_i64()?),
                    ))
                })
                .collect();
            Some((
                PrintJobId(job),
                JobReports {
                    printer_name: j["printer_name"].as_str().unwrap_or_default().to_owned(),
                    spools,
                },
            ))
        })
        .collect()
}

/// The reports by job (empty offline or before the first answer), and whether they are
/// current (read online).
#[hook]
pub fn use_printer_reports(token: Option<String>) -> (Rc<BTreeMap<PrintJobId, JobReports>>, bool) {
    let online = use_online();
    let reports = use_state(|| Rc::new(BTreeMap::new()));
    let tick = use_state(|| 0u32);
    {
        let set_tick = tick.setter();
        use_effect_with((), move |_| {
            let n = Cell::new(0u32);
            let timer = Interval::new(REFRESH_MS, move || {
                n.set(n.get().wrapping_add(1));
                set_tick.set(n.get());
            });
            move || drop(timer)
        });
    }
    {
        let reports = reports.clone();
        use_effect_with((token, online, *tick), move |(token, online, _)| {
            if let (Some(token), true) = (token.clone(), *online) {
                spawn_local(async move {
                    if let Net::Answer(200, body) =
                        call("GET", "/api/v1/printer-history/jobs", Some(&token), None).await
                    {
                        reports.set(Rc::new(parse(&body)));
                    }
                });
            }
        });
    }
    if online {
        ((*reports).clone(), true)
    } else {
        (Rc::new(BTreeMap::new()), false)
    }
}
