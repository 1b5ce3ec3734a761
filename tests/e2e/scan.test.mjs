// Scan and Labels end to end: Chromium's fake camera shows a generated QR label (and, in a
// second browser, an EAN-13 barcode); the app reads it with the rxing decoder compiled to
// wasm (BarcodeDetector is hidden), opens the product, sells one offline, and the server
// agrees once back online. Typed codes (Spoolman's label form included) open a spool to
// weigh. Labels are previewed and downloaded as a PDF. The real server and database.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { DESKTOP, launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";
import { ean13Luma, qrLuma, writeY4m } from "./support/camera.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const EMAIL = `scan-${Date.now()}@example.com`;
const PASSWORD = "scan-at-the-stall-42";
const EAN = "4006381333931";
let server;
let browser;
let work;
let token;
let productId;
let spoolId;
let phone; // the first phone's page, kept for the Labels test

async function api(method, path, body) {
  const answer = await fetch(server.url + "/api/v1" + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await answer.json().catch(() => null);
  assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(json)}`);
  return json;
}

function uuid7() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Another device of the shop (the back office), pushing ops like a phone does.
const office = { device: uuid7(), seq: 0 };
async function pushOps(bodies) {
  const ops = bodies.map((body) => {
    office.seq += 1;
    return { op_id: uuid7(), device_id: office.device, client_seq: office.seq, hlc: { wall_ms: Date.now(), counter: office.seq, device_id: office.device }, body };
  });
  const answer = await api("POST", "/sync/push", { protocol: 1, device_id: office.device, ops });
  for (const r of answer.results) assert.notEqual(r.status, "rejected", JSON.stringify(r));
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

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), "printstall-scan-"));
  server = await startServer();
  const reg = await fetch(`${server.url}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      email: EMAIL,
      password: PASSWORD,
      display_name: "Ada",
      shop: { name: "Ada's Prints", currency: "EUR", time_zone: "Europe/Berlin" },
    }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  token = (await reg.json()).access_token;
  const product = await api("POST", "/products", { sku: "REX-L-RED", name: "Rex the dinosaur", price: 1250, barcode: EAN });
  productId = product.id;
  await api("POST", `/products/${productId}/count`, { counted: 10 });
  const filamentFields = {
    brand: "Prusament", material: "pla", colour: { name: "Galaxy Black", hex: "#2b2b3a" },
    diameter: "1.75", density_mg_cm3: 1240, net_weight_cg: 100000, empty_spool_cg: 20000,
  };
  const filament = await api("POST", "/filaments", filamentFields);
  const spoolFields = { filament_id: filament.id, initial_net_cg: 100000, location: "Shelf B", barcode: "SPOOL-0010" };
  const spool = await api("POST", "/spools", spoolFields);
  spoolId = spool.id;
  // REST-made filaments and spools are not synced to devices yet: the back office also
  // sends them as ops (same ids), as a device would.
  await pushOps([
    { kind: "entity.set.v1", entity: "filament", id: filament.id, fields: filamentFields },
    { kind: "entity.set.v1", entity: "spool", id: spoolId, fields: spoolFields },
  ]);
  // The label our Labels screen prints for this product: PS1:P:<id in capitals>.
  writeY4m(join(work, "qr.y4m"), qrLuma(`PS1:P:${productId.toUpperCase()}`));
  writeY4m(join(work, "ean.y4m"), ean13Luma(EAN));
  browser = await launchBrowser({ fakeCamera: join(work, "qr.y4m") });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Hides BarcodeDetector (headless Chromium has none; a phone may), so the wasm decoder runs. */
function hideBarcodeDetector() {
  delete window.BarcodeDetector;
}

/** A phone signed in to the shop; `init` runs before the app in every page. */
async function signedInPhone(b, init = hideBarcodeDetector) {
  const context = await b.newContext({ viewport: PHONE });
  await context.grantPermissions(["camera"], { origin: server.url });
  await context.addInitScript(init);
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(server.url + "/sell");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const tile = page.locator(`[data-testid=sell-product][data-product-id="${productId}"]`);
  await waitFor("the product to be pulled", async () => (await tile.count()) === 1);
  return { context, page, errors, requests };
}

