//! The async runtime the server runs on, sized for the database beside it.

use store::Backend;

/// Worker threads for the server's tokio runtime.
///
/// `explicit` wins. Otherwise, on SQLite the database's writes run on a thread of SQLite's
/// own beside the runtime, so the runtime leaves it a core: `cores - 1`, at least one. With
/// as many workers as cores, the workers (which wake each other for every datagram they
/// steal) preempted that thread for tens of milliseconds at a time, and with
/// acknowledge-after-commit every report behind it waited (docs/benchmarks.md, run N).
/// PostgreSQL writes in processes of its own, so the runtime takes every core.
pub fn worker_threads(cores: usize, backend: Option<Backend>, explicit: Option<usize>) -> usize {
    if let Some(n) = explicit {
        return n.max(1);
    }
    match backend {
        Some(Backend::Sqlite) => cores.saturating_sub(1).max(1),
        _ => cores.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_leaves_its_writer_a_core() {
        assert_eq!(worker_threads(2, Some(Backend::Sqlite), None), 1);
        assert_eq!(worker_threads(8, Some(Backend::Sqlite), None), 7);
        assert_eq!(worker_threads(1, Some(Backend::Sqlite), None), 1);
    }

    #[test]
    fn postgres_and_unknown_urls_take_every_core() {
        assert_eq!(worker_threads(2, Some(Backend::Postgres), None), 2);
        assert_eq!(worker_threads(4, None, None), 4);
    }

    #[test]
    fn an_explicit_count_wins_but_never_zero() {
        assert_eq!(worker_threads(2, Some(Backend::Sqlite), Some(2)), 2);
        assert_eq!(worker_threads(8, Some(Backend::Postgres), Some(0)), 1);
    }
}
