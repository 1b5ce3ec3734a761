// Print history from printers: a printer reports filament use through the Spoolman API
// (as Moonraker does); the Printers page, opened from the Queue's header, lists it under
// the printer's name, and says so plainly when the device is offline. The real server and
// database.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const EMAIL = `printers-${Date.now()}@example.com`;
const PASSWORD = "owner-of-the-stall-42";
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function call(method, path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: answer.status, body: await answer.json().catch(() => null) };
}

test("the Printers page lists what each printer reported, and says when it cannot", async () => {
  const reg = await call("POST", "/api/v1/auth/register", {
    email: EMAIL,
    password: PASSWORD,
    display_name: "Ada",
    shop: { name: "Ada's Prints", currency: "EUR", time_zone: "Europe/Berlin" },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const token = reg.body.access_token;
  const fil = await call("POST", "/api/v1/filaments", {
    brand: "Prusament", material: "pla", colour: { name: "Galaxy Black", hex: "#1a1a1a" },
    diameter: "1.75", density_mg_cm3: 1240, net_weight_cg: 100000, empty_spool_cg: 20000,
  }, token);
  assert.equal(fil.status, 201, JSON.stringify(fil.body));
  const spool = await call("POST", "/api/v1/spools", { filament_id: fil.body.id, initial_net_cg: 100000 }, token);
  assert.equal(spool.status, 201, JSON.stringify(spool.body));
  const printer = await call("POST", "/api/v1/printers", { name: "Voron 2.4" }, token);
  assert.equal(printer.status, 201, JSON.stringify(printer.body));
  const made = await call("POST", "/api/v1/printer-tokens", { name: "Voron 2.4", printer_id: printer.body.id }, token);
  assert.equal(made.status, 201, JSON.stringify(made.body));

  // What Moonraker sends: the spool list, then a use in grams.
  const listed = await call("GET", "/spoolman/api/v1/spool", null, made.body.token);
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  const used = await call("PUT", `/spoolman/api/v1/spool/${listed.body[0].id}/use`, { use_weight: 12.5 }, made.body.token);
  assert.equal(used.status, 200, JSON.stringify(used.body));

  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/queue");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email", { exact: true }).fill(EMAIL);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("link", { name: "What printers reported" }).click();

  // The synced printer's name (local store) and its report (from the server).
  await page.getByTestId("printer-names").filter({ hasText: "Voron 2.4" }).waitFor();
  const report = page.locator('[data-printer="Voron 2.4"] [data-testid="printer-report"]');
  await report.first().waitFor();
  assert.equal(await report.count(), 1);
  const text = await report.first().textContent();
  assert.match(text, /Prusament PLA Galaxy Black/);
  assert.match(text, /13 g/);

  // Offline: a clear message instead of the list.
  await context.setOffline(true);
  await page.getByTestId("printers-offline").waitFor();
  assert.match(await page.getByTestId("printers-offline").textContent(), /shown when this device is online/);
  await context.setOffline(false);
  await report.first().waitFor();

  // Also reachable from More.
  await page.goto(server.url + "/more");
  await page.getByRole("link", { name: /Printers/ }).click();
  await report.first().waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
