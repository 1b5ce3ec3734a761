// Models → "Add a variant from a sliced file": a file picked in Chromium is parsed in wasm by
// printstall-core, offline, reading only the byte ranges it needs, and fills the form.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const FIXTURES = resolve(import.meta.dirname, "../../../shared/fixtures/slicefiles");
const fixture = (name) => join(FIXTURES, name);

let server;
let browser;
let scratch;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), "printstall-models-"));
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function openModels(viewport = PHONE) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.url}/models`);
  await page.getByRole("heading", { name: "Add a variant from a sliced file" }).waitFor();
  return { context, page, errors };
}

/// Picks a file and waits until the form shows it, or an error names it.
async function pick(page, path) {
  const name = path.split("/").pop();
  await page.getByLabel("Sliced file (.gcode, .bgcode, .3mf)").setInputFiles(path);
  await page.locator(`form[data-file="${name}"], [role=alert]:has-text("${name}")`).first().waitFor();
}

const value = (page, label) => page.getByLabel(label, { exact: true }).inputValue();

async function thumbnail(page) {
  const img = page.getByTestId("slice-thumbnail");
  await img.waitFor();
  return img.evaluate(async (el) => {
    await el.decode();
    return { src: el.getAttribute("src"), width: el.naturalWidth, height: el.naturalHeight, alt: el.alt };
  });
}

test("a PrusaSlicer .bgcode fills the variant form with its thumbnail, on a phone", async () => {
  const { context, page, errors } = await openModels();
  const input = page.getByLabel("Sliced file (.gcode, .bgcode, .3mf)");
  assert.equal(await input.getAttribute("accept"), ".gcode,.bgcode,.3mf");

  await pick(page, fixture("prusaslicer_2.9.2_xl5is_5tool.bgcode"));
  const form = page.getByRole("form", { name: "New variant" });
  await form.waitFor();
  assert.equal(await value(page, "Variant name"), "prusaslicer_2.9.2_xl5is_5tool");
  assert.equal(await value(page, "Printer"), "XL5IS");
  assert.equal(await value(page, "Print time"), "57s");
  assert.equal(await page.getByLabel("Print time").getAttribute("data-seconds"), "57");
  assert.equal(await value(page, "Layer height (mm)"), "0.2");
  const filament = page.getByLabel("Filament 1 · PETG · Generic PETG @XL - Cooler (235oC) (colour #FF8000), grams");
  assert.equal(await filament.inputValue(), "0.2");
  const swatch = await page.locator(".filament .swatch").first().evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(swatch, "rgb(255, 128, 0)");
  assert.equal(await page.getByTestId("filament-total").textContent(), "Total 0.2 g");
  assert.match(await page.getByTestId("slice-source").textContent(), /^Sliced with PrusaSlicer 2\.9\.2\. Read on this device: /);

  // The best thumbnail is the 380×285 PNG block, shown from a blob: URL.
  const thumb = await thumbnail(page);
  assert.ok(thumb.src.startsWith("blob:"), thumb.src);
  assert.deepEqual([thumb.width, thumb.height], [380, 285]);

  // Every control has a label and is at least 44 px high.
  const unlabeled = await page.locator("form input, #slice-file").evaluateAll((els) =>
    els.filter((el) => !el.labels || el.labels.length === 0).map((el) => el.id),
  );
  assert.deepEqual(unlabeled, []);
  const small = await page.locator("form input, #slice-file").evaluateAll((els) =>
    els.filter((el) => el.getBoundingClientRect().height < 44).map((el) => el.id),
  );
  assert.deepEqual(small, []);

  await page.screenshot({ path: join(SCREENSHOTS, "models-variant-from-bgcode-phone.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a Bambu .gcode.3mf picked offline fills filaments with colours and its plate", async () => {
  const { context, page, errors } = await openModels();
  await context.setOffline(true);
  await pick(page, fixture("bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf"));
  assert.equal(await value(page, "Variant name"), "bambustudio_1.7.6_sliced_plate_RECONSTRUCTED");
  assert.equal(await value(page, "Printer"), "Bambu Lab X1 Carbon");
  assert.equal(await value(page, "Print time"), "2h 4m 35s");
  assert.equal(await value(page, "Layer height (mm)"), "0.28");
  const rows = await page.locator(".filament").evaluateAll((els) =>
    els.map((el) => [el.dataset.color, el.querySelector("input").value]),
  );
  assert.deepEqual(rows, [
    ["#84620D", "13.81"],
    ["#FFFFFF", "19.66"],
    ["#C00D1E", "2.98"],
    ["#00AE42", "2.99"],
  ]);
  assert.equal(await page.getByLabel("Filament 10 · PLA · Bambu PLA Basic @BBL X1C (colour #00AE42), grams").inputValue(), "2.99");
  const plates = page.getByRole("table", { name: "Plates" });
  assert.deepEqual(await plates.locator("tbody tr").first().locator("th, td").allTextContents(), ["1", "2h 4m 35s", "39.43 g"]);
  const thumb = await thumbnail(page);
  assert.deepEqual([thumb.width, thumb.height], [512, 512]);
  await page.screenshot({ path: join(SCREENSHOTS, "models-variant-from-bambu-3mf-phone.png"), fullPage: true });
  await context.setOffline(false);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a damaged file shows one clear error and the next pick replaces it", async () => {
  const { context, page, errors } = await openModels();
  const bad = join(scratch, "broken.bgcode");
  const good = readFileSync(fixture("prusaslicer_2.9.2_xl5is_5tool.bgcode"));
  closeSync(openSync(bad, "w"));
  const fd = openSync(bad, "w");
  writeSync(fd, good.subarray(0, 40));
  closeSync(fd);
  await pick(page, bad);
  const alert = page.getByRole("alert");
  assert.match(await alert.textContent(), /^broken\.bgcode: /);
  await pick(page, fixture("cura_4.10_marlin.gcode"));
  await page.getByRole("form", { name: "New variant" }).waitFor();
  assert.equal(await alert.count(), 0);
  assert.equal(await value(page, "Variant name"), "cura_4.10_marlin");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a QOI-only Cura file shows its thumbnail, decoded in wasm and drawn on a canvas", async () => {
  const { context, page, errors } = await openModels();
  await pick(page, fixture("cura_4.13.1_duetplugin_qoi_thumbs.gcode"));
  assert.equal(await value(page, "Variant name"), "cura_4.13.1_duetplugin_qoi_thumbs");
  assert.equal(await value(page, "Print time"), "1h 9m 59s");
  assert.equal(await value(page, "Layer height (mm)"), "0.15");
  const thumb = await thumbnail(page);
  assert.ok(thumb.src.startsWith("data:image/png;base64,"), thumb.src.slice(0, 40));
  assert.deepEqual([thumb.width, thumb.height], [128, 128]);
  assert.equal(await page.getByTestId("thumbnail-note").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

/// A big G-code made of a real file's head, its body repeated, and its tail.
function makeBigGcode(source, target, size) {
  const original = readFileSync(source);
  const headEnd = original.lastIndexOf(10, 100_000) + 1;
  const tailStart = original.indexOf(10, original.length - 200_000) + 1;
  const body = original.subarray(headEnd, tailStart);
  const fd = openSync(target, "w");
  writeSync(fd, original.subarray(0, headEnd));
  let written = headEnd;
  while (written + body.length < size) {
    writeSync(fd, body);
    written += body.length;
  }
  writeSync(fd, original.subarray(tailStart));
  closeSync(fd);
  return statSync(target).size;
}

test("a 100 MB G-code is parsed from its head and tail only, like the original", async (t) => {
  const source = fixture("prusaslicer_2.6.0_mini_cube.gcode");
  const big = join(scratch, "mini_cube_100mb.gcode");
  const size = makeBigGcode(source, big, 100 * 1000 * 1000);
  const { context, page, errors } = await openModels();

  await pick(page, source);
  const original = {
    printer: await value(page, "Printer"),
    time: await value(page, "Print time"),
    grams: await page.locator(".filament input").evaluateAll((els) => els.map((el) => el.value)),
  };
  assert.ok(original.time !== "" && original.grams.length > 0, JSON.stringify(original));

  await pick(page, big);
  await page.getByRole("form", { name: "New variant" }).waitFor();
  assert.equal(await value(page, "Variant name"), "mini_cube_100mb");
  assert.deepEqual(
    {
      printer: await value(page, "Printer"),
      time: await value(page, "Print time"),
      grams: await page.locator(".filament input").evaluateAll((els) => els.map((el) => el.value)),
    },
    original,
  );
  const stats = await page.getByTestId("slice-source").textContent();
  const m = stats.match(/Read on this device: ([\d.]+) (KB|MB) of ([\d.]+) MB in (\d+) ms/);
  assert.ok(m, stats);
  const readBytes = Number(m[1]) * (m[2] === "MB" ? 1e6 : 1e3);
  assert.ok(readBytes < 3e6, `read ${readBytes} bytes of ${size}`);
  t.diagnostic(`browser parse of a ${(size / 1e6).toFixed(0)} MB G-code: ${m[4]} ms, read ${m[1]} ${m[2]}`);
  assert.deepEqual(errors, []);
  await context.close();
});

async function call(method, path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(server.url + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: answer.status, body: await answer.json().catch(() => null) };
}

test("a variant saved from a sliced file offline shows in the Models list and reaches the server", async () => {
  const email = `models-${Date.now()}@example.com`;
  const password = "owner-of-the-stall-42";
  const reg = await call("POST", "/api/v1/auth/register", {
    email,
    password,
    display_name: "Ada",
    shop: { name: "Ada's Prints", currency: "EUR", time_zone: "Europe/Berlin" },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const token = reg.body.access_token;
  // The shop's white PLA: the file's #FFFFFF PLA filament matches it, its others do not.
  const white = await call("POST", "/api/v1/filaments", {
    brand: "Bambu", material: "pla", colour: { name: "Jade White", hex: "#FFFFFF" },
    diameter: "1.75", density_mg_cm3: 1240, net_weight_cg: 100000, empty_spool_cg: 20000,
  }, token);
  assert.equal(white.status, 201, JSON.stringify(white.body));

  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/filament");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // The filament has synced to this device.
  await page.locator(`[data-filament-id="${white.body.id}"]`).waitFor();
  await page.getByRole("link", { name: "Models" }).first().click();
  await page.getByRole("heading", { name: "Add a variant from a sliced file" }).waitFor();
  await page.getByTestId("model-list").waitFor();

  await context.setOffline(true);
  await pick(page, fixture("bambustudio_1.7.6_sliced_plate_RECONSTRUCTED.gcode.3mf"));
  const form = page.getByRole("form", { name: "New variant" });
  await form.waitFor();
  assert.equal(await page.getByLabel("Model", { exact: true }).inputValue(), "new");
  await page.getByLabel("New model's name", { exact: true }).fill("Calibration plate");
  await page.getByLabel("Licence", { exact: true }).fill("CC-BY-4.0");
  await page.getByLabel("Selling prints", { exact: true }).selectOption("yes");
  await page.getByLabel("Variant name", { exact: true }).fill("0.28 mm, four colours");
  await page.getByRole("button", { name: "Save variant" }).click();
  await page.getByTestId("variant-saved").waitFor();

  // Listed under its new model from the local store, offline, and the upload targets it.
  const row = page.getByTestId("model-row").filter({ hasText: "Calibration plate" });
  const variant = row.getByTestId("model-variant").filter({ hasText: "0.28 mm, four colours" });
  await variant.waitFor();
  assert.match(await variant.textContent(), /2 h 05 min per plate of 1 · 20 g a unit/);
  assert.equal(await row.getByTestId("no-selling").count(), 0);
  const id = await variant.getAttribute("data-variant-id");
  assert.equal(await page.locator("#upload-variant").inputValue(), id);
  await page.screenshot({ path: join(SCREENSHOTS, "models-variant-saved-offline-phone.png"), fullPage: true });

  // Back online, it syncs: the server lists the variant and its model.
  await context.setOffline(false);
  let got;
  for (let i = 0; i < 100; i += 1) {
    const r = await call("GET", `/api/v1/variants/${id}`, null, token);
    if (r.status === 200) {
      got = r.body;
      break;
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  assert.ok(got, "the variant reached the server");
  const listed = await call("GET", "/api/v1/variants", null, token);
  assert.ok(listed.body.items.some((v) => v.id === id), JSON.stringify(listed.body));
  assert.equal(got.name, "0.28 mm, four colours");
  assert.equal(got.print_time_s, 7475);
  assert.equal(got.parts_per_plate, 1);
  assert.equal(got.slicer_settings.layer_height, "0.28");
  assert.equal(got.slicer_settings.printer_profile, "Bambu Lab X1 Carbon");
  assert.deepEqual(got.filament_needs, [{ filament_id: white.body.id, per_unit_cg: 1966 }]);
  const kept = Object.keys(got.slicer_settings).filter((k) => /^filament_\d+_g$/.test(k));
  assert.equal(kept.length, 3, JSON.stringify(got.slicer_settings));
  const model = await call("GET", `/api/v1/models/${got.model_id}`, null, token);
  assert.equal(model.status, 200, JSON.stringify(model.body));
  assert.equal(model.body.name, "Calibration plate");
  assert.deepEqual(model.body.licence, { name: "CC-BY-4.0", allows_selling: true });
  // A second variant of the same file goes to the model just made.
  assert.equal(await page.getByLabel("Model", { exact: true }).inputValue(), got.model_id);
  assert.deepEqual(errors, []);
  await context.close();
});
