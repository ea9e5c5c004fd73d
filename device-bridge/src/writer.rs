//! Group commit: reports queue up while the previous batch commits, and each batch becomes
//! one transaction. Every report in a batch is acknowledged only after that commit.

use crate::{
    message::{diagnostic, encode, response, Exchange},
    server::Shared,
};
use coap_lite::ResponseType;
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};
use store::reports::{Applied, IncomingReport};
use tokio::sync::mpsc;

/// A report waiting for its commit, and whom to answer.
#[derive(Debug)]
pub struct Job {
    /// The report.
    pub report: IncomingReport,
    /// The peer.
    pub peer: SocketAddr,
    /// The exchange to answer.
    pub ex: Exchange,
    /// When the datagram arrived.
    pub received: Instant,
}

/// Committed batches waiting to be published, per writer, before the writer waits.
const PUBLISH_BACKLOG: usize = 64;

/// A writer with nothing to commit for this long writes what the store held back.
const IDLE_FLUSH: Duration = Duration::from_millis(500);

/// Runs one writer until its queue closes.
pub async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<Job>) {
    let max = shared.config.max_batch;
    let mut jobs = Vec::with_capacity(max);
    // Publishing (live feed, holds) runs in its own task, in commit order, so the next batch
    // starts committing at once.
    let (publish, backlog) = mpsc::channel(PUBLISH_BACKLOG);
    tokio::spawn(publisher(shared.clone(), backlog));
    let spacing = shared.config.commit_spacing;
    let mut last_start: Option<Instant> = None;
    loop {
        let received = match tokio::time::timeout(IDLE_FLUSH, rx.recv_many(&mut jobs, max)).await {
            Ok(n) => n,
            Err(_idle) => {
                flush(&shared).await;
                continue;
            }
        };
        if received == 0 {
            flush(&shared).await;
            return;
        }
        // Under load, the reports of the rest of this spacing join the batch.
        if let Some(wait) = last_start.and_then(|t| spacing.checked_sub(t.elapsed())) {
            tokio::time::sleep(wait).await;
            let room = max.saturating_sub(jobs.len());
            if room > 0 && !rx.is_empty() {
                rx.recv_many(&mut jobs, room).await;
            }
        }
        last_start = Some(Instant::now());
        let reports: Vec<IncomingReport> = jobs.iter().map(|j| j.report.clone()).collect();
        metrics::histogram!("coap_commit_batch_size").record(reports.len() as f64);
        let started = Instant::now();
        let result = shared.service.apply_reports(&reports).await;
        let committed = Instant::now();
        metrics::histogram!("coap_commit_seconds")
            .record(committed.duration_since(started).as_secs_f64());
        match result {
            Ok(applied) => {
                // The answers go out from their own task, so the next batch starts committing
                // while this one's acknowledgements are encoded and sent.
                let batch = std::mem::replace(&mut jobs, Vec::with_capacity(max));
                tokio::spawn(acknowledge(
                    shared.clone(),
                    batch,
                    applied.clone(),
                    committed,
                ));
                if publish.send((reports, applied)).await.is_err() {
                    tracing::error!("publisher stopped; live updates are lost");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = jobs.len(), "commit failed; answering 5.03");
                for job in jobs.drain(..) {
                    metrics::counter!("coap_reports_rejected_total", "reason" => "storage")
                        .increment(1);
                    shared.forget(job.peer, job.ex.mid);
                    let p = diagnostic(
                        &job.ex,
                        shared.next_mid(),
                        ResponseType::ServiceUnavailable,
                        "storage unavailable, retry",
                    );
                    shared.send(&encode(&p), job.peer).await;
                }
            }
        }
    }
}

/// Writes the state the store held back (see [`store::seen`]).
async fn flush(shared: &Shared) {
    if let Err(e) = shared.service.flush_reports().await {
        tracing::warn!(error = %e, "writing held-back report state failed; the journal has it");
    }
}

/// Publishes committed batches in order until the writer goes away.
async fn publisher(
    shared: Arc<Shared>,
    mut backlog: mpsc::Receiver<(Vec<IncomingReport>, Vec<Applied>)>,
) {
    while let Some((reports, applied)) = backlog.recv().await {
        if let Err(e) = shared.service.publish_applied(&reports, &applied).await {
            tracing::warn!(error = %e, "publishing a committed batch failed");
        }
    }
}

/// Answers every report of a committed batch (2.04, or 4.04 for an unknown pile), all in a
/// few system calls, and keeps the answers for retransmissions.
async fn acknowledge(
    shared: Arc<Shared>,
    jobs: Vec<Job>,
    applied: Vec<Applied>,
    committed: Instant,
) {
    let mut out = Vec::with_capacity(jobs.len());
    for (job, a) in jobs.into_iter().zip(applied) {
        let (code, msg): (ResponseType, &str) = match a {
            Applied::Applied { .. } => (ResponseType::Changed, ""),
            Applied::Duplicate => (ResponseType::Changed, ""),
            Applied::OutOfOrder => (ResponseType::Changed, "ignored: seq not above the last one"),
            Applied::UnknownPile => (ResponseType::NotFound, "unknown pile"),
        };
        let outcome = match a {
            Applied::Applied { .. } => "applied",
            Applied::Duplicate => "duplicate",
            Applied::OutOfOrder => "out_of_order",
            Applied::UnknownPile => "unknown_pile",
        };
        metrics::counter!("coap_reports_accepted_total", "outcome" => outcome).increment(1);
        metrics::histogram!("coap_report_commit_seconds")
            .record(committed.duration_since(job.received).as_secs_f64());
        let packet = if msg.is_empty() {
            response(&job.ex, shared.next_mid(), code, None, Vec::new())
        } else {
            diagnostic(&job.ex, shared.next_mid(), code, msg)
        };
        let bytes = encode(&packet);
        shared.remember(job.peer, job.ex.mid, &bytes);
        out.push((bytes, job.peer));
    }
    shared.send_many(&out).await;
}
