// A market day end to end, against the real server and database with the built PWA in
// Debian's Chromium. The filament, spool, model and its sliced variant are seeded through
// the API (REST rows plus the same rows as sync ops, the way a second device would send
// them); on a phone the owner imports the product catalogue and stock levels from CSV files
// through the Import page (a bad file first: rejected with its reasons, nothing imported),
// plans a market, turns the stock gap into print jobs in one step, finishes them (stock up,
// spool down), weighs the spool, goes offline, adds a spool from the bundled filament
// catalogue, sells through Sell with the market chosen (its running total in view) and
// through a scan (Chromium's fake camera shows the product's QR code), undoes one sale,
// comes back online, and reads the event report, which matches the server's own numbers
// (`/sales` with the market's id, `/products` stock, `/spools` grams). Screenshots of each
// work screen at phone and desktop size land in tests/e2e/screenshots/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";
import { qrLuma, writeY4m } from "./support/camera.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const DESKTOP = { width: 1280, height: 900 };
const EMAIL = `market-${Date.now()}@example.com`;
const PASSWORD = "market-day-password-42";
const SKU = "REX-L-BLK";
let server;
let browser;
let work;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), "printstall-market-"));
  server = await startServer();
  // The camera at the stall shows a QR code of the product's SKU (a code the shop printed
  // itself; the scanner resolves SKUs as it does barcodes and our own labels).
  writeY4m(join(work, "rex.y4m"), qrLuma(SKU));
  browser = await launchBrowser({ fakeCamera: join(work, "rex.y4m") });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A UUIDv7 (time-ordered), as devices make them. */
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

/** Pushes entity.set ops as a device of the seeding script would. */
async function push(token, bodies) {
  const device = uuidv7();
  const ops = bodies.map((body, i) => ({
    op_id: uuidv7(),
    device_id: device,
    client_seq: i + 1,
    hlc: { wall_ms: Date.now(), counter: i, device_id: device },
    body,
  }));
  const out = await call("POST", "/sync/push", token, { protocol: 1, device_id: device, ops });
  for (const r of out.results) assert.equal(r.status, "applied", JSON.stringify(r));
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

const pending = (page) => page.getByTestId("pending-count").getAttribute("data-count");
const synced = (page) => waitFor("the outbox to empty", async () => (await pending(page)) === "0" || (await pending(page)));

/** What the printer side has: one PLA filament, one spool (1 kg for €20.00), a model and
 *  its sliced variant (40 g, 1 h per plate of 2). The products come from the CSV import. */
async function seed(token) {
  const ids = { filament: uuidv7(), spool: uuidv7(), model: uuidv7(), variant: uuidv7() };
  const filament = {
    brand: "Prusament",
    material: "pla",
    colour: { name: "Galaxy Black", hex: "#1c1c1e", multi_hexes: [] },
    diameter: "1.75",
    density_mg_cm3: 1240,
    net_weight_cg: 100000,
    empty_spool_cg: 20000,
    price_per_spool: 2500,
  };
  const model = { name: "Rex the dinosaur", source_site: "own", licence: { name: "Own design", allows_selling: true } };
  const variant = {
    model_id: ids.model,
    name: "Large",
    parts_per_plate: 2,
    print_time_s: 3600,
    filament_needs: [{ filament_id: ids.filament, per_unit_cg: 4000 }],
  };
  // The REST rows the product and spool rows refer to.
  await call("POST", "/filaments", token, { id: ids.filament, ...filament });
  await call("POST", "/models", token, { id: ids.model, ...model });
  await call("POST", "/variants", token, { id: ids.variant, ...variant });
  const set = (entity, id, fields) => ({ kind: "entity.set.v1", entity, id, fields });
  await push(token, [
    set("filament", ids.filament, filament),
    set("model", ids.model, model),
    set("variant", ids.variant, variant),
    set("spool", ids.spool, {
      filament_id: ids.filament,
      initial_net_cg: 100000,
      price_paid: 2000,
      location: "Shelf A",
    }),
  ]);
  return ids;
}

// The product catalogue as a spreadsheet saves it: UTF-8 with a byte-order mark,
// semicolons and decimal commas. The first version has a typo in a price.
const PRODUCTS_BAD = `\uFEFFsku;name;price;unit_cost;barcode;location;low_stock_threshold;tags;active
${SKU};Rex the dinosaur;15,00;;;Box 1;3;dino|kids;true
KEY-DRG;Dragon keychain;5,x0;;;Box 2;;kids;true
`;
const PRODUCTS = PRODUCTS_BAD.replace("5,x0", "5,00");
const STOCK = `sku,name,on_hand
${SKU},Rex the dinosaur,2
KEY-DRG,Dragon keychain,10
`;

/** Picks `text` as the file of the import form and previews it. */
async function previewCsv(page, kind, name, text) {
  await page.getByTestId("csv-kind").selectOption(kind);
  await page.getByTestId("csv-file").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text, "utf8") });
  await page.getByTestId("csv-preview-button").click();
  const outcome = page.getByTestId("csv-outcome");
  await outcome.waitFor();
  return outcome;
}

