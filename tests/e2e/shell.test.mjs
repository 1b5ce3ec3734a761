// The walking skeleton end to end: the real server and database, the built PWA, Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
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

const SECTIONS = ["Stock", "Sell", "Scan", "Queue", "Models", "Events", "More"];

test("the app shell renders, is installable, and works offline from the service worker", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(server.url);
  await page.getByTestId("app-shell").waitFor();
  const labels = await page.locator(".bottom-nav .nav-label").allTextContents();
  assert.deepEqual(labels, SECTIONS);
  assert.equal(await page.getByTestId("connection").textContent(), "Online");

  // Installable: the manifest is linked and has what browsers require.
  const manifestHref = await page.locator('link[rel="manifest"]').getAttribute("href");
  assert.equal(manifestHref, "/manifest.json");
  const manifestAnswer = await page.request.get(server.url + manifestHref);
  assert.equal(manifestAnswer.headers()["content-type"], "application/manifest+json");
  const manifest = await manifestAnswer.json();
  assert.equal(manifest.display, "standalone");
  assert.equal(manifest.start_url, "/");
  const sizes = manifest.icons.map((i) => `${i.sizes} ${i.purpose}`);
  assert.ok(sizes.includes("192x192 any") && sizes.includes("512x512 any") && sizes.includes("512x512 maskable"));

  // The service worker activates and controls the page.
  const state = await untilServiceWorkerControls(page);
  assert.equal(state, "activated");
  await page.screenshot({ path: join(SCREENSHOTS, "shell-phone.png") });

  // Offline: a reload and a deep link both render from the service worker's cache.
  await context.setOffline(true);
  await page.reload();
  await page.getByTestId("app-shell").waitFor();
  assert.equal(await page.getByTestId("connection").textContent(), "Offline");
  await page.goto(`${server.url}/stock`);
  assert.equal(await page.locator("h1").textContent(), "Stock");
  await page.screenshot({ path: join(SCREENSHOTS, "shell-offline-stock.png") });

  // Back online, the badge follows.
  await context.setOffline(false);
  await page.getByTestId("connection").filter({ hasText: "Online" }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("navigation moves between sections and shows the active one", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole("link", { name: "Queue" }).click();
  assert.equal(await page.locator("h1").textContent(), "Print queue");
  assert.match(page.url(), /\/queue$/);
  assert.equal(await page.locator(".nav-item.active .nav-label").textContent(), "Queue");
  await page.screenshot({ path: join(SCREENSHOTS, "shell-desktop.png") });
  await context.close();
});
