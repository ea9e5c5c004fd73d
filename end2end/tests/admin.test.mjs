// The operator admin pages in a real browser: the sign-in redirect, then as an admin create a
// site and a pile, issue a device credential, report over CoAP with it (libcoap), and watch
// the pile's state and health change in the admin pages. Screenshots of every admin page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { BASE, OUT, launch, openPage, coapReport, sleep } from "./helpers.mjs";

const EMAIL = "e2e-admin@example.com";
const PASSWORD = "e2e admin password 123";
let browser;

before(async () => {
  browser = await launch();
  // An admin made with the server's own CLI (the demo admin's password is only printed).
  try {
    execFileSync(process.env.E2E_BIN ?? "./target/debug/chargebay",
      ["--database-url", process.env.E2E_DATABASE_URL, "user", "create", "--email", EMAIL, "--name", "E2E Admin", "--admin"],
      { env: { ...process.env, CHARGEBAY_PASSWORD: PASSWORD }, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (!String(e.stderr).includes("taken")) throw e; // a re-run against the same database
  }
});
after(async () => { await browser?.close(); });

const ready = (page) => page.waitForSelector('[data-testid="admin"][data-hydrated="true"]', { timeout: 30_000 });

async function signedInAdmin(viewport) {
  const s = await openPage(browser, viewport);
  await s.page.goto(`${BASE}/signin?next=/admin`);
  await s.page.waitForSelector('[data-testid="email"]');
  await sleep(500); // let the form hydrate so it submits through the server function
  await s.page.fill('[data-testid="email"]', EMAIL);
  await s.page.fill('[data-testid="password"]', PASSWORD);
  await s.page.click('[data-testid="submit"]');
  await s.page.waitForURL((u) => !u.pathname.startsWith("/signin"), { timeout: 15_000 });
  // A full load of the admin pages (they hydrate with their own bundle).
  await s.page.goto(`${BASE}/admin`);
  await ready(s.page);
  return s;
}

test("anonymous visitors are sent to sign in; the gate is server-side", async () => {
  const res = await fetch(`${BASE}/admin/piles`, { redirect: "manual", headers: { accept: "text/html" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/signin?next=/admin/piles");
  const { context, page } = await openPage(browser);
  await page.goto(`${BASE}/admin`);
  assert.match(page.url(), /\/signin\?next=(%2F|\/)admin$/);
  await context.close();
});

test("admin creates a site and a pile, issues a credential, and sees CoAP reports change state and health", async () => {
  const { context, page, errors } = await signedInAdmin({ width: 1360, height: 900 });
  const stamp = Date.now().toString(36).toUpperCase();
  const siteName = `E2E Depot ${stamp}`;
  const code = `E2E-${stamp}`;

  // A site, with typed coordinates (an invalid latitude is refused by name first).
  await page.goto(`${BASE}/admin/sites/new`);
  await ready(page);
  await page.fill('[data-testid="site-name"]', siteName);
  await page.fill('[data-testid="site-address"]', "8 Test Quay, Futian");
  await page.fill('[data-testid="site-lat"]', "95");
  await page.fill('[data-testid="site-lon"]', "114.0579");
  await page.click('[data-testid="save-site"]');
  await page.waitForSelector('.field-error[data-field="lat"]');
  await page.screenshot({ path: `${OUT}/admin-site-form-error.png`, fullPage: true });
  await page.fill('[data-testid="site-lat"]', "22.5431");
  await page.fill('[data-testid="site-hold"]', "600");
  await page.click('[data-testid="save-site"]');
  await page.waitForURL(`${BASE}/admin/sites`);
  const siteRow = page.locator("tr[data-site-id]", { hasText: siteName });
  await siteRow.waitFor();
  const siteId = await siteRow.getAttribute("data-site-id");
  await page.screenshot({ path: `${OUT}/admin-sites.png`, fullPage: false });

  // A pile at that site.
  await page.goto(`${BASE}/admin/piles/new?site=${siteId}`);
  await ready(page);
  await page.fill('[data-testid="pile-code"]', code);
  await page.selectOption('[data-testid="pile-connector"]', "CCS2");
  await page.fill('[data-testid="pile-kw"]', "120");
  await page.fill('[data-testid="pile-price"]', "1.20 CNY/kWh");
  await page.click('[data-testid="save-pile"]');
  await page.waitForURL(/\/admin\/piles\/\d+$/);
  const pile = Number(page.url().split("/").pop());
  await ready(page);
  await page.waitForSelector(`[data-testid="pile-admin"][data-state="offline"]`);
  await page.waitForSelector('[data-testid="pile-problems"] li[data-kind="never_heard"]');

  // Its credential: the key is shown once.
  await page.click('[data-testid="issue-credential"]');
  const key = (await page.locator('[data-testid="key"]').textContent()).trim();
  assert.match(key, /^[0-9a-f]{32}$/);
  await page.waitForSelector('[data-testid="fingerprint"]');
  await page.screenshot({ path: `${OUT}/admin-pile-credential.png`, fullPage: true });

  // Fleet health lists it as never heard from.
  await page.goto(`${BASE}/admin/health`);
  await ready(page);
  await page.waitForSelector(`tr[data-pile-id="${pile}"][data-kind="never_heard"]`);

  // The pile reports with its new key (the bridge reloads credentials every few seconds).
  await page.goto(`${BASE}/admin/piles/${pile}`);
  await ready(page);
  await sleep(5_500);
  const seq = Date.now();
  coapReport({ pile, key }, { seq, bay: "occupied", pile: "available", bat: 12, q: 88 });
  // Live: the page follows the report without a reload.
  await page.waitForSelector(`[data-testid="pile-admin"][data-state="blocked"]`, { timeout: 10_000 });
  assert.equal((await page.locator('[data-testid="seq"]').textContent()).trim(), String(seq));
  assert.equal((await page.locator('[data-testid="battery"]').textContent()).trim(), "12 %");
  assert.equal((await page.locator('[data-testid="quality"]').textContent()).trim(), "88 %");
  assert.match(await page.locator('[data-testid="addr"]').textContent(), /^127\.0\.0\.1:\d+$/);
  await page.waitForSelector('[data-testid="pile-problems"] li[data-kind="low_battery"]');
  assert.equal(await page.locator('[data-testid="pile-problems"] li[data-kind="never_heard"]').count(), 0);
  await page.screenshot({ path: `${OUT}/admin-pile-live.png`, fullPage: true });

  // Health: low battery now, not "never heard"; the piles list shows it blocked.
  await page.goto(`${BASE}/admin/health`);
  await ready(page);
  await page.waitForSelector(`tr[data-pile-id="${pile}"][data-kind="low_battery"]`);
  assert.equal(await page.locator(`tr[data-pile-id="${pile}"][data-kind="never_heard"]`).count(), 0);
  await page.screenshot({ path: `${OUT}/admin-health.png`, fullPage: false });

  await page.goto(`${BASE}/admin/piles?site=${siteId}`);
  await ready(page);
  await page.waitForSelector(`tr[data-pile-id="${pile}"][data-state="blocked"]`);
  // The bay frees up: the list follows live.
  coapReport({ pile, key }, { seq: seq + 1, bay: "free", pile: "available", bat: 12, q: 88 });
  await page.waitForSelector(`tr[data-pile-id="${pile}"][data-state="idle"]`, { timeout: 10_000 });
  await page.goto(`${BASE}/admin/piles`);
  await ready(page);
  await page.screenshot({ path: `${OUT}/admin-piles.png`, fullPage: false });

  // The audit log has every action, by this admin.
  await page.goto(`${BASE}/admin/audit?target=pile:${pile}`);
  await ready(page);
  const actions = await page.locator("tr[data-action]").evaluateAll((rows) => rows.map((r) => r.dataset.action));
  assert.deepEqual(actions, ["credential_issued", "pile_created"]);
  assert.deepEqual(errors, [], `console errors: ${errors.join("\n")}`);
  await context.close();
});

test("import preview, analytics chart and the other admin pages render (screenshots)", async () => {
  const { context, page, errors } = await signedInAdmin({ width: 1360, height: 900 });
  await page.goto(`${BASE}/admin/import`);
  await ready(page);
  await page.fill('[data-testid="import-csv"]',
    "site,address,lat,lon,code,connector,max_kw\nImport Park,3 Dock Rd,22.52,114.03,IMP-1,CCS2,60\nImport Park,,,,IMP-1,CCS2,60\nImport Park,,,,IMP-2,Tesla,abc\n");
  await page.click('[data-testid="import-preview"]');
  await page.waitForSelector('[data-testid="import-report"][data-status="preview"]');
  assert.equal(await page.locator('tr[data-ok="false"]').count(), 2);
  await page.screenshot({ path: `${OUT}/admin-import.png`, fullPage: true });

  // Analytics of a demo site (the simulator has been running): chart and figures.
  await page.goto(`${BASE}/admin/analytics?site=1`);
  await ready(page);
  await page.waitForSelector('[data-testid="chart"] svg rect.bar', { state: "attached" });
  assert.equal(await page.locator('[data-testid="chart"] svg rect.bar').count(), 24);
  const href = await page.locator('[data-testid="export-csv"]').getAttribute("href");
  const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  assert.match(csv, /^kind,name,from,to,utilisation,blocked_minutes,sensor_uptime,count/);
  await page.screenshot({ path: `${OUT}/admin-analytics.png`, fullPage: true });

  for (const name of ["reservations", "users", "audit"]) {
    await page.goto(`${BASE}/admin/${name}`);
    await ready(page);
    await page.screenshot({ path: `${OUT}/admin-${name}.png`, fullPage: false });
  }
  // In Chinese.
  await context.addCookies([{ name: "lang", value: "zh-CN", url: BASE }]);
  await page.goto(`${BASE}/admin/health`);
  await ready(page);
  assert.match(await page.locator("h1").first().textContent(), /设备健康/);
  await page.screenshot({ path: `${OUT}/admin-health-zh.png`, fullPage: false });
  assert.deepEqual(errors, [], `console errors: ${errors.join("\n")}`);
  await context.close();
});
