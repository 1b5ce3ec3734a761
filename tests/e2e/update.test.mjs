// A new version of the app installs beside the running one and takes over only when the
// user reloads through the banner, so a page never mixes one version's html with another's wasm.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const DIST = resolve(import.meta.dirname, "../../dist");
let pwaCopy;
let server;
let browser;

before(async () => {
  // Serve a copy of the build, so the test can publish a "new version" into it.
  pwaCopy = mkdtempSync(join(tmpdir(), "printstall-pwa-"));
  cpSync(DIST, pwaCopy, { recursive: true });
  server = await startServer({ PRINTSTALL_PWA_DIR: pwaCopy });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(pwaCopy, { recursive: true, force: true });
});

async function activeCache(page) {
  return page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith("printstall-shell-")));
}

test("a new version waits, is offered, and takes over cleanly on reload", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  const [oldCache] = await activeCache(page);

  // Publish a new version: same assets, a new service worker version and index.html.
  const swPath = join(pwaCopy, "sw.js");
  const sw = readFileSync(swPath, "utf8").replace(/const VERSION = "([^"]+)"/, 'const VERSION = "$1-next"');
  writeFileSync(swPath, sw);
  const indexPath = join(pwaCopy, "index.html");
  writeFileSync(indexPath, readFileSync(indexPath, "utf8").replace("<title>PrintStall</title>", "<title>PrintStall next</title>"));

  // The running page keeps its version; the new worker installs and waits.
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.getByRole("alert").filter({ hasText: "A new version of PrintStall is ready." }).waitFor();
  assert.equal(await page.title(), "PrintStall");
  const caches = await activeCache(page);
  assert.equal(caches.length, 2, `old and new caches side by side: ${caches}`);

  // Taking the update reloads once into the new version and drops the old cache.
  await Promise.all([
    page.waitForEvent("load"),
    page.getByRole("button", { name: "Reload" }).click(),
  ]);
  await page.getByTestId("app-shell").waitFor();
  assert.equal(await page.title(), "PrintStall next");
  await page.waitForFunction(
    async (old) => !(await caches.keys()).includes(old),
    oldCache,
  );
  await context.close();
});
