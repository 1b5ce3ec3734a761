// Uploads from the app: a file picked on the Models page waits in IndexedDB while the phone
// is offline (even across a reload), goes up straight to the file store through presigned
// URLs when the connection comes back (in parts when it is large), and the server's checked
// file shows under the variant. The real server, its local file store, Debian's Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const FIXTURES = resolve(import.meta.dirname, "../../../shared/fixtures/slicefiles");
const BGCODE = join(FIXTURES, "prusaslicer_2.9.2_xl5is_5tool.bgcode");
const PASSWORD = "upload-day-password-42";

let server;
let browser;
let scratch;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), "printstall-upload-"));
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function waitFor(label, fn, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function api(method, path, token, body) {
  const answer = await fetch(server.url + "/api/v1" + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}

/// A phone with a new shop, signed in through the app, and a model with one variant made
/// through the API. Returns the page on the Models screen.
async function shopWithVariant(email) {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/sell");
  await page.getByTestId("sign-in").waitFor();
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Your name").fill("Ada");
  await page.getByLabel("Shop name").fill("Ada's Prints");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByTestId("sync-status").waitFor();
  await untilServiceWorkerControls(page);

  const signIn = await fetch(`${server.url}/api/v1/auth/sign-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const token = (await signIn.json()).access_token;
  const filament = await api("POST", "/filaments", token, {
    brand: "Prusament", material: "pla", colour: { name: "Orange", hex: "#FF8000" },
    diameter: "1.75", density_mg_cm3: 1240, net_weight_cg: 100000, empty_spool_cg: 20000, price_per_spool: 2499,
  });
  assert.equal(filament.status, 201, JSON.stringify(filament.body));
  const model = await api("POST", "/models", token, {
    name: "Rex", source_site: "own", licence: { name: "own", allows_selling: true },
  });
  assert.equal(model.status, 201, JSON.stringify(model.body));
  const variant = await api("POST", "/variants", token, {
    model_id: model.body.id, name: "Large", parts_per_plate: 1, print_time_s: 60,
    filament_needs: [{ filament_id: filament.body.id, per_unit_cg: 100 }],
  });
  assert.equal(variant.status, 201, JSON.stringify(variant.body));

  await page.locator(".bottom-nav").getByText("Models").click();
  await page.getByRole("heading", { name: "Add a variant from a sliced file" }).waitFor();
  await page.locator(`#upload-variant option[value="${variant.body.id}"]`).waitFor({ state: "attached" });
  assert.equal(await page.getByLabel("Variant to upload to").inputValue(), variant.body.id);
  return { context, page, errors, token, modelId: model.body.id, variantId: variant.body.id };
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

test("a sliced file queued offline survives a reload and uploads when the connection comes back", async () => {
  const { context, page, errors, token, variantId } = await shopWithVariant(`up-${Date.now()}@example.com`);
  await page.getByTestId("no-variant-files").waitFor();

  await page.getByLabel("Sliced file (.gcode, .bgcode, .3mf)").setInputFiles(BGCODE);
  await page.getByRole("form", { name: "New variant" }).waitFor();

  // No signal: the file is kept on the phone, waiting.
  await context.setOffline(true);
  await page.getByRole("button", { name: "Upload the sliced file to this variant" }).click();
  const row = page.locator('[data-testid=pending-upload][data-file="prusaslicer_2.9.2_xl5is_5tool.bgcode"]');
  await row.waitFor();
  await waitFor("the upload to wait for the connection", async () =>
    (await row.getAttribute("data-state")) === "waiting" || (await row.getAttribute("data-state")),
  );
  assert.match(await row.textContent(), /Waiting for the connection/);
  const bar = row.getByRole("progressbar", { name: "Upload of prusaslicer_2.9.2_xl5is_5tool.bgcode" });
  assert.equal(await bar.getAttribute("max"), String(readFileSync(BGCODE).length));
  await page.screenshot({ path: join(SCREENSHOTS, "upload-waiting-offline-phone.png"), fullPage: true });

  // The app is closed and opened again, still offline: the file is still waiting (IndexedDB).
  await page.reload();
  await page.getByRole("heading", { name: "Add a variant from a sliced file" }).waitFor();
  await row.waitFor();
  await waitFor("the reloaded app to keep the file waiting", async () =>
    (await row.getAttribute("data-state")) === "waiting" || (await row.getAttribute("data-state")),
  );
  assert.match(await row.textContent(), /Waiting for the connection/);

  // Back online: it goes up, the server checks it, and the variant shows it.
  await context.setOffline(false);
  await waitFor("the upload to finish", async () => (await page.getByTestId("pending-upload").count()) === 0);
  const file = page.getByTestId("variant-file");
  await file.waitFor();
  assert.equal(await file.textContent(), "prusaslicer_2.9.2_xl5is_5tool.bgcode · version 1 · current");
  await page.screenshot({ path: join(SCREENSHOTS, "upload-done-phone.png"), fullPage: true });

  const files = await api("GET", `/variants/${variantId}/files`, token);
  assert.equal(files.status, 200);
  assert.equal(files.body.items.length, 1);
  const stored = files.body.items[0];
  assert.equal(stored.sha256, sha256(readFileSync(BGCODE)));
  assert.equal(stored.metadata.format, "bgcode");
  assert.equal(stored.metadata.print_time_s, 57);
  assert.deepEqual(stored.thumbnails.map((t) => t.max_side), [128, 512]);
  const variant = await api("GET", `/variants/${variantId}`, token);
  assert.equal(variant.body.sliced_file_id, stored.id);
  assert.deepEqual(errors, []);
  await context.close();
});

/// A binary STL of a wavy surface: 2 (n-1)² triangles.
function terrainStl(n) {
  const count = 2 * (n - 1) * (n - 1);
  const out = Buffer.alloc(84 + 50 * count);
  out.write("terrain for the upload test", 0);
  out.writeUInt32LE(count, 80);
  const p = (i, j) => {
    const x = i * 0.5;
    const y = j * 0.5;
    return [x, y, 5 + Math.sin(x * 0.2) * 2 + Math.cos(y * 0.3) * 2];
  };
  let at = 84;
  const put = (tri) => {
    at += 12;
    for (const v of tri) for (const c of v) { out.writeFloatLE(c, at); at += 4; }
    at += 2;
  };
  for (let i = 0; i < n - 1; i++) {
    for (let j = 0; j < n - 1; j++) {
      put([p(i, j), p(i + 1, j), p(i + 1, j + 1)]);
      put([p(i, j), p(i + 1, j + 1), p(i, j + 1)]);
    }
  }
  return out;
}

test("a large STL design file is drawn on the phone and uploads in parts to the model", async () => {
  const { context, page, errors, token, modelId } = await shopWithVariant(`stl-${Date.now()}@example.com`);
  const stl = terrainStl(412);
  assert.ok(stl.length > 16 * 1024 * 1024, "three 8 MiB parts");
  const path = join(scratch, "terrain.stl");
  writeFileSync(path, stl);

  await page.getByLabel("Design file for the model (.stl, .3mf)").setInputFiles(path);
  const summary = page.getByTestId("design-summary");
  await summary.waitFor();
  assert.match(await summary.textContent(), /^1 object, 337842 triangles, 205\.5 × 205\.5 × /);
  const picture = page.getByTestId("design-picture");
  const drawn = await picture.evaluate(async (el) => {
    await el.decode();
    const canvas = document.createElement("canvas");
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(el, 0, 0);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let opaque = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] === 255) opaque++;
    return { width: el.naturalWidth, height: el.naturalHeight, opaque, src: el.src.slice(0, 22) };
  });
  assert.deepEqual([drawn.width, drawn.height, drawn.src], [256, 256, "data:image/png;base64,"]);
  assert.ok(drawn.opaque > 256 * 256 / 10, `the model covers the picture: ${drawn.opaque} opaque pixels`);
  await page.screenshot({ path: join(SCREENSHOTS, "upload-stl-drawn-phone.png"), fullPage: true });

  await page.getByRole("button", { name: "Upload as the model's design file" }).click();
  await page.locator('[data-testid=pending-upload][data-file="terrain.stl"]').waitFor();
  await waitFor("the design file upload to finish", async () => (await page.getByTestId("pending-upload").count()) === 0, 120_000);

  const files = await api("GET", `/models/${modelId}/files`, token);
  assert.equal(files.status, 200, JSON.stringify(files.body));
  assert.equal(files.body.items.length, 1);
  const stored = files.body.items[0];
  assert.equal(stored.sha256, sha256(stl));
  assert.equal(stored.size_bytes, stl.length);
  assert.equal(stored.metadata.format, "stl");
  assert.equal(stored.metadata.model.triangles, 337842);
  assert.deepEqual(stored.thumbnails.map((t) => [t.max_side, t.width]), [[128, 128], [512, 512]]);
  assert.deepEqual(errors, []);
  await context.close();
});
