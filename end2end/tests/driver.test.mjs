// A driver's journey: sign up (with an inline error first), reserve an idle pile, see the
// countdown, cancel; then a bay taken by someone else during a hold alerts the driver at
// once (they share a far-away position) and offers the nearest idle pile as one action.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, OUT, launch, openPage, hydrated, pileReady, issueCredential, coapReport, nextSeq, sleep } from "./helpers.mjs";

let browser;
let lab1;
let lab3;
before(async () => {
  browser = await launch();
  lab1 = issueCredential("LAB-1");
  lab3 = issueCredential("LAB-3");
  await sleep(5_000);
  coapReport(lab1, { seq: nextSeq(), bay: "free", pile: "available" });
  coapReport(lab3, { seq: nextSeq(), bay: "free", pile: "available" });
});
after(async () => { await browser?.close(); });

async function signUp(page, email) {
  await page.goto(`${BASE}/signup`);
  await hydrated(page).catch(() => {});
  await page.fill('[data-testid="email"]', email);
  await page.fill('[data-testid="password"]', "short");
  await page.click('[data-testid="submit"]');
  await page.waitForSelector('[data-testid="form-error"]');
  assert.match(await page.textContent('[data-testid="form-error"]'), /at least 10 characters/);
  await page.screenshot({ path: `${OUT}/signup-error.png` });
  await page.fill('[data-testid="password"]', "correct horse battery");
  await page.click('[data-testid="submit"]');
  await page.waitForURL(`${BASE}/`);
}

/** Clicks Reserve and waits for the hold card; a refusal fails with the page's own message. */
async function reserve(page) {
  await page.click('[data-testid="reserve"]');
  await page.waitForSelector('[data-testid="hold-card"], [data-testid="reserve-error"]');
  const refused = await page.$('[data-testid="reserve-error"]');
  assert.equal(refused && (await refused.textContent()), null, "the reservation was refused");
  await page.waitForSelector('[data-testid="hold-card"]');
}

test("sign up, reserve, see the countdown, cancel", async () => {
  const { context, page, errors } = await openPage(browser, { width: 390, height: 844 });
  await signUp(page, `driver-${Date.now()}@example.com`);
  await page.goto(`${BASE}/piles/${lab1.pile}`);
  await pileReady(page);
  await reserve(page);
  const c1 = await page.textContent('[data-testid="countdown"]');
  await sleep(1_500);
  const c2 = await page.textContent('[data-testid="countdown"]');
  assert.match(c1, /1[45]:\d\d/);
  assert.notEqual(c1, c2, "the countdown ticks");
  await page.screenshot({ path: `${OUT}/hold-card-phone.png` });
  const api = await (await fetch(`${BASE}/api/v1/piles/${lab1.pile}`)).json();
  assert.equal(api.availability.reason, "reserved");
  await page.click('[data-testid="cancel"]');
  await page.waitForSelector('[data-testid="hold-ended"][data-outcome="cancelled"]');
  await page.goto(`${BASE}/reservations`);
  await page.waitForSelector('[data-testid="history"] tr[data-status="cancelled"]');
  await page.screenshot({ path: `${OUT}/history-phone.png` });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a bay blocked during the hold alerts at once and offers the nearest idle pile", async () => {
  const { context, page, errors } = await openPage(browser, { width: 1280, height: 800 }, {
    geolocation: { latitude: 23.2, longitude: 113.3 }, // far from Shenzhen: "demonstrably far"
    permissions: ["geolocation"],
  });
  await signUp(page, `far-${Date.now()}@example.com`);
  await page.goto(`${BASE}/piles/${lab1.pile}`);
  await pileReady(page);
  await reserve(page);
  await sleep(1_500); // the card shares the position
  coapReport(lab1, { seq: nextSeq(), bay: "occupied", pile: "available" });
  await page.waitForSelector('[data-testid="hold-ended"][data-outcome="blocked"]', { timeout: 5_000 });
  const alt = await page.textContent('[data-testid="alternative"]');
  assert.match(alt, /LAB-3/);
  await page.screenshot({ path: `${OUT}/hold-blocked-alert.png` });
  await page.click('[data-testid="reserve-alternative"]');
  await page.waitForSelector('[data-testid="hold-card"]');
  assert.match(await page.textContent('[data-testid="hold-card"]'), /LAB-3/);
  assert.deepEqual(errors, []);
  await context.close();
});
