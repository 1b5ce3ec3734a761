// The Import page with Spoolman's export files: a preview (what would be created), Apply,
// and the imported spools on the phone's Filament page after the sync that follows; a
// second import of the same files only updates; offline, the page says importing needs a
// connection. The CSV side is driven by market_day.test.mjs. The real server and database.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const EMAIL = `import-${Date.now()}@example.com`;
const PASSWORD = "import-the-shelf-42";
let server;
let browser;
let token;

// Spoolman's exports (`/api/v1/export/{vendors,filaments,spools}?fmt=json`), trimmed.
const VENDORS = [{ id: 3, name: "Polymaker", empty_spool_weight: 140.0 }];
const FILAMENTS = [
  {
    id: 7, name: "PolyTerra Charcoal Black", vendor_id: 3, material: "PLA", price: 19.99, density: 1.24,
    diameter: 1.75, weight: 1000.0, color_hex: "1A1A1AFF", "vendor.id": 3, "vendor.name": "Polymaker",
  },
];
const SPOOLS = [
  { id: 12, filament_id: 7, price: 18.5, initial_weight: 1000.0, spool_weight: 140.0, used_weight: 250.0,
    location: "Shelf A", lot_nr: "LOT-42", archived: false, "filament.id": 7 },
];

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

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
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
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const file = (name, value) => ({ name, mimeType: "application/json", buffer: Buffer.from(JSON.stringify(value)) });

test("Spoolman's export files: preview, apply, and the spools reach the phone", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/import");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Import", exact: true }).waitFor();
  await page.getByTestId("sm-preview-button").waitFor();

  await page.getByLabel("Vendors export").setInputFiles(file("vendors.json", VENDORS));
  await page.getByLabel("Filaments export").setInputFiles(file("filaments.json", FILAMENTS));
  await page.getByLabel("Spools export").setInputFiles(file("spools.json", SPOOLS));
  await page.getByTestId("sm-preview-button").click();
  const outcome = page.locator("[data-testid=sm-outcome][data-state=preview]");
  await outcome.waitFor();
  assert.equal(await page.getByTestId("sm-filaments-created").textContent(), "1");
  assert.equal(await page.getByTestId("sm-spools-created").textContent(), "1");
  // A preview changes nothing.
  assert.equal((await api("GET", "/spools")).items.length, 0);
  await page.getByTestId("sm-apply").click();
  await page.locator("[data-testid=sm-outcome][data-state=applied]").waitFor();
  const [spool] = (await api("GET", "/spools")).items;
  assert.equal(spool.left_cg, 75000);
  assert.equal(spool.barcode, "web+spoolman:s-12");

  // The sync after Apply brings the spool to this phone: 750 g left of 1000 g.
  await page.locator(".bottom-nav").getByText("More").click();
  await page.getByRole("link", { name: /^Filament and spools/ }).click();
  const row = page.locator(`[data-testid=spool-row][data-spool-id="${spool.id}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId("grams-left").textContent(), "750 g");
  assert.match(await page.getByTestId("filament").first().textContent(), /Polymaker/);

  // The same files again: updates, never duplicates.
  await page.locator(".bottom-nav").getByText("More").click();
  await page.getByRole("link", { name: /^Import/ }).click();
  await page.getByLabel("Vendors export").setInputFiles(file("vendors.json", VENDORS));
  await page.getByLabel("Filaments export").setInputFiles(file("filaments.json", FILAMENTS));
  await page.getByLabel("Spools export").setInputFiles(file("spools.json", SPOOLS));
  await page.getByTestId("sm-preview-button").click();
  await outcome.waitFor();
  assert.match(await outcome.textContent(), /Filaments: 0 to create, 1 to update · Spools: 0 to create, 1 to update/);
  await page.screenshot({ path: join(SCREENSHOTS, "import-spoolman-phone.png"), fullPage: true });

  // Offline: a clear message, and nothing to press.
  await context.setOffline(true);
  await page.getByTestId("import-offline").waitFor();
  assert.equal(await page.getByTestId("sm-preview-button").isDisabled(), true);
  assert.equal(await page.getByTestId("csv-preview-button").isDisabled(), true);
  await context.setOffline(false);

  assert.deepEqual(errors, []);
  await context.close();
});
