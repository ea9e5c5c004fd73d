// Shared helpers for the browser suite: a headless Debian Chromium, the server under test,
// and a real CoAP peer (libcoap's coap-client-notls) to play a pile.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";

export const BASE = process.env.E2E_BASE_URL ?? "http://127.0.0.1:3300";
export const OUT = process.env.E2E_OUTPUT ?? "end2end/test-output";
mkdirSync(OUT, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** Opens a page that records console errors and page errors. */
export async function openPage(browser, viewport = { width: 1280, height: 800 }, options = {}) {
  const context = await browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e}`));
  page.on("response", async (r) => {
    if (r.status() >= 500) errors.push(`HTTP ${r.status()} from ${r.request().method()} ${r.url()}: ${(await r.text().catch(() => "")).slice(0, 300)}`);
  });
  return { context, page, errors };
}

/** Issues a fresh device credential for a pile (by code) with the server's own CLI. */
export function issueCredential(code) {
  const out = execFileSync(process.env.E2E_BIN ?? "./target/debug/chargebay",
    ["--database-url", process.env.E2E_DATABASE_URL, "--coap-addr", `127.0.0.1:${process.env.E2E_COAP_PORT}`,
     "pile", "issue-credential", code], { encoding: "utf8" });
  const pile = Number(/^pile:\s+(\d+)/m.exec(out)[1]);
  const key = /^key:\s+([0-9a-f]+)/m.exec(out)[1];
  return { pile, key };
}

/** Sends one report as a pile would, with libcoap's client. Returns what it printed. */
export function coapReport({ pile, key }, report) {
  const port = process.env.E2E_COAP_PORT ?? "5883";
  return execFileSync("coap-client-notls",
    ["-m", "post", "-t", "json", "-e", JSON.stringify(report), `coap://127.0.0.1:${port}/r/${pile}?k=${key}`],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until the page has hydrated. */
export async function hydrated(page) {
  await page.waitForSelector('[data-app-hydrated="true"]', { timeout: 30_000 });
}

/** Waits until a pile page has hydrated, its own (suspended) detail included. */
export async function pileReady(page) {
  await hydrated(page);
  await page.waitForSelector('.pile-detail[data-ready="true"]', { timeout: 30_000 });
}

/** A pile's row state on the map page. */
export const rowState = (page, pile) => page.locator(`li.pile[data-pile-id="${pile}"]`).getAttribute("data-state");

let seq = Date.now();
/** A strictly increasing sequence number for hand-driven piles. */
export const nextSeq = () => ++seq;
