//! chargebay's build driver. Builds the site that the server serves — the hydrate WASM
//! bundle (cargo → wasm-bindgen as a library → wasm-opt), the stylesheet and the static
//! assets — without needing `cargo-leptos` installed. It follows the
//! `[[workspace.metadata.leptos]]` layout, so `cargo leptos watch` remains an alternative.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use flate2::{write::GzEncoder, Compression};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

/// The name every generated file starts with (`pkg/chargebay.js`, `pkg/chargebay_bg.wasm`).
const OUTPUT_NAME: &str = "chargebay";
/// The admin bundle's file-name stem (must match `app::shell::ADMIN_OUTPUT_NAME`).
const ADMIN_OUTPUT_NAME: &str = "chargebay_admin";

#[derive(Parser)]
#[command(about = "chargebay build tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the site (WASM + JS + CSS + public assets) into target/site.
    Site {
        /// Skip wasm-opt even when it is installed (faster, larger).
        #[arg(long)]
        no_opt: bool,
        /// Build only the driver bundle (quicker when measuring it).
        #[arg(long)]
        driver_only: bool,
    },
    /// Print the size of the built bundle, raw and gzipped.
    Sizes,
}

fn main() -> Result<()> {
    let root = workspace_root()?;
    match Cli::parse().task {
        Task::Site {
            no_opt,
            driver_only,
        } => {
            build_site(&root, !no_opt, driver_only)?;
            print_sizes(&root)
        }
        Task::Sizes => print_sizes(&root),
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives one level below the workspace root")
}

fn site_dir(root: &Path) -> PathBuf {
    root.join("target/site")
}

fn build_site(root: &Path, optimise: bool, driver_only: bool) -> Result<()> {
    let pkg = site_dir(root).join("pkg");
    fs::create_dir_all(&pkg)?;
    // The driver bundle, and the admin bundle (driver pages + admin pages) for `/admin`.
    build_bundle(root, &pkg, OUTPUT_NAME, None, optimise)?;
    if !driver_only {
        build_bundle(root, &pkg, ADMIN_OUTPUT_NAME, Some("admin"), optimise)?;
    }
    fs::copy(
        root.join("style/main.css"),
        pkg.join(format!("{OUTPUT_NAME}.css")),
    )
    .context("copying style/main.css")?;
    copy_dir(&root.join("public"), &site_dir(root))?;
    vendor_leaflet(root)?;
    println!("site built in {}", site_dir(root).display());
    Ok(())
}

fn build_bundle(
    root: &Path,
    pkg: &Path,
    name: &str,
    features: Option<&str>,
    optimise: bool,
) -> Result<()> {
    let mut args = vec![
        "build",
        "-p",
        "frontend",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ];
    if let Some(f) = features {
        args.extend(["--features", f]);
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(&args)
        .status()
        .context("running cargo build for the frontend")?;
    if !status.success() {
        bail!("the frontend WASM build ({name}) failed");
    }
    let wasm = root.join("target/wasm32-unknown-unknown/wasm-release/frontend.wasm");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name(name)
        .web(true)?
        .typescript(false)
        .remove_producers_section(true)
        .generate(pkg)
        .context("wasm-bindgen")?;
    if optimise {
        optimise_wasm(root, &pkg.join(format!("{name}_bg.wasm")))?;
    }
    Ok(())
}

/// Copies Leaflet and its cluster plugin from npm into the site, so nothing is fetched from
/// a CDN at run time.
fn vendor_leaflet(root: &Path) -> Result<()> {
    let out = site_dir(root).join("vendor/leaflet");
    fs::create_dir_all(&out)?;
    let leaflet = root.join("node_modules/leaflet/dist");
    let cluster = root.join("node_modules/leaflet.markercluster/dist");
    if !leaflet.exists() || !cluster.exists() {
        bail!("Leaflet is missing from node_modules: run `npm ci` (scripts/setup.sh does)");
    }
    for f in ["leaflet.js", "leaflet.css"] {
        fs::copy(leaflet.join(f), out.join(f))?;
    }
    copy_dir(&leaflet.join("images"), &out.join("images"))?;
    for f in [
        "leaflet.markercluster.js",
        "MarkerCluster.css",
        "MarkerCluster.Default.css",
    ] {
        fs::copy(cluster.join(f), out.join(f))?;
    }
    Ok(())
}

/// Runs `wasm-opt -Oz` from the npm `binaryen` package (Debian's binaryen 108 produces
/// modules that fail in current Chromium, so it is deliberately not looked up on PATH).
fn optimise_wasm(root: &Path, wasm: &Path) -> Result<()> {
    let tool = root.join("node_modules/.bin/wasm-opt");
    if !tool.exists() {
        println!(
            "note: {} not found (run `npm ci`); WASM left unoptimised",
            tool.display()
        );
        return Ok(());
    }
    let tmp = wasm.with_extension("opt.wasm");
    let status = Command::new(&tool)
        .arg("-Oz")
        .arg("--enable-bulk-memory")
        .arg("--enable-nontrapping-float-to-int")
        .arg("--enable-sign-ext")
        .arg("--enable-mutable-globals")
        .arg("--enable-reference-types")
        .arg(wasm)
        .arg("-o")
        .arg(&tmp)
        .status()
        .context("running wasm-opt")?;
    if !status.success() {
        bail!("wasm-opt failed");
    }
    fs::rename(&tmp, wasm)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if !from.exists() {
        return Ok(());
    }
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

fn print_sizes(root: &Path) -> Result<()> {
    let pkg = site_dir(root).join("pkg");
    let mut total_gz = 0;
    for name in [
        format!("{OUTPUT_NAME}_bg.wasm"),
        format!("{OUTPUT_NAME}.js"),
        format!("{OUTPUT_NAME}.css"),
        format!("{ADMIN_OUTPUT_NAME}_bg.wasm"),
        format!("{ADMIN_OUTPUT_NAME}.js"),
    ] {
        let path = pkg.join(&name);
        if name.starts_with(ADMIN_OUTPUT_NAME) && !path.exists() {
            continue; // built with --driver-only
        }
        let bytes = fs::read(&path).with_context(|| format!("reading {name}"))?;
        let gz = gzip_len(&bytes)?;
        if !name.ends_with(".css") && !name.starts_with(ADMIN_OUTPUT_NAME) {
            total_gz += gz;
        }
        println!("{name:<24} {:>9} bytes  {:>9} gzipped", bytes.len(), gz);
    }
    println!(
        "{:<24} {:>9}        {:>9} gzipped (driver WASM + JS)",
        "total", "", total_gz
    );
    Ok(())
}
