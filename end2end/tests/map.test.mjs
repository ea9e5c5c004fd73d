// The map page: server-rendered, hydrates without console errors, and follows CoAP reports live.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, OUT, launch, openPage, issueCredential, coapReport, sleep } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("map page is server-rendered with piles before any JavaScript runs", async () => {
  const res = await fetch(`${BASE}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  const rows = html.match(/class="pile"/g) ?? [];
  assert.ok(rows.length >= 150, `expected ≥150 pile rows in SSR HTML, got ${rows.length}`);
  assert.match(html, /chargebay_bg\.wasm|chargebay\.js/);
});

test("map page hydrates without console errors (desktop and phone screenshots)", async () => {
  for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 360, height: 780 }]]) {
    const { context, page, errors } = await openPage(browser, viewport);
    const res = await page.goto(`${BASE}/`);
    assert.equal(res.status(), 200);
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 30_000 });
    // The simulator brings the demo city alive within seconds: wait for idle piles.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="idle-count"]')?.textContent) > 0, null, { timeout: 15_000 });
    await page.screenshot({ path: `${OUT}/map-${name}.png`, fullPage: false });
    assert.deepEqual(errors, [], `console errors: ${errors.join("\n")}`);
    await context.close();
  }
});

test("a CoAP report from a pile changes its row live, without reload", async () => {
  const { context, page, errors } = await openPage(browser);
  await page.goto(`${BASE}/`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 30_000 });
  const cred = issueCredential("LAB-2");
  await sleep(5_500); // the bridge reloads credentials every 5 s
  const row = page.locator(`li.pile[data-pile-id="${cred.pile}"]`);
  assert.equal(await row.getAttribute("data-state"), "offline");

  const seq0 = Date.now();
  const t0 = performance.now();
  coapReport(cred, { seq: seq0, bay: "free", pile: "available" });
  await page.waitForSelector(`li.pile[data-pile-id="${cred.pile}"][data-state="idle"]`, { timeout: 3_000 });
  const freeMs = performance.now() - t0;

  const t1 = performance.now();
  coapReport(cred, { seq: seq0 + 1, bay: "occupied", pile: "available" });
  await page.waitForSelector(`li.pile[data-pile-id="${cred.pile}"][data-state="blocked"]`, { timeout: 3_000 });
  const blockedMs = performance.now() - t1;
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${OUT}/map-live-blocked.png` });
  console.log(`report → row change: ${freeMs.toFixed(0)} ms (free), ${blockedMs.toFixed(0)} ms (blocked), coap-client process start included`);

  // A report with a wrong key changes nothing.
  coapReport({ pile: cred.pile, key: "0".repeat(32) }, { seq: seq0 + 2, bay: "free", pile: "available" });
  await sleep(700);
  assert.equal(await row.getAttribute("data-state"), "blocked");
  assert.deepEqual(errors, []);
  await context.close();
});
