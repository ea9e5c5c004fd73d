//! Shared by the server's HTTP test files.

/// One test of a file at a time: Leptos 0.8's streaming SSR can lose a Suspense wake-up when
/// two renders run at once on different threads (a leptos-rs/leptos#4851-style hang, seen here
/// on `/admin`), and every `#[tokio::test]` is its own runtime on its own thread. The spawned
/// test app holds this lock for as long as it lives.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
