// PWA: after a first visit the service worker serves the app shell offline, and the app
// says it is offline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, OUT, launch, openPage, hydrated } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("manifest is installable", async () => {
  const m = await (await fetch(`${BASE}/manifest.webmanifest`)).json();
  assert.equal(m.display, "standalone");
  assert.ok(m.icons.some((i) => i.sizes === "512x512"));
  assert.equal((await fetch(`${BASE}/icons/icon-512.png`)).status, 200);
});

test("the app shell loads offline after a first visit", async () => {
  const { context, page } = await openPage(browser);
  await page.goto(`${BASE}/`);
  await hydrated(page);
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload();
  await hydrated(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10_000 });
  await context.setOffline(true);
  await page.reload();
  await hydrated(page);
  await page.waitForSelector('[data-testid="offline-banner"]', { timeout: 5_000 });
  const rows = await page.locator("li.pile").count();
  assert.ok(rows > 0, "the cached page still lists piles");
  await page.screenshot({ path: `${OUT}/offline.png` });
  await context.close();
});
