// Queue: drag a job by its handle to a new place (pointer events: a mouse, and a finger
// through Chromium's touch input). The new order is written as an op: it is there after a reload (the local
// store), and a second device that pulls the shop shows the same order (after sync). The
// up and down buttons stay for the keyboard. The real server and database, the built PWA,
// Debian's Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, DESKTOP } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const EMAIL = `queue-${Date.now()}@example.com`;
const PASSWORD = "queue-drag-password-42";
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

async function push(token, bodies) {
  const device = uuidv7();
  const ops = bodies.map((body, i) => ({
    op_id: uuidv7(),
    device_id: device,
    client_seq: i + 1,
    hlc: { wall_ms: Date.now(), counter: i, device_id: device },
    body,
  }));
  const answer = await fetch(`${server.url}/api/v1/sync/push`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ protocol: 1, device_id: device, ops }),
  });
  assert.equal(answer.status, 200, await answer.clone().text());
  for (const r of (await answer.json()).results) assert.equal(r.status, "applied", JSON.stringify(r));
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

const order = (page) => page.getByTestId("job-row").locator(".job-name").allTextContents();
const pending = (page) => page.getByTestId("pending-count").getAttribute("data-count");

async function signedInQueue(viewport, options = {}) {
  const context = await browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/queue");
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  return { context, page, errors };
}

/** Where a drag of the job named `name` starts, and where it ends on the row named `onto`. */
async function dragPoints(page, name, onto, above) {
  const handle = page.getByTestId("job-row").filter({ hasText: name }).getByTestId("drag-handle");
  const target = page.getByTestId("job-row").filter({ hasText: onto });
  const from = await handle.boundingBox();
  const box = await target.boundingBox();
  const x = from.x + from.width / 2;
  return { x, y0: from.y + from.height / 2, y1: above ? box.y + 4 : box.y + box.height - 4 };
}

/** Drags with the mouse, in steps. */
async function drag(page, name, onto, { above }) {
  const { x, y0, y1 } = await dragPoints(page, name, onto, above);
  await page.mouse.move(x, y0);
  await page.mouse.down();
  await page.mouse.move(x, y1, { steps: 12 });
  await page.mouse.up();
}

/** Drags with a finger: touch events, which Chromium turns into touch pointer events. */
async function touchDrag(page, cdp, name, onto, { above }) {
  const { x, y0, y1 } = await dragPoints(page, name, onto, above);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y: y0 }] });
  for (let i = 1; i <= 12; i++) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x, y: y0 + ((y1 - y0) * i) / 12 }] });
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
}

test("a job dragged to the top stays there after a reload and on another device", async () => {
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

  // A model with three variants, and a job of each, queued in the order A, B, C.
  const model = uuidv7();
  const set = (entity, id, fields) => ({ kind: "entity.set.v1", entity, id, fields });
  const bodies = [set("model", model, { name: "Rex", source_site: "own", licence: { name: "Own design", allows_selling: true } })];
  ["Alpha", "Bravo", "Charlie"].forEach((name, i) => {
    const variant = uuidv7();
    bodies.push(set("variant", variant, { model_id: model, name, parts_per_plate: 1, print_time_s: 600, filament_needs: [] }));
    bodies.push(set("print_job", uuidv7(), { variant_id: variant, units: 1, plates: 1, priority: 0, position: (i + 1) * 1024 }));
  });
  await push(token, bodies);

  const a = await signedInQueue(PHONE, { hasTouch: true, isMobile: true });
  await waitFor("the pulled queue", async () => (await a.page.getByTestId("job-row").count()) === 3);
  assert.deepEqual(await order(a.page), ["Rex · Alpha × 1", "Rex · Bravo × 1", "Rex · Charlie × 1"]);
  // Keyboard path still there: every job has its up and down buttons.
  assert.equal(await a.page.getByRole("button", { name: "Move Rex · Charlie × 1 up" }).count(), 1);

  // Charlie by its handle onto the top half of Alpha: first.
  await drag(a.page, "Charlie", "Alpha", { above: true });
  await waitFor("the new order", async () => (await order(a.page))[0] === "Rex · Charlie × 1" || (await order(a.page)));
  assert.deepEqual(await order(a.page), ["Rex · Charlie × 1", "Rex · Alpha × 1", "Rex · Bravo × 1"]);
  assert.match(await a.page.getByTestId("queue-message").textContent(), /^Moved Rex · Charlie × 1 to place 1$/);

  // Alpha below Bravo, with a finger (dragging down; the handle does not scroll the page).
  await a.page.evaluate(() => {
    window.seenPointers = [];
    document.addEventListener("pointerdown", (e) => window.seenPointers.push(e.pointerType), true);
  });
  const cdp = await a.context.newCDPSession(a.page);
  await touchDrag(a.page, cdp, "Alpha", "Bravo", { above: false });
  assert.deepEqual(await a.page.evaluate(() => window.seenPointers), ["touch"]);
  await waitFor("the second move", async () => (await order(a.page))[2] === "Rex · Alpha × 1" || (await order(a.page)));
  assert.deepEqual(await order(a.page), ["Rex · Charlie × 1", "Rex · Bravo × 1", "Rex · Alpha × 1"]);
  await a.page.screenshot({ path: join(SCREENSHOTS, "queue-drag-phone.png"), fullPage: true });

  // A short drag that lands where it started changes nothing.
  const before = await pending(a.page);
  await drag(a.page, "Bravo", "Bravo", { above: true });
  assert.equal(await pending(a.page), before);

  // The local store keeps it: after a reload, the same order.
  await a.page.reload();
  await waitFor("the reloaded queue", async () => (await a.page.getByTestId("job-row").count()) === 3);
  assert.deepEqual(await order(a.page), ["Rex · Charlie × 1", "Rex · Bravo × 1", "Rex · Alpha × 1"]);

  // Synced: the outbox empties, and a second device (desktop) pulls the same order.
  await waitFor("the moves to be sent", async () => (await pending(a.page)) === "0" || (await pending(a.page)));
  const b = await signedInQueue(DESKTOP);
  await waitFor("the second device's queue", async () => (await b.page.getByTestId("job-row").count()) === 3);
  assert.deepEqual(await order(b.page), ["Rex · Charlie × 1", "Rex · Bravo × 1", "Rex · Alpha × 1"]);

  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context.close();
  await b.context.close();
});
