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

test("the Queue shows what a running job's printer reported, and finishing takes those grams once", async () => {
  const email = `queue-printer-${Date.now()}@example.com`;
  const reg = await call("POST", "/api/v1/auth/register", {
    email,
    password: PASSWORD,
    display_name: "Ada",
    shop: { name: "Ada's Prints", currency: "EUR", time_zone: "Europe/Berlin" },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const token = reg.body.access_token;
  const made = async (path, body) => {
    const r = await call("POST", path, body, token);
    assert.equal(r.status, 201, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const fil = await made("/api/v1/filaments", {
    brand: "Prusament", material: "pla", colour: { name: "Galaxy Black", hex: "#1a1a1a" },
    diameter: "1.75", density_mg_cm3: 1240, net_weight_cg: 100000, empty_spool_cg: 20000,
  });
  const spool = await made("/api/v1/spools", { filament_id: fil.id, initial_net_cg: 100000 });
  const model = await made("/api/v1/models", {
    name: "Rex", source_site: "printables", licence: { name: "CC-BY-4.0", allows_selling: true },
  });
  const variant = await made("/api/v1/variants", {
    model_id: model.id, name: "Large", parts_per_plate: 1, print_time_s: 3600,
    filament_needs: [{ filament_id: fil.id, per_unit_cg: 4000 }],
  });
  const product = await made("/api/v1/products", { sku: "REX-L", name: "Rex large", price: 1500, variant_id: variant.id });
  const printer = await made("/api/v1/printers", { name: "Voron 2.4" });
  const printerToken = await made("/api/v1/printer-tokens", { name: "Voron 2.4", printer_id: printer.id });
  const job = await made("/api/v1/print-jobs", { variant_id: variant.id, units: 2, printer_id: printer.id });
  const started = await call("POST", `/api/v1/print-jobs/${job.id}/status`, { status: "printing" }, token);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  // The printer reports as it prints (Moonraker's use in grams).
  for (const grams of [7.5, 5]) {
    const used = await call("PUT", "/spoolman/api/v1/spool/1/use", { use_weight: grams }, printerToken.token);
    assert.equal(used.status, 200, JSON.stringify(used.body));
  }

  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/queue");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();

  // Under the running job: which printer reported what.
  const row = page.locator(`[data-job-id="${job.id}"]`);
  const reported = row.getByTestId("job-printer-report");
  await reported.waitFor();
  assert.equal(await reported.textContent(), "Voron 2.4 reported 13 g of Prusament PLA Galaxy Black");

  // Finish: the printer's grams are offered and chosen; the estimate's rows are hidden.
  await row.getByTestId("finish-job").click();
  const usePrinter = row.getByTestId("use-printer-grams");
  await usePrinter.waitFor();
  assert.equal(await usePrinter.isChecked(), true);
  assert.match(await row.locator(".check-field label").textContent(), /Use what Voron 2\.4 reported: 13 g/);
  await row.getByTestId("confirm-outcome").click();
  await page.getByTestId("queue-message").filter({ hasText: "Finished" }).waitFor();

  // The server has the job done with the printer's grams as its use, taken off once.
  let done;
  for (let i = 0; i < 100; i++) {
    done = await call("GET", `/api/v1/print-jobs/${job.id}`, null, token);
    if (done.body?.status === "done") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(done.body.status, "done", JSON.stringify(done.body));
  assert.deepEqual(done.body.spools_reported, [{ spool_id: spool.id, used_cg: 1250 }]);
  assert.deepEqual(done.body.spools_used, []);
  const left = await call("GET", `/api/v1/spools/${spool.id}`, null, token);
  assert.equal(left.body.left_cg, 100000 - 1250);
  const stock = await call("GET", `/api/v1/products/${product.id}`, null, token);
  assert.equal(stock.body.stock.on_hand, 2);

  // Offline, the finish form says printer reports are not known and fills the estimate.
  const other = await made("/api/v1/print-jobs", { variant_id: variant.id, units: 1, printer_id: printer.id });
  const otherRow = page.locator(`[data-job-id="${other.id}"]`);
  await otherRow.waitFor();
  await context.setOffline(true);
  await otherRow.getByTestId("finish-job").click();
  await otherRow.getByText(/Offline: what a printer reported is not known here/).waitFor();
  assert.equal(await otherRow.getByTestId("use-printer-grams").count(), 0);
  assert.match(await otherRow.getByLabel(/^Grams of /).inputValue(), /^40(\.0+)?$/);
  await context.setOffline(false);
  assert.deepEqual(errors, []);
  await context.close();
});
