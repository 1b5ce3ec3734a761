// Benchmark (scripts/bench runs it; it never asserts): the app in headless Chromium against
// a running server. Prints one JSON object:
//  - first_render: the first screen (Today) interactive on a load served by the service
//    worker (the second and later loads), online and offline, for a new shop and for one
//    of 5,000 products; measured in the page with the Performance API (a mark set when the
//    first screen's last card is in the document, and the paint and navigation entries).
//  - first_screen_assets: every file that load fetched, raw and gzipped (from dist/).
//  - fresh_pull: seconds from signing in until the app holds the 5,000 products (pulled
//    into IndexedDB and shown).
//  - search: time from a keystroke in the Stock screen's search to the list showing the
//    matches (and to the next frame), over 5,000 products held in the local store.
//   node tests/e2e/bench/browser_app.mjs URL [dist-dir] [runs]
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

import { launchBrowser, PHONE, untilServiceWorkerControls } from "../support/browser.mjs";

const url = process.argv[2];
if (!url) throw new Error("usage: browser_app.mjs URL [dist-dir] [runs]");
const dist = resolve(process.argv[3] || join(import.meta.dirname, "../../../dist"));
const runs = Number(process.argv[4] || 10);
const PRODUCTS = 5000;
const EMAIL = `bench-${Date.now()}@example.com`;
const PASSWORD = "bench-password-1234";
const WORDS = ["dragon", "rex", "owl", "vase", "planter", "keychain", "fidget", "gecko", "castle", "rocket"];
const COLOURS = ["red", "blue", "black", "white", "green", "orange", "purple", "silver"];

function uuidv7() {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function api(method, path, token, body) {
  const answer = await fetch(url + "/api/v1" + path, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** 5,000 products (and a stock count each) as a second device would push them. */
async function seed(token) {
  const device = uuidv7();
  let seq = 0;
  const bodies = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const id = uuidv7();
    const word = WORDS[i % WORDS.length];
    const colour = COLOURS[Math.floor(i / WORDS.length) % COLOURS.length];
    bodies.push({
      kind: "entity.set.v1",
      entity: "product",
      id,
      fields: { sku: `SKU-${String(i).padStart(5, "0")}`, name: `${word} ${colour} ${i}`, price: 500 + (i % 40) * 50, active: true },
    });
    bodies.push({ kind: "stock.count.v1", product_id: id, counted: i % 23 });
  }
  for (let at = 0; at < bodies.length; at += 500) {
    const ops = bodies.slice(at, at + 500).map((body) => {
      seq += 1;
      return { op_id: uuidv7(), device_id: device, client_seq: seq, hlc: { wall_ms: Date.now(), counter: seq, device_id: device }, body };
    });
    const out = await api("POST", "/sync/push", token, { protocol: 1, device_id: device, ops });
    const bad = out.results.filter((r) => r.status !== "applied");
    if (bad.length) throw new Error(`seeding: ${JSON.stringify(bad[0])}`);
  }
}

function stats(values) {
  const v = [...values].sort((a, b) => a - b);
  return { median: v[Math.floor(v.length / 2)], min: v[0], max: v[v.length - 1], runs: v.length };
}

// Marks the moment the first screen is complete and interactive: the Today screen's last
// card (sync state) is in the document, rendered by the wasm app with its handlers.
const MARK_SCRIPT = () => {
  const done = () => {
    if (document.querySelector("[data-testid=dash-sync]")) {
      performance.mark("printstall-first-interactive");
      return true;
    }
    return false;
  };
  const observer = new MutationObserver(() => done() && observer.disconnect());
  observer.observe(document, { childList: true, subtree: true });
};

async function firstRender(page, context, label) {
  const out = {};
  for (const offline of [false, true]) {
    await context.setOffline(offline);
    const interactive = [];
    const fcp = [];
    const dcl = [];
    let controlled = true;
    for (let i = 0; i < runs; i++) {
      await page.reload({ waitUntil: "load" });
      await page.waitForFunction(() => performance.getEntriesByName("printstall-first-interactive").length > 0, null, { timeout: 60_000 });
      const m = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        return {
          interactive: performance.getEntriesByName("printstall-first-interactive")[0].startTime,
          fcp: paint ? paint.startTime : null,
          dcl: nav.domContentLoadedEventEnd,
          controlled: Boolean(navigator.serviceWorker.controller),
        };
      });
      controlled &&= m.controlled;
      interactive.push(m.interactive);
      if (m.fcp !== null) fcp.push(m.fcp);
      dcl.push(m.dcl);
    }
    out[offline ? "offline" : "online"] = {
      interactive_ms: stats(interactive),
      first_contentful_paint_ms: fcp.length ? stats(fcp) : null,
      dom_content_loaded_ms: stats(dcl),
      service_worker_controlled: controlled,
    };
  }
  await context.setOffline(false);
  return { shop: label, ...out };
}