const isoDay = (d) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

async function shoot(page, name) {
  // Let fonts and layout settle on the data shown (no timers: the next frame).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}


test("market day: import, plan, print the gap, sell offline and by scan, and the report matches the server", async () => {
  const reg = await fetch(`${server.url}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      email: EMAIL,
      password: PASSWORD,
      display_name: "Ada",
      shop: { name: "Ada's Prints", currency: "EUR", time_zone: "Europe/Berlin", tax_rate_bp: 1900, prices_include_tax: true },
    }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  const token = (await reg.json()).access_token;
  const ids = await seed(token);

  const context = await browser.newContext({ viewport: PHONE });
  await context.grantPermissions(["camera"], { origin: server.url });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // Import the product catalogue through the Import page (More, Import).
  await page.locator(".bottom-nav").getByText("More").click();
  await page.getByRole("link", { name: /^Import/ }).click();
  await page.getByRole("heading", { name: "Import", exact: true }).waitFor();
  // A file with a bad price: the preview says which line and why, and Apply stays off.
  let outcome = await previewCsv(page, "products", "catalogue.csv", PRODUCTS_BAD);
  assert.equal(await outcome.getAttribute("data-state"), "rejected");
  assert.match(await page.getByTestId("csv-rejected").textContent(), /^Line 3, price: /);
  assert.equal(await page.getByTestId("csv-apply").isDisabled(), true);
  // The corrected file: 2 products to create; nothing changes before Apply.
  outcome = await previewCsv(page, "products", "catalogue.csv", PRODUCTS);
  assert.equal(await outcome.getAttribute("data-state"), "preview");
  assert.equal(await page.getByTestId("csv-created").textContent(), "2");
  assert.equal(await page.getByTestId("csv-updated").textContent(), "0");
  assert.equal((await call("GET", "/products", token)).items.length, 0);
  await shoot(page, "import-phone");
  await page.getByTestId("csv-apply").click();
  await page.locator("[data-testid=csv-outcome][data-state=applied]").waitFor();
  assert.equal(await page.getByTestId("csv-created").textContent(), "2");
  // Stock levels, the same way (comma separated this time): counts of 2 Rex and 10 dragons.
  outcome = await previewCsv(page, "stock", "stock.csv", STOCK);
  assert.equal(await outcome.getAttribute("data-state"), "preview");
  await page.getByTestId("csv-apply").click();
  await page.locator("[data-testid=csv-outcome][data-state=applied]").waitFor();
  const imported = (await call("GET", "/products", token)).items;
  assert.deepEqual(imported.map((p) => [p.sku, p.price, p.stock.on_hand]).sort(), [["KEY-DRG", 500, 10], [SKU, 1500, 2]]);
  ids.product = imported.find((p) => p.sku === SKU).id;
  // The back office says which sliced variant makes Rex (a CSV has no column for it).
  await call("PATCH", `/products/${ids.product}`, token, { variant_id: ids.variant });

  // The dashboard, once the catalogue is pulled: Rex is low (2, threshold 3).
  await page.getByRole("link", { name: "PrintStall" }).click();
  const dashStock = page.getByTestId("dash-low-stock");
  await waitFor("the dashboard to show the pulled product", async () =>
    /Rex the dinosaur: 2 on hand/.test((await dashStock.textContent()) ?? "") || (await dashStock.textContent()),
  );

  // Plan a market today and tomorrow, €30.00 fee, and a target of 8 Rex.
  await page.locator(".bottom-nav").getByText("Events").click();
  const today = new Date();
  const tomorrow = new Date(Date.now() + 86_400_000);
  await page.getByLabel("Name", { exact: true }).fill("Advent market");
  await page.getByLabel("First day").fill(isoDay(today));
  await page.getByLabel("Last day").fill(isoDay(tomorrow));
  await page.getByLabel("Place").fill("Old town square");
  await page.getByLabel("Booth fee").fill("30.00");
  await page.getByLabel("Theme tags").fill("christmas, kids");
  await page.getByRole("button", { name: "Plan market" }).click();
  const detail = page.getByTestId("event-detail");
  await detail.getByRole("heading", { name: "Advent market" }).waitFor();
  const eventId = await detail.getAttribute("data-event-id");
  await page.getByLabel("Target for Rex the dinosaur").fill("8");
  const planRow = page.locator(`[data-testid=plan-row][data-product-id="${ids.product}"]`);
  assert.equal(await planRow.getByTestId("plan-gap").textContent(), "6");
  await page.getByTestId("save-plan").click();
  await page.getByTestId("gap-jobs").waitFor();
  // 6 missing, 2 to a plate: one job of 6 units on 3 plates (3 h).
  assert.equal(await page.getByTestId("gap-jobs").textContent(), "Rex the dinosaur × 6 (3 plates)");
  assert.match(await page.getByTestId("ready-units").textContent(), /^2 of 8$/);
  assert.match(await page.getByTestId("hours-vs-time").textContent(), /Printing needed: 3 h 00 min/);
  await shoot(page, "events-plan-phone");

  // The gap as print jobs, in one step.
  await page.getByTestId("make-jobs").click();
  await page.getByTestId("no-gap").waitFor();

  // The queue: 3 h queued, the filament covers it (240 g of 1000 g).
  await page.locator(".bottom-nav").getByText("Queue").click();
  const job = page.getByTestId("job-row").filter({ hasText: "Rex the dinosaur × 6" });
  await job.waitFor();
  assert.equal(await page.getByTestId("queue-hours").getAttribute("data-seconds"), "10800");
  const cover = page.getByTestId("coverage-row");
  assert.match(await cover.textContent(), /PLA Galaxy Black\s*240 g\s*1000 g/);
  await job.getByRole("button", { name: "Start" }).click();
  await page.locator("[data-testid=job-row][data-status=printing]").waitFor();
  await shoot(page, "queue-phone");

  // Finish it: the spool and its grams come filled in from the sliced file.
  await job.getByTestId("finish-job").click();
  const form = page.getByTestId("finish-form");
  await form.waitFor();
  assert.equal(await form.getByLabel("Grams of Prusament PLA Galaxy Black").inputValue(), "240.00");
  assert.equal(await form.getByLabel("Units of Rex the dinosaur made").inputValue(), "6");
  await form.getByTestId("confirm-outcome").click();
  await page.getByTestId("done-job").filter({ hasText: "Done" }).waitFor();
  assert.equal(await page.getByTestId("job-row").count(), 0);

  // Filament: the spool is down by 240 g; weigh it: 950 g gross less the 200 g empty spool.
  await page.locator(".bottom-nav").getByText("Stock").click();
  await page.getByRole("link", { name: "Filament", exact: true }).click();
  await page.getByRole("heading", { name: "Filament", exact: true }).waitFor();
  const spool = page.locator(`[data-testid=spool-row][data-spool-id="${ids.spool}"]`);
  await waitFor("760 g left", async () => (await spool.getByTestId("grams-left").textContent()) === "760 g" || (await spool.getByTestId("grams-left").textContent()));
  await spool.getByRole("button", { name: /^Weigh / }).click();
  await spool.getByLabel("Scale reading (g)").fill("950");
  assert.equal(await spool.getByLabel("Empty spool (g)").inputValue(), "200.00");
  assert.equal(await spool.getByTestId("weigh-result").textContent(), "Grams left: 750 g");
  await spool.getByRole("button", { name: "Record weighing" }).click();
  await waitFor("750 g left", async () => (await spool.getByTestId("grams-left").textContent()) === "750 g");
  await spool.getByRole("button", { name: /^Ledger / }).click();
  assert.match(await spool.getByTestId("spool-ledger").textContent(), /Weighed750 g left/);
  await shoot(page, "filament-phone");

  // Costs: 40 g at €20.00 a kilo is €0.80 a Rex.
  await page.getByRole("link", { name: "Costs" }).click();
  const cost = page.locator(`[data-testid=product-cost][data-product-id="${ids.product}"]`);
  await cost.waitFor();
  assert.equal(await cost.getByTestId("unit-cost").textContent(), "€0.80");
  await shoot(page, "costing-phone");

  // Everything reached the server: 8 Rex in stock, 750 g on the spool.
  await synced(page);
  const product = await call("GET", `/products/${ids.product}`, token);
  assert.equal(product.stock.on_hand, 8);
  const spoolRest = await call("GET", `/spools/${ids.spool}`, token);
  assert.equal(spoolRest.left_cg, 75000);

  // At the market, no signal. A white spool came along: added from the bundled catalogue
  // (brand, material, colour; weights, density and colour filled in), offline.
  await context.setOffline(true);
  await page.getByRole("link", { name: "Filament", exact: true }).click();
  await page.getByRole("heading", { name: "Filament", exact: true }).waitFor();
  await page.locator("#ns-cat-brand").selectOption("Polymaker");
  // Polymaker has PLA only: the material is chosen with the brand.
  assert.equal(await page.locator("#ns-cat-material").inputValue(), "pla");
  await page.locator("#ns-cat-colour").selectOption("Cotton White");
  assert.match(await page.getByTestId("catalogue-picked").last().textContent(),
    /Polymaker PLA Cotton White: 1000 g, 1\.24 g\/cm³, 1\.75 mm, nozzle 210 °C, bed 60 °C, empty spool 140 g/);
  assert.match(await page.getByTestId("spool-new-filament").textContent(), /New filament Polymaker PLA Cotton White/);
  assert.equal(await page.getByLabel("Filament on it (g)").inputValue(), "1000");
  await page.locator("#ns-location").fill("Crate 2");
  await page.getByRole("button", { name: "Add spool" }).click();
  const white = page.getByTestId("filament").filter({ hasText: "Polymaker PLA Cotton White" });
  await white.getByTestId("spool-row").waitFor();
  assert.equal(await white.getByTestId("grams-left").textContent(), "1000 g");

  // Sell: the market running today is chosen, its total always in view. 3 by card, 1 cash.
  await page.locator(".bottom-nav").getByText("Sell").click();
  await page.getByTestId("connection").filter({ hasText: "Offline" }).waitFor();
  assert.equal(await page.getByTestId("sell-event").inputValue(), eventId);
  const eventTotal = page.getByTestId("event-total");
  assert.equal(await eventTotal.getAttribute("data-event-id"), eventId);
  assert.equal(await eventTotal.textContent(), "Advent market: €0.00 · 0 sales");
  const tile = page.locator(`[data-testid=sell-product][data-product-id="${ids.product}"]`);
  const sell = async (times, payment, left) => {
    for (let i = 0; i < times; i++) await tile.click();
    await page.getByText(payment, { exact: true }).click();
    await page.getByTestId("record-sale").click();
    await waitFor(left, async () => (await tile.getByTestId("tile-stock").textContent()) === left);
  };
  await sell(3, "Card", "5 left");
  await sell(1, "Cash", "4 left");
  assert.equal(await eventTotal.textContent(), "Advent market: €60.00 · 2 sales");
  assert.equal(await pending(page), "4"); // the spool, its filament and two sales
  await shoot(page, "market-sell-phone");

  // Scan: the camera reads the QR code (the wasm decoder, offline) and sells one, for the
  // same market.
  await page.locator(".bottom-nav").getByText("Scan").click();
  await page.getByTestId("scan-start").click();
  await page.locator(`[data-testid=scan-result][data-kind=product][data-id="${ids.product}"]`).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId("scan-on-hand").textContent(), "4");
  await page.getByTestId("scan-sell-one").click();
  await page.getByTestId("scan-message").filter({ hasText: "Sold one Rex the dinosaur for €15.00 at Advent market" }).waitFor();
  await waitFor("on hand 3", async () => (await page.getByTestId("scan-on-hand").textContent()) === "3");
  await shoot(page, "market-scan-phone");

  // Back on Sell: the scan counts in the market's total. One more, rung up by mistake and
  // undone: a void (a reversing entry), not a deletion.
  await page.locator(".bottom-nav").getByText("Sell").click();
  await waitFor("the scan in the total", async () => (await eventTotal.textContent()) === "Advent market: €75.00 · 3 sales" || (await eventTotal.textContent()));
  await sell(1, "Cash", "2 left");
  assert.equal(await eventTotal.textContent(), "Advent market: €90.00 · 4 sales");
  await page.getByTestId("undo-sale").click();
  await page.getByTestId("sell-message").filter({ hasText: "Last sale undone" }).waitFor();
  await waitFor("3 left", async () => (await tile.getByTestId("tile-stock").textContent()) === "3 left");
  assert.equal(await eventTotal.textContent(), "Advent market: €75.00 · 3 sales");

  // The report already counts them on the phone, offline.
  await page.locator(".bottom-nav").getByText("Events").click();
  await page.getByTestId("event-report").waitFor();
  assert.equal(await page.getByTestId("report-gross").textContent(), "€75.00");

  // Back online: the outbox empties.
  await context.setOffline(false);
  await synced(page);

  // The report: 5 sold for €75.00 (€45.00 card, €30.00 cash), fee €30.00, cost of goods
  // 5 × €0.80, net of 19 % tax €37.82 + €12.61 + €12.61, margin €63.04 − €4.00 − €30.00 =
  // €29.04, and 3 Rex of the 8 planned to bring home.
  const report = page.getByTestId("event-report");
  assert.equal(await report.getByTestId("report-sales").textContent(), "3");
  assert.equal(await report.getByTestId("report-units").textContent(), "5");
  assert.equal(await report.getByTestId("report-gross").textContent(), "€75.00");
  assert.equal(await report.getByTestId("report-fee").textContent(), "€30.00");
  assert.equal(await report.getByTestId("report-cogs").textContent(), "€4.00");
  assert.equal(await report.getByTestId("report-margin").textContent(), "€29.04");
  assert.equal(await report.getByTestId("report-left").textContent(), "3");
  const payments = await page.getByTestId("payment-chart").textContent();
  assert.match(payments, /Cash: €30\.00/);
  assert.match(payments, /Card: €45\.00/);
  assert.match(await page.getByTestId("sales-chart").textContent(), /Advent market: €75\.00/);
  await shoot(page, "events-report-phone");

  // The server's numbers: 3 Rex left, the spool at 750 g, and the sales with the same
  // totals, each taken for the market (the undone one voided, not deleted).
  const after = await call("GET", `/products/${ids.product}`, token);
  assert.equal(after.stock.on_hand, 3);
  assert.equal((await call("GET", `/spools/${ids.spool}`, token)).left_cg, 75000);
  const sales = await call("GET", "/sales?limit=50", token);
  assert.equal(sales.items.length, 4);
  assert.ok(sales.items.every((s) => s.event_id === eventId), JSON.stringify(sales.items));
  const voided = sales.items.filter((s) => s.voided);
  assert.deepEqual(voided.map((s) => s.totals.total), [1500]);
  const live = sales.items.filter((s) => !s.voided);
  assert.equal(live.length, 3);
  assert.deepEqual(live.map((s) => s.totals.total).sort((a, b) => a - b), [1500, 1500, 4500]);
  assert.deepEqual(live.map((s) => s.payment_method).sort(), ["card", "cash", "cash"]);
  assert.equal(live.reduce((a, s) => a + s.totals.total, 0), 7500);
  // The server's net (without the 19 % tax) is the report's: €63.04.
  assert.equal(live.reduce((a, s) => a + s.totals.net, 0), 6304);

  // The dashboard: nothing queued, the market ready (8 planned, 4 on hand after selling).
  await page.getByRole("link", { name: "PrintStall" }).click();
  await page.getByTestId("dash-event").getByText("Advent market").waitFor();
  assert.match(await page.getByTestId("dash-queue").textContent(), /0 jobs · 0 h 00 min/);
  await waitFor("the dashboard's sync state", async () =>
    /Everything is sent/.test(await page.getByTestId("dash-sync").textContent()) || (await page.getByTestId("dash-sync").textContent()),
  );
  await shoot(page, "dashboard-phone");

  // The same screens at desktop size.
  await page.setViewportSize(DESKTOP);
  await shoot(page, "dashboard-desktop");
  await page.locator(".bottom-nav").getByText("Queue").click();
  await page.getByRole("heading", { name: "Print queue" }).waitFor();
  await shoot(page, "queue-desktop");
  await page.locator(".bottom-nav").getByText("Events").click();
  await page.getByTestId("event-report").waitFor();
  await shoot(page, "events-desktop");
  await page.locator(".bottom-nav").getByText("Stock").click();
  await page.getByRole("link", { name: "Filament", exact: true }).click();
  await page.getByTestId("filament-chart").waitFor();
  await shoot(page, "filament-desktop");
  await page.getByRole("link", { name: "Costs" }).click();
  await page.getByTestId("product-costs").waitFor();
  await shoot(page, "costing-desktop");
  await page.locator(".bottom-nav").getByText("Sell").click();
  await page.getByTestId("event-total").filter({ hasText: "€75.00" }).waitFor();
  await shoot(page, "market-sell-desktop");
  await page.locator(".bottom-nav").getByText("More").click();
  await page.getByRole("link", { name: /^Import/ }).click();
  await page.getByTestId("csv-columns").waitFor();
  await shoot(page, "import-desktop");

  assert.deepEqual(errors, []);
  await context.close();
});
