// The map page: server-rendered, hydrates without console errors, markers on the map, the
// list and markers follow CoAP reports live, filters round-trip through the URL, and the UI
// language switches and is remembered.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, OUT, launch, openPage, hydrated, issueCredential, coapReport, nextSeq, sleep } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("map page is server-rendered with piles and filters before any JavaScript runs", async () => {
  const res = await fetch(`${BASE}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  const rows = html.match(/class="pile"/g) ?? [];
  assert.ok(rows.length >= 150, `expected ≥150 pile rows in SSR HTML, got ${rows.length}`);
  assert.match(html, /<form[^>]*method="get"/i, "filters are a plain GET form");
  assert.match(html, /chargebay_bg\.wasm/);
});

test("map page hydrates without console errors, with markers (desktop, phone, Chinese screenshots)", async () => {
  for (const [name, viewport, path] of [
    ["desktop", { width: 1280, height: 800 }, "/"],
    ["phone-map", { width: 360, height: 740 }, "/"],
    ["phone-list", { width: 360, height: 740 }, "/?view=list"],
  ]) {
    const { context, page, errors } = await openPage(browser, viewport);
    const res = await page.goto(`${BASE}${path}`);
    assert.equal(res.status(), 200);
    await hydrated(page);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="idle-count"]')?.textContent) > 0, null, { timeout: 15_000 });
    if (!path.includes("list")) {
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="map"]')?.dataset.markers) >= 150, null, { timeout: 10_000 });
    }
    await page.screenshot({ path: `${OUT}/map-${name}.png` });
    assert.deepEqual(errors, [], `console errors: ${errors.join("\n")}`);
    await context.close();
  }
});

test("a CoAP report from a pile changes its row and marker live, without reload", async () => {
  const { context, page, errors } = await openPage(browser);
  await page.goto(`${BASE}/`);
  await hydrated(page);
  const cred = issueCredential("LAB-2");
  await sleep(5_000); // the bridge reloads credentials every 4 s
  const row = page.locator(`li.pile[data-pile-id="${cred.pile}"]`);
  assert.equal(await row.getAttribute("data-state"), "offline");

  const t0 = performance.now();
  coapReport(cred, { seq: nextSeq(), bay: "free", pile: "available" });
  await page.waitForSelector(`li.pile[data-pile-id="${cred.pile}"][data-state="idle"]`, { timeout: 3_000 });
  const freeMs = performance.now() - t0;

  const t1 = performance.now();
  coapReport(cred, { seq: nextSeq(), bay: "occupied", pile: "available" });
  await page.waitForSelector(`li.pile[data-pile-id="${cred.pile}"][data-state="blocked"]`, { timeout: 3_000 });
  const blockedMs = performance.now() - t1;
  console.log(`report → row change: ${freeMs.toFixed(0)} ms (free), ${blockedMs.toFixed(0)} ms (blocked), coap-client process included`);

  // A report with a wrong key changes nothing.
  coapReport({ pile: cred.pile, key: "0".repeat(32) }, { seq: nextSeq(), bay: "free", pile: "available" });
  await sleep(700);
  assert.equal(await row.getAttribute("data-state"), "blocked");
  assert.deepEqual(errors, []);
  await context.close();
});

test("filters round-trip through the URL and are applied on the server", async () => {
  const { context, page, errors } = await openPage(browser);
  await page.goto(`${BASE}/`);
  await hydrated(page);
  await page.selectOption('[data-testid="filter-connector"]', "CCS2");
  await page.fill('[data-testid="filter-min-kw"]', "100");
  await page.click('[data-testid="filter-apply"]');
  await page.waitForURL(/connector=CCS2/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get("connector"), "CCS2");
  assert.equal(url.searchParams.get("min_kw"), "100");
  // A fresh load of the link reproduces the view, server-rendered.
  const html = await (await fetch(page.url())).text();
  const specs = [...html.matchAll(/class="spec">([^<]*)</g)].map((m) => m[1]);
  assert.ok(specs.length > 0, "some CCS2 piles of ≥100 kW exist in the demo city");
  for (const s of specs) {
    assert.match(s, /^CCS2 · (\d+) kW$/);
    assert.ok(Number(/(\d+) kW/.exec(s)[1]) >= 100, s);
  }
  await page.goto(page.url());
  await hydrated(page);
  assert.equal(await page.inputValue('[data-testid="filter-connector"]'), "CCS2");
  assert.equal(await page.inputValue('[data-testid="filter-min-kw"]'), "100");
  await page.screenshot({ path: `${OUT}/map-filtered.png` });
  assert.deepEqual(errors, []);
  await context.close();
});

test("the language switches to Chinese and is remembered", async () => {
  const { context, page, errors } = await openPage(browser);
  await page.goto(`${BASE}/`);
  await hydrated(page);
  await page.click('[data-testid="lang-switch"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="idle-summary"]')?.textContent.includes("空闲"));
  await page.reload();
  await hydrated(page);
  assert.match(await page.textContent('[data-testid="idle-summary"]'), /空闲/);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await page.screenshot({ path: `${OUT}/map-chinese.png` });
  assert.deepEqual(errors, []);
  await context.close();
});