const scannerLoads = (requests) => requests.filter((p) => /\/assets\/scanner-[0-9a-f]+\.wasm$/.test(p)).length;

test("the camera reads a QR label with the wasm decoder, offline, and sells one", async () => {
  phone = await signedInPhone(browser);
  const { context, page, errors, requests } = phone;
  // The first screens never fetch the decoder.
  assert.equal(scannerLoads(requests), 0, requests.join("\n"));

  await context.setOffline(true);
  await page.locator(".bottom-nav").getByText("Scan").click();
  await page.getByTestId("scan-start").click();
  const result = page.locator(`[data-testid=scan-result][data-kind=product][data-id="${productId}"]`);
  await result.waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId("scan-state").getAttribute("data-decoder"), "rxing");
  assert.equal(scannerLoads(requests), 1, "the decoder loads once, when Scan opens");
  assert.match(await page.getByTestId("scan-code").textContent(), /PS1:P:.*\(qr code\)/);
  assert.equal(await page.getByTestId("scan-name").textContent(), "Rex the dinosaur");
  assert.equal(await page.getByTestId("scan-on-hand").textContent(), "10");

  await page.getByTestId("scan-sell-one").click();
  await waitFor("on hand 9", async () => (await page.getByTestId("scan-on-hand").textContent()) === "9");
  await page.getByTestId("scan-message").filter({ hasText: "Sold one Rex the dinosaur for €12.50" }).waitFor();
  assert.equal(await page.getByTestId("pending-count").getAttribute("data-count"), "1");
  await page.screenshot({ path: join(SCREENSHOTS, "scan-phone.png") });

  // A typed code: Spoolman's label form with this spool's id opens the spool; weigh it.
  await page.getByTestId("scan-code-input").fill(`WEB+SPOOLMAN:S-${spoolId}`);
  await page.getByTestId("scan-lookup").click();
  await page.locator(`[data-testid=scan-result][data-kind=spool][data-id="${spoolId}"]`).waitFor();
  assert.equal(await page.getByTestId("scan-grams-left").textContent(), "1000 g");
  assert.match(await page.getByTestId("scan-name").textContent(), /Prusament PLA Galaxy Black/);
  await page.getByTestId("scan-weigh-input").fill("700");
  await page.getByTestId("scan-weigh").click();
  await waitFor("500 g left", async () => (await page.getByTestId("scan-grams-left").textContent()) === "500 g");

  // Typed barcode (the product's EAN), and a code nobody has.
  await page.getByTestId("scan-code-input").fill(EAN);
  await page.getByTestId("scan-lookup").click();
  await result.waitFor();
  assert.equal(await page.getByTestId("scan-on-hand").textContent(), "9");
  await page.getByTestId("scan-code-input").fill("NO-SUCH-CODE");
  await page.getByTestId("scan-lookup").click();
  await page.getByTestId("scan-not-found").filter({ hasText: "no product or spool has the code `NO-SUCH-CODE`" }).waitFor();

  // Back online: the sale and the weighing reach the server.
  await context.setOffline(false);
  await waitFor("the outbox to empty", async () => (await page.getByTestId("pending-count").getAttribute("data-count")) === "0");
  const after = await api("GET", `/products/${productId}`);
  assert.equal(after.stock.on_hand, 9);
  const spool = await api("GET", `/spools/${spoolId}`);
  assert.equal(spool.left_cg, 50000);

  await page.setViewportSize(DESKTOP);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.getByTestId("scan-code-input").fill(EAN);
  await page.getByTestId("scan-lookup").click();
  await result.waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, "scan-desktop.png") });
  await page.setViewportSize(PHONE);
  assert.deepEqual(errors, []);
});