/** The files the last load fetched (same origin, not the API), with their sizes in dist/. */
async function loadedAssets(page) {
  const paths = await page.evaluate(() => {
    const names = [performance.getEntriesByType("navigation")[0].name, ...performance.getEntriesByType("resource").map((e) => e.name)];
    return [...new Set(names.map((n) => new URL(n)).filter((u) => u.origin === location.origin && !u.pathname.startsWith("/api/")).map((u) => u.pathname))];
  });
  const files = {};
  let raw = 0;
  let gz = 0;
  for (const p of paths) {
    const file = join(dist, p === "/" || !p.includes(".") ? "index.html" : p);
    if (!existsSync(file)) continue;
    const data = readFileSync(file);
    const size = { bytes: data.length, gzip_bytes: gzipSync(data, { level: 9 }).length };
    files[p] = size;
    raw += size.bytes;
    gz += size.gzip_bytes;
  }
  return { files, bytes: raw, gzip_bytes: gz };
}

async function search(page) {
  await page.goto(url + "/stock");
  await page.waitForSelector(`[data-testid=stock-matches][data-count="${PRODUCTS}"]`, { timeout: 120_000 });
  const queries = ["dragon", "rex red", "SKU-0421", "gecko silver 4", "zz-nothing", "o"];
  const result = await page.evaluate(
    async ({ queries, runs }) => {
      const input = document.getElementById("stock-search");
      const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const shows = (q) =>
        new Promise((resolve) => {
          const ok = () => document.querySelector("[data-testid=stock-matches]")?.getAttribute("data-query") === q;
          if (ok()) return resolve();
          const o = new MutationObserver(() => ok() && (o.disconnect(), resolve()));
          o.observe(document.body, { attributes: true, childList: true, subtree: true });
        });
      const type = async (q) => {
        const t0 = performance.now();
        input.value = q;
        input.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: q }));
        await shows(q);
        const t1 = performance.now();
        await nextFrame();
        return [t1 - t0, performance.now() - t0];
      };
      const out = {};
      for (const q of queries) {
        const dom = [];
        const frame = [];
        let matches = null;
        for (let i = 0; i < runs; i++) {
          await type("");
          await nextFrame();
          const [a, b] = await type(q);
          dom.push(a);
          frame.push(b);
          matches = Number(document.querySelector("[data-testid=stock-matches]").getAttribute("data-count"));
        }
        out[q] = { matches, dom, frame, rows_in_page: document.querySelectorAll("[data-testid=stock-row]").length };
      }
      return out;
    },
    { queries, runs },
  );
  const out = {};
  for (const [q, r] of Object.entries(result)) {
    out[q] = { matches: r.matches, rows_in_page: r.rows_in_page, to_list_ms: stats(r.dom), to_next_frame_ms: stats(r.frame) };
  }
  return out;
}

const browser = await launchBrowser();
try {
  const reg = await api("POST", "/auth/register", null, {
    email: EMAIL,
    password: PASSWORD,
    display_name: "Bench",
    shop: { name: "Bench stall", currency: "EUR", time_zone: "UTC", tax_rate_bp: 0, prices_include_tax: true },
  });
  const token = reg.access_token;

  const context = await browser.newContext({ viewport: PHONE });
  await context.addInitScript(MARK_SCRIPT);
  const page = await context.newPage();
  await page.goto(url + "/");
  await page.getByTestId("sign-in").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByTestId("dash-sync").waitFor();

  const small = await firstRender(page, context, "new shop");
  const assets = await loadedAssets(page);

  await seed(token);
  // A fresh device: its own profile, signs in and pulls the 5,000 products into IndexedDB.
  const fresh = await browser.newContext({ viewport: PHONE });
  await fresh.addInitScript(MARK_SCRIPT);
  const fpage = await fresh.newPage();
  await fpage.goto(url + "/stock");
  await fpage.getByTestId("sign-in").waitFor();
  await untilServiceWorkerControls(fpage);
  await fpage.getByLabel("Email").fill(EMAIL);
  await fpage.getByLabel("Password").fill(PASSWORD);
  const t0 = Date.now();
  await fpage.getByRole("button", { name: "Sign in", exact: true }).click();
  await fpage.waitForSelector(`[data-testid=stock-matches][data-count="${PRODUCTS}"]`, { timeout: 300_000 });
  const pullSeconds = (Date.now() - t0) / 1000;
  await fpage.goto(url + "/");
  await fpage.getByTestId("dash-sync").waitFor();
  const large = await firstRender(fpage, fresh, `${PRODUCTS} products`);
  const searched = await search(fpage);

  console.log(
    JSON.stringify({
      runs,
      products: PRODUCTS,
      first_render: [small, large],
      first_screen_assets: assets,
      fresh_pull_seconds: pullSeconds,
      search: searched,
    }),
  );
} finally {
  await browser.close();
}
