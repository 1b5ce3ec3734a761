//! What printers reported while a job ran: the spool ledger rows of the job's printer
//! (made by its Spoolman API token's device) from the job's start, summed per spool by
//! core's `printer_report::reported_for_job`. The queue shows it beside each running job,
//! and finishing a job can take those grams as the job's use (`grams_from: "printer"`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use printstall_core::domain::member::Action;
use printstall_core::domain::print_job::PrintJob;
use printstall_core::domain::printer_report::{PrinterReport, reported_for_job};
use printstall_core::domain::{Centigrams, PrinterId, SpoolId};
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{ApiJson, ApiResult, Page, Tx, db, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;

pub fn routes(r: Routes) -> Routes {
    r.route("/printer-history/jobs", &[Method::GET], get(running_jobs))
}

/// Grams off one spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpoolLine {
    pub spool_id: SpoolId,
    pub used_cg: Centigrams,
}

/// What a job's printer reported so far.
#[derive(Debug, Serialize)]
pub struct JobReports {
    pub job_id: Uuid,
    pub printer_id: Uuid,
    /// The printer's name on its latest report.
    pub printer_name: String,
    pub spools: Vec<SpoolLine>,
    #[serde(with = "time::serde::rfc3339")]
    pub last_at: OffsetDateTime,
}

/// The reports of `printers` since `since`, with each report's printer name.
async fn reports_since(
    tx: &mut Tx,
    printers: &[Uuid],
    since: OffsetDateTime,
) -> ApiResult<Vec<(PrinterReport, String)>> {
    let rows = sqlx::query(
        r#"select printer_id, spool_id, used_cg, reason, at, printer_name
           from spool_usage
           where printer_id = any($1) and at >= $2
           order by at, id"#,
    )
    .bind(printers)
    .bind(since)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                PrinterReport {
                    printer_id: r.get::<Option<Uuid>, _>("printer_id").map(PrinterId),
                    spool_id: SpoolId(r.get("spool_id")),
                    used_cg: Centigrams(r.get("used_cg")),
                    is_use: r.get::<String, _>("reason") == "print",
                    at: r.get("at"),
                },
                r.get::<Option<String>, _>("printer_name")
                    .unwrap_or_default(),
            )
        })
        .collect())
}

fn lines(found: Vec<(SpoolId, Centigrams)>) -> Vec<SpoolLine> {
    found
        .into_iter()
        .map(|(spool_id, used_cg)| SpoolLine { spool_id, used_cg })
        .collect()
}

/// What the job's printer reported while the job ran (nothing for a job with no printer
/// or never started).
pub async fn reported_for(tx: &mut Tx, job: &PrintJob) -> ApiResult<Vec<SpoolLine>> {
    let (Some(printer), Some(started)) = (job.printer_id, job.started_at) else {
        return Ok(Vec::new());
    };
    let reports: Vec<PrinterReport> = reports_since(tx, &[printer.0], started)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    Ok(lines(reported_for_job(job, &reports)))
}

/// The lines a job's finish or fail recorded from its printer's reports.
pub async fn recorded_for(tx: &mut Tx, job_id: Uuid) -> ApiResult<Vec<SpoolLine>> {
    let rows = sqlx::query(
        r#"select spool_id, used_cg from print_job_printer_use where job_id = $1
           order by spool_id"#,
    )
    .bind(job_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| SpoolLine {
            spool_id: SpoolId(r.get("spool_id")),
            used_cg: Centigrams(r.get("used_cg")),
        })
        .collect())
}

/// `GET /printer-history/jobs`: `{items}`, for each job printing or paused on a printer, what
/// that printer reported since the job started (jobs whose printer reported nothing are left
/// out).
async fn running_jobs(
    State(state): State<ApiState>,
    auth: AuthUser,
) -> ApiResult<ApiJson<Page<JobReports>>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let jobs = super::print_jobs::running_on_printers(&mut tx).await?;
    let mut out = Vec::new();
    if let Some(since) = jobs.iter().filter_map(|j| j.started_at).min() {
        let printers: Vec<Uuid> = jobs
            .iter()
            .filter_map(|j| j.printer_id.map(|p| p.0))
            .collect();
        let reports = reports_since(&mut tx, &printers, since).await?;
        // In time order, so each printer keeps the name of its latest report.
        let names: BTreeMap<Uuid, &str> = reports
            .iter()
            .filter_map(|(r, name)| r.printer_id.map(|p| (p.0, name.as_str())))
            .collect();
        let only: Vec<PrinterReport> = reports.iter().map(|(r, _)| *r).collect();
        for job in &jobs {
            let found = reported_for_job(job, &only);
            let Some(printer) = job.printer_id else {
                continue;
            };
            if found.is_empty() {
                continue;
            }
            let last_at = only
                .iter()
                .filter(|r| r.printer_id == Some(printer))
                .map(|r| r.at)
                .max()
                .unwrap_or(since);
            out.push(JobReports {
                job_id: job.id.0,
                printer_id: printer.0,
                printer_name: names
                    .get(&printer.0)
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                spools: lines(found),
                last_at,
            });
        }
    }
    tx.commit().await.map_err(db)?;
    // One page, always (at most a job per printer), in the lists' shape.
    Ok(ApiJson(Page {
        items: out,
        next_cursor: None,
    }))
}