test("the camera reads an EAN-13 barcode with the wasm decoder", async () => {
  const eanBrowser = await launchBrowser({ fakeCamera: join(work, "ean.y4m") });
  try {
    const { page, errors } = await signedInPhone(eanBrowser);
    await page.locator(".bottom-nav").getByText("Scan").click();
    await page.getByTestId("scan-start").click();
    await page.locator(`[data-testid=scan-result][data-kind=product][data-id="${productId}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("scan-state").getAttribute("data-decoder"), "rxing");
    assert.match(await page.getByTestId("scan-code").textContent(), new RegExp(`${EAN} \\(ean 13\\)`));
    assert.deepEqual(errors, []);
  } finally {
    await eanBrowser.close();
  }
});

test("where the browser has BarcodeDetector, it reads the camera and the wasm decoder is never fetched", async () => {
  // A stand-in for a phone's BarcodeDetector: it "sees" the product's SKU on a Code 128 label.
  const { context, page, errors, requests } = await signedInPhone(browser, () => {
    window.BarcodeDetector = class {
      static async getSupportedFormats() {
        return ["qr_code", "ean_13", "code_128", "aztec"];
      }
      constructor(options) {
        window.detectorFormats = options.formats;
      }
      async detect(source) {
        return source.videoWidth > 0 ? [{ rawValue: "REX-L-RED", format: "code_128" }] : [];
      }
    };
  });
  await page.locator(".bottom-nav").getByText("Scan").click();
  await page.getByTestId("scan-start").click();
  await page.locator(`[data-testid=scan-result][data-kind=product][data-id="${productId}"]`).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId("scan-state").getAttribute("data-decoder"), "barcode-detector");
  assert.deepEqual(await page.evaluate(() => window.detectorFormats), ["qr_code", "ean_13", "code_128"]);
  assert.match(await page.getByTestId("scan-code").textContent(), /REX-L-RED \(code 128\)/);
  assert.equal(scannerLoads(requests), 0, "the rxing module stays unloaded");
  assert.deepEqual(errors, []);
  await context.close();
});

test("labels are previewed and downloaded as a PDF at the chosen size", async () => {
  const { page, errors } = phone;
  await page.getByTestId("scan-code-input").fill(EAN);
  await page.getByTestId("scan-lookup").click();
  await page.getByRole("link", { name: "Print its label" }).click();
  await page.waitForURL(/\/labels\?product=/);
  const preview = page.getByTestId("label-preview");
  await preview.locator("svg").first().waitFor();
  assert.equal(await preview.locator("svg").first().getAttribute("width"), "50mm");
  assert.match(await preview.textContent(), /1 label on 1 page · 50 × 25 mm label/);
  assert.match(await preview.locator("svg").first().textContent(), /dinosaur/);
  await page.screenshot({ path: join(SCREENSHOTS, "labels-phone.png") });

  // Also the spool, on an A4 sheet, as price tags.
  await page.locator(`[data-testid=label-pick][data-id="${spoolId}"]`).check();
  await page.getByTestId("label-media").selectOption("a4");
  await page.getByTestId("label-style").selectOption("price_tag");
  await waitFor("the A4 preview", async () => (await preview.locator("svg").first().getAttribute("width")) === "210mm");
  assert.match(await preview.textContent(), /2 labels on 1 page · A4 sheet/);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("label-pdf").click()]);
  assert.equal(download.suggestedFilename(), "labels-a4.pdf");
  const pdf = readFileSync(await download.path()).toString("latin1");
  assert.ok(pdf.startsWith("%PDF-1.4"));
  assert.match(pdf, /\/MediaBox \[0 0 595\.276 841\.89\]/);
  assert.match(pdf, /dinosaur\) Tj/);
  assert.match(pdf, /%%EOF\n$/);

  await page.setViewportSize(DESKTOP);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, "labels-desktop.png") });
  assert.deepEqual(errors, []);
  await phone.context.close();
});
