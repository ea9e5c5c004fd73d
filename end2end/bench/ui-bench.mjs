// UI performance figures for docs/benchmarks.md (a measured script, not a test):
//  1. server time to render the map page (all demo piles), against /healthz in the same run;
//  2. time from a CoAP report (sent from here over UDP) to the row and marker changing in
//     the browser, p50/p95 over many reports.
// Usage: with a demo server running, BASE=http://127.0.0.1:3000 COAP_PORT=5683 \
//   PILE=<lab pile id> KEY=<its key> node end2end/bench/ui-bench.mjs
import { chromium } from "playwright-core";
import dgram from "node:dgram";

const BASE = process.env.BASE ?? "http://127.0.0.1:3000";
const COAP_PORT = Number(process.env.COAP_PORT ?? 5683);
const PILE = Number(process.env.PILE);
const KEY = process.env.KEY;
const N = Number(process.env.N ?? 40);

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const fmt = (x) => x.toFixed(1);

async function timeGets(path, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(`${BASE}${path}`);
    await r.text();
    out.push(performance.now() - t);
  }
  return out;
}

// A minimal CoAP CON POST /r/<pile>?k=<key> with a JSON payload (RFC 7252 encoding).
function coapReport(seq, pileState) {
  const opts = [];
  const opt = (num, val) => opts.push([num, Buffer.from(val)]);
  opt(11, "r"); opt(11, String(PILE)); opt(12, Buffer.from([50])); opt(15, `k=${KEY}`);
  let last = 0;
  const parts = [Buffer.from([0x42, 0x02, (seq >> 8) & 0xff, seq & 0xff, 0xaa, 0xbb])];
  for (const [num, val] of opts) {
    const delta = num - last; last = num;
    const ext = [];
    const nib = (v) => (v < 13 ? v : (ext.push(v - 13), 13));
    const d = nib(delta), l = nib(val.length);
    parts.push(Buffer.from([(d << 4) | l, ...ext]), val);
  }
  parts.push(Buffer.from([0xff]), Buffer.from(JSON.stringify({ seq: Date.now() * 10 + (seq % 10), bay: "occupied", pile: pileState })));
  return Buffer.concat(parts);
}

const ssr = await timeGets("/", 30);
const health = await timeGets("/healthz", 30);
console.log(`map page SSR: p50 ${fmt(pct(ssr, 50))} ms, p95 ${fmt(pct(ssr, 95))} ms; /healthz p50 ${fmt(pct(health, 50))} ms (ratio ${(pct(ssr, 50) / pct(health, 50)).toFixed(1)}×)`);

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
await page.goto(`${BASE}/`);
await page.waitForSelector('[data-app-hydrated="true"]');
await page.waitForSelector(`li.pile[data-pile-id="${PILE}"]`);
await page.evaluate((pile) => {
  window.__changes = [];
  const row = document.querySelector(`li.pile[data-pile-id="${pile}"]`);
  new MutationObserver(() => window.__changes.push({ at: performance.timeOrigin + performance.now(), state: row.dataset.state })).observe(row, { attributes: true, attributeFilter: ["data-state"] });
}, PILE);
const sock = dgram.createSocket("udp4");
const lat = [];
for (let i = 1; i <= N; i++) {
  // The bay stays occupied and the pile alternates charging / not charging, so the bay never
  // flips (fast flips would rightly be debounced as flapping).
  const state = i % 2 ? "charging" : "available";
  const want = state === "charging" ? "charging" : "blocked";
  const sent = Date.now();
  sock.send(coapReport(i, state), COAP_PORT, "127.0.0.1");
  const seen = await page.waitForFunction((w) => window.__changes.find((c) => c.state === w), want, { timeout: 5000 }).then((h) => h.jsonValue()).catch(() => null);
  if (seen) lat.push(seen.at - sent);
  await page.evaluate(() => { window.__changes = []; });
  await new Promise((r) => setTimeout(r, 150));
}
sock.close();
console.log(`CoAP report → row change in the browser: n=${lat.length}/${N}, p50 ${fmt(pct(lat, 50))} ms, p95 ${fmt(pct(lat, 95))} ms, max ${fmt(Math.max(...lat))} ms`);
await browser.close();
