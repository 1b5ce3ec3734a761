//! What printers report through the Spoolman-compatible API, and which print job it
//! belongs to.
//!
//! A printer host (Moonraker, OctoPrint-Spoolman) reports the filament it pulls off the
//! active spool while it prints. Those reports already take the grams off the spool. When a
//! job on that printer is finished, the grams the printer reported while the job ran can be
//! recorded as the job's use in place of the sliced file's estimate, without taking them
//! again (the `reported` lines of `job.finish.v1` and `job.fail.v1`).

use time::OffsetDateTime;

use super::{Centigrams, PrinterId, SpoolId, print_job::PrintJob};

/// One use a printer reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterReport {
    /// The printer the report came from (none for a token not tied to a printer).
    pub printer_id: Option<PrinterId>,
    /// The spool it used.
    pub spool_id: SpoolId,
    /// Grams taken off (a weighing or a give-back is not a use: see [`Self::is_use`]).
    pub used_cg: Centigrams,
    /// Whether this is a use while printing (not a weighing or a correction).
    pub is_use: bool,
    /// When it arrived.
    pub at: OffsetDateTime,
}

/// What the job's printer reported while the job ran: the printer's uses from the job's
/// start to its end (to now, for a job still running), summed per spool, in the order the
/// spools were first reported. Empty when the job has no printer or never started.
pub fn reported_for_job(job: &PrintJob, reports: &[PrinterReport]) -> Vec<(SpoolId, Centigrams)> {
    let (Some(printer), Some(started)) = (job.printer_id, job.started_at) else {
        return Vec::new();
    };
    let mut out: Vec<(SpoolId, Centigrams)> = Vec::new();
    let mut ordered: Vec<&PrinterReport> = reports
        .iter()
        .filter(|r| r.is_use && r.used_cg.0 > 0 && r.printer_id == Some(printer))
        .filter(|r| r.at >= started && job.finished_at.is_none_or(|end| r.at <= end))
        .collect();
    ordered.sort_by_key(|r| r.at);
    for r in ordered {
        match out.iter_mut().find(|(s, _)| *s == r.spool_id) {
            Some((_, g)) => g.0 = g.0.saturating_add(r.used_cg.0),
            None => out.push((r.spool_id, r.used_cg)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::domain::print_job::JobStatus;
    use crate::domain::{PrintJobId, VariantId};

    fn job(printer: Option<PrinterId>, started: Option<OffsetDateTime>) -> PrintJob {
        PrintJob {
            id: PrintJobId(Uuid::from_u128(1)),
            variant_id: VariantId(Uuid::from_u128(2)),
            units: 1,
            plates: 1,
            printer_id: printer,
            status: JobStatus::Printing,
            priority: 0,
            position: 0,
            event_id: None,
            started_at: started,
            finished_at: None,
            failure_reason: None,
            notes: None,
        }
    }

    fn report(printer: PrinterId, spool: u128, cg: i64, at: OffsetDateTime) -> PrinterReport {
        PrinterReport {
            printer_id: Some(printer),
            spool_id: SpoolId(Uuid::from_u128(spool)),
            used_cg: Centigrams(cg),
            is_use: true,
            at,
        }
    }

    #[test]
    fn sums_the_jobs_printer_between_start_and_end_per_spool() {
        let p = PrinterId(Uuid::from_u128(10));
        let other = PrinterId(Uuid::from_u128(11));
        let start = datetime!(2026-12-05 09:00 UTC);
        let mut j = job(Some(p), Some(start));
        let reports = [
            report(p, 7, 500, start - Duration::minutes(5)), // before the start
            report(p, 7, 1_000, start + Duration::minutes(10)),
            report(p, 8, 250, start + Duration::minutes(20)),
            report(p, 7, 1_500, start + Duration::minutes(30)),
            report(other, 7, 9_900, start + Duration::minutes(30)), // another printer
            PrinterReport {
                is_use: false, // a weighing
                ..report(p, 7, 4_000, start + Duration::minutes(40))
            },
            report(p, 8, -100, start + Duration::minutes(41)), // given back
            report(p, 9, 300, start + Duration::hours(3)),
        ];
        let spool = |n| SpoolId(Uuid::from_u128(n));
        assert_eq!(
            reported_for_job(&j, &reports),
            vec![
                (spool(7), Centigrams(2_500)),
                (spool(8), Centigrams(250)),
                (spool(9), Centigrams(300))
            ]
        );
        j.finished_at = Some(start + Duration::hours(2));
        assert_eq!(
            reported_for_job(&j, &reports),
            vec![(spool(7), Centigrams(2_500)), (spool(8), Centigrams(250))]
        );
    }

    #[test]
    fn a_job_without_printer_or_start_has_no_reports() {
        let p = PrinterId(Uuid::from_u128(10));
        let at = datetime!(2026-12-05 09:00 UTC);
        let reports = [report(p, 7, 1_000, at)];
        assert!(reported_for_job(&job(None, Some(at)), &reports).is_empty());
        assert!(reported_for_job(&job(Some(p), None), &reports).is_empty());
    }
}
