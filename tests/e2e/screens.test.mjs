// The Stock, Filament and Models screens on a synced shop: the product list is virtualised
// (only the rows in view are in the page) and searched in memory; the charts (filament used
// per week from the spools' ledgers and the jobs' finishes, the products with the most on
// hand) are SVG with a title, a description and a table; the Models list reads the local
// store, so it works offline. The real server and database, the built PWA, Debian's Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const EMAIL = `screens-${Date.now()}@example.com`;
const PASSWORD = "screens-password-42";
const PRODUCTS = 300;
const DAY = 86_400_000;
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

function uuidv7() {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function call(method, path, token, body) {
  const answer = await fetch(server.url + "/api/v1" + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  assert.ok(answer.ok, `${method} ${path}: ${answer.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Pushes ops as another device would; `[body, wallMs]` pairs stamp an op in the past. */
async function push(token, items) {
  const device = uuidv7();
  const now = Date.now();
  for (let at = 0; at < items.length; at += 500) {
    const ops = items.slice(at, at + 500).map((item, k) => {
      const [body, wall] = Array.isArray(item) ? item : [item, now];
      const i = at + k;
      return { op_id: uuidv7(), device_id: device, client_seq: i + 1, hlc: { wall_ms: wall, counter: i, device_id: device }, body };
    });
    const out = await call("POST", "/sync/push", token, { protocol: 1, device_id: device, ops });
    for (const r of out.results) assert.equal(r.status, "applied", JSON.stringify(r));
  }
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

const set = (entity, id, fields) => ({ kind: "entity.set.v1", entity, id, fields });

test("stock, filament and models screens on a synced shop of 300 products", async () => {
  const reg = await fetch(`${server.url}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      email: EMAIL,
      password: PASSWORD,
      display_name: "Ada",
      shop: { name: "Ada's Prints", currency: "EUR", time_zone: "UTC", tax_rate_bp: 0, prices_include_tax: true },
    }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  const token = (await reg.json()).access_token;

  // 300 products; "Zebra 299" is last by name and has the most on hand (299).
  const ops = [];
  const ids = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const id = uuidv7();
    ids.push(id);
    const name = i === 7 ? "Rex the dinosaur" : i === PRODUCTS - 1 ? `Zebra ${i}` : `Owl ${String(i).padStart(3, "0")}`;
    ops.push(set("product", id, { sku: `SKU-${i}`, name, price: 1000 + i, active: true }));
    ops.push({ kind: "stock.count.v1", product_id: id, counted: i });
  }

  // Filament: PLA Signal red (30 g used today, 12 g two weeks ago) and PETG Black (a job's
  // 40 g, after which the spool was weighed: the job keeps its grams in the history).
  const red = uuidv7();
  const black = uuidv7();
  const redSpool = uuidv7();
  const blackSpool = uuidv7();
  const job = uuidv7();
  const filament = (colour, hex, material) => ({
    brand: "Prusament",
    material,
    colour: { name: colour, hex, multi_hexes: [] },
    diameter: "1.75",
    density_mg_cm3: 1240,
    net_weight_cg: 100000,
    empty_spool_cg: 20000,
    price_per_spool: 2500,
  });
  await call("POST", "/filaments", token, { id: red, ...filament("Signal red", "#c0392b", "pla") });
  await call("POST", "/filaments", token, { id: black, ...filament("Black", "#1c1c1e", "petg") });
  ops.push(set("spool", redSpool, { filament_id: red, initial_net_cg: 100000, location: "Shelf A" }));
  ops.push(set("spool", blackSpool, { filament_id: black, initial_net_cg: 100000, location: "Shelf B" }));
  ops.push([{ kind: "spool.use.v1", spool_id: redSpool, used_cg: 1200, reason: "test" }, Date.now() - 14 * DAY]);
  ops.push({ kind: "spool.use.v1", spool_id: redSpool, used_cg: 3000, reason: "print" });
  ops.push(set("print_job", job, { units: 1, plates: 1, priority: 0, position: 1024 }));
  ops.push({ kind: "job.transition.v1", job_id: job, to: "printing" });
  ops.push({ kind: "job.finish.v1", job_id: job, produced: [], spools: [{ spool_id: blackSpool, used_cg: 4000 }] });
  ops.push({ kind: "spool.weigh.v1", spool_id: blackSpool, gross_cg: 70000, empty_spool_cg: 20000 });

  // A model whose licence does not allow selling, with a variant (as sync ops).
  const model = uuidv7();
  const variant = uuidv7();
  ops.push(set("model", model, { name: "Gecko", designer_name: "Someone Else", source_site: "printables", licence: { name: "CC-BY-NC-4.0", allows_selling: false } }));
  ops.push(set("variant", variant, { model_id: model, name: "Small", parts_per_plate: 4, print_time_s: 5400, filament_needs: [{ filament_id: red, per_unit_cg: 1500 }] }));
  await push(token, ops);

  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/stock");
  await page.getByTestId("sign-in").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // Stock: all 300 listed, few in the page; the list is as tall as all of them.
  const matches = page.getByTestId("stock-matches");
  await waitFor("the pulled products", async () => (await matches.getAttribute("data-count")) === String(PRODUCTS) || (await matches.getAttribute("data-count")));
  assert.equal(await page.getByTestId("stock-list").getAttribute("data-count"), String(PRODUCTS));
  const inPage = await page.getByTestId("stock-row").count();
  assert.ok(inPage > 0 && inPage <= 30, `rows in the page: ${inPage}`);
  const listHeight = await page.getByTestId("stock-list").evaluate((el) => el.getBoundingClientRect().height);
  assert.equal(listHeight, PRODUCTS * 60);
  assert.equal(await page.getByTestId("stock-row").first().getAttribute("aria-setsize"), String(PRODUCTS));

  // Scrolled to the end: the last product by name is drawn, the first ones are not.
  await page.getByTestId("stock-viewport").evaluate((el) => {
    el.scrollTop = el.scrollHeight;
    el.dispatchEvent(new Event("scroll"));
  });
  const zebra = page.getByTestId("stock-row").filter({ hasText: `Zebra ${PRODUCTS - 1}` });
  await zebra.waitFor();
  assert.equal(await zebra.getByTestId("on-hand").textContent(), String(PRODUCTS - 1));
  assert.equal(await zebra.getAttribute("aria-posinset"), String(PRODUCTS));
  assert.equal(await page.getByTestId("stock-row").filter({ hasText: "Owl 000" }).count(), 0);
  assert.ok((await page.getByTestId("stock-row").count()) <= 30);

  // Search by name words or SKU, in memory.
  await page.getByLabel("Search products").fill("rex dino");
  await waitFor("the search", async () => (await matches.getAttribute("data-query")) === "rex dino");
  assert.equal(await matches.getAttribute("data-count"), "1");
  assert.deepEqual(await page.getByTestId("stock-row").locator(".stock-name").allTextContents(), ["Rex the dinosaur SKU-7"]);
  await page.getByLabel("Search products").fill("sku-29");
  await waitFor("the SKU search", async () => (await matches.getAttribute("data-query")) === "sku-29");
  // SKU-29 and SKU-290 … SKU-299.
  assert.equal(await matches.getAttribute("data-count"), "11");
  await page.getByLabel("Search products").fill("");

  // The chart of the products with the most on hand: ten bars, Zebra first, with a table.
  const stockChart = page.getByTestId("stock-chart");
  assert.equal(await stockChart.getByTestId("ranked-bar").count(), 10);
  assert.equal(await stockChart.getByTestId("ranked-bar").first().getAttribute("data-value"), String(PRODUCTS - 1));
  assert.equal(await stockChart.locator("svg[role=img] > title").textContent(), "Most on hand");
  assert.match(await stockChart.locator("svg > desc").textContent(), /^Zebra 299 has the most on hand: 299\.$/);
  await page.screenshot({ path: join(SCREENSHOTS, "stock-5k-list-phone.png"), fullPage: true });

  // Filament used per week: 12 g two weeks ago; this week 30 g of red and the job's 40 g of
  // black (kept after the weighing).
  await page.getByRole("link", { name: "Filament" }).click();
  const use = page.getByTestId("filament-use");
  await use.waitFor();
  assert.equal(await use.getAttribute("data-total-cg"), "8200");
  const chart = page.getByTestId("filament-use-chart");
  const svg = chart.locator("svg[role=img]");
  assert.equal(await svg.locator(":scope > title").textContent(), "Filament used per week");
  assert.match(await svg.locator(":scope > desc").textContent(), /^82 g used in the last 8 weeks, 70 g this week\. Most used: PLA Signal red \(42 g\)\.$/);
  const columns = chart.locator(".chart-column");
  assert.equal(await columns.count(), 8);
  assert.equal(await columns.nth(7).getAttribute("data-total"), "7000");
  assert.equal(await columns.nth(5).getAttribute("data-total"), "1200");
  assert.equal(await columns.nth(7).locator("rect").count(), 2);
  assert.equal(await chart.locator(".chart-column rect[fill='#c0392b']").count(), 2);
  // The same figures as a table.
  await chart.getByText("Show as a table").click();
  const rows = chart.locator("table tbody tr");
  assert.equal(await rows.count(), 8);
  assert.deepEqual(await chart.locator("table thead th").allTextContents(), ["Week of", "PLA Signal red", "PETG Black", "Total"]);
  assert.deepEqual(await rows.nth(7).locator("td").allTextContents(), ["30 g", "40 g", "70 g"]);
  assert.deepEqual(await rows.nth(5).locator("td").allTextContents(), ["12 g", "0 g", "12 g"]);
  await page.screenshot({ path: join(SCREENSHOTS, "filament-use-phone.png"), fullPage: true });

  // Models, then offline: the list comes from the local store.
  await page.goto(server.url + "/models");
  const gecko = page.getByTestId("model-row").filter({ hasText: "Gecko" });
  await gecko.waitFor();
  await context.setOffline(true);
  await page.reload();
  await gecko.waitFor();
  assert.match(await gecko.textContent(), /By Someone Else · CC-BY-NC-4\.0/);
  assert.equal(await gecko.getByTestId("no-selling").count(), 1);
  assert.match(await gecko.getByTestId("model-variant").textContent(), /^Small · 1 h 30 min per plate of 4 · 15 g a unit/);
  // The upload form offers the synced variant offline too.
  await page.locator(`#upload-variant option[value="${variant}"]`).waitFor({ state: "attached" });
  assert.equal(await page.getByTestId("targets-note").count(), 0);
  await page.screenshot({ path: join(SCREENSHOTS, "models-offline-phone.png"), fullPage: true });
  await context.setOffline(false);

  assert.deepEqual(errors, []);
  await context.close();
});
