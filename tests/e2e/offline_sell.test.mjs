// Offline-first selling end to end: two phones of one shop sell the same product offline,
// come back online, and both (and the server's REST numbers) agree. The real server and
// database, the built PWA, Debian's Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const EMAIL = `till-${Date.now()}@example.com`;
const PASSWORD = "market-day-password-42";
let server;
let browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// A phone: its own browser profile (own IndexedDB, own device id), at phone size.
async function phone(path = "/sell") {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + path);
  await page.getByTestId("app-shell").waitFor();
  // The service worker must control the page before it can reload offline.
  await untilServiceWorkerControls(page);
  return { context, page, errors };
}

function tileStock(page, id) {
  return page.locator(`[data-testid=sell-product][data-product-id="${id}"] [data-testid=tile-stock]`);
}

async function waitFor(label, fn, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function pending(page) {
  return page.getByTestId("pending-count").getAttribute("data-count");
}

async function api(path, token) {
  const answer = await fetch(server.url + path, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200, `${path}: ${await answer.clone().text()}`);
  return answer.json();
}

async function signInByApi() {
  const answer = await fetch(`${server.url}/api/v1/auth/sign-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  assert.equal(answer.status, 200);
  return (await answer.json()).access_token;
}

test("two phones sell offline, 3 and 2 of 10, and both end at 5, as does the server", async () => {
  // Phone A registers the shop and adds a product with 10 in stock (as ops, synced).
  const a = await phone("/sell");
  await a.page.getByTestId("sign-in").waitFor();
  await a.page.getByRole("button", { name: "Create an account" }).click();
  await a.page.getByLabel("Email").fill(EMAIL);
  await a.page.getByLabel("Password").fill(PASSWORD);
  await a.page.getByLabel("Your name").fill("Ada");
  await a.page.getByLabel("Shop name").fill("Ada's Prints");
  await a.page.getByRole("button", { name: "Create account" }).click();
  await a.page.getByTestId("sync-status").waitFor();

  await a.page.locator(".bottom-nav").getByText("Stock").click();
  await a.page.getByLabel("Name", { exact: true }).fill("Rex the dinosaur");
  await a.page.getByLabel("SKU").fill("REX-L-RED");
  await a.page.getByLabel("Price").fill("12.50");
  await a.page.getByLabel("Starting stock").fill("10");
  await a.page.getByRole("button", { name: "Add product" }).click();
  const row = a.page.getByTestId("stock-row").filter({ hasText: "Rex the dinosaur" });
  await row.waitFor();
  assert.equal(await row.getByTestId("on-hand").textContent(), "10");
  const productId = await row.getAttribute("data-product-id");
  await waitFor("phone A to send the new product", async () => (await pending(a.page)) === "0" || (await pending(a.page)));

  const token = await signInByApi();
  const before = await api(`/api/v1/products/${productId}`, token);
  assert.equal(before.stock.on_hand, 10);
  assert.equal(before.sku, "REX-L-RED");

  // Phone B signs in to the same shop and pulls the product.
  const b = await phone("/sell");
  await b.page.getByTestId("sign-in").waitFor();
  await b.page.getByLabel("Email").fill(EMAIL);
  await b.page.getByLabel("Password").fill(PASSWORD);
  await b.page.getByRole("button", { name: "Sign in", exact: true }).click();
  await waitFor("phone B to pull the product", async () => (await tileStock(b.page, productId).count()) === 1);
  assert.equal(await tileStock(b.page, productId).textContent(), "10 left");

  // No signal at the market.
  await a.context.setOffline(true);
  await b.context.setOffline(true);
  await a.page.locator(".bottom-nav").getByText("Sell").click();
  await a.page.getByTestId("connection").filter({ hasText: "Offline" }).waitFor();

  // Taps the product `times` times, picks the payment, records, and waits for the tile.
  const sell = async (page, times, payment, left) => {
    const tile = page.locator(`[data-testid=sell-product][data-product-id="${productId}"]`);
    for (let i = 0; i < times; i++) await tile.click();
    assert.equal(await page.getByTestId("line-qty").textContent(), String(times));
    await page.getByText(payment, { exact: true }).click();
    await page.getByTestId("record-sale").click();
    await waitFor(`${left}`, async () => (await tileStock(page, productId).textContent()) === left, 5_000);
    assert.equal(await page.getByTestId("cart-line").count(), 0);
  };
  await sell(a.page, 3, "Card", "7 left");
  assert.equal(await pending(a.page), "1");
  assert.match(await a.page.getByTestId("today-total").textContent(), /€37\.50 · 1 sale$/);

  await sell(b.page, 2, "Cash", "8 left");

  // A wrong sale on A, undone (a void op, never a deletion): stock back to 7.
  await sell(a.page, 1, "Cash", "6 left");
  await a.page.getByTestId("undo-sale").click();
  await waitFor("the undo", async () => (await tileStock(a.page, productId).textContent()) === "7 left");
  assert.equal(await pending(a.page), "3");

  // A reload with a full outbox, still offline, loses nothing.
  await a.page.reload();
  await a.page.getByTestId("app-shell").waitFor();
  await waitFor("the reloaded outbox", async () => (await tileStock(a.page, productId).count()) === 1);
  assert.equal(await tileStock(a.page, productId).textContent(), "7 left");
  assert.equal(await pending(a.page), "3");
  assert.match(await a.page.getByTestId("today-total").textContent(), /€37\.50 · 1 sale$/);
  await a.page.screenshot({ path: join(SCREENSHOTS, "sell-offline-phone.png") });

  // Back online: both phones converge on 5, and nothing waits.
  await a.context.setOffline(false);
  await b.context.setOffline(false);
  for (const p of [a, b]) {
    await waitFor("convergence on 5", async () => {
      const text = await tileStock(p.page, productId).textContent();
      const waiting = await pending(p.page);
      return (text === "5 left" && waiting === "0") || `${text}, ${waiting} waiting`;
    });
  }
  assert.match(await b.page.getByTestId("today-total").textContent(), /€62\.50 · 2 sales$/);

  // The server's own numbers agree.
  const afterSale = await api(`/api/v1/products/${productId}`, token);
  assert.equal(afterSale.stock.on_hand, 5);
  assert.equal(afterSale.stock.negative, false);

  // Screenshots at phone size.
  await a.page.screenshot({ path: join(SCREENSHOTS, "sell-phone.png") });
  await a.page.locator(".bottom-nav").getByText("Stock").click();
  const rowA = a.page.getByTestId("stock-row").filter({ hasText: "Rex the dinosaur" });
  await rowA.waitFor();
  assert.equal(await rowA.getByTestId("on-hand").textContent(), "5");
  await a.page.screenshot({ path: join(SCREENSHOTS, "stock-phone.png") });

  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context.close();
  await b.context.close();
});
