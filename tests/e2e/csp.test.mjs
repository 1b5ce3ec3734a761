// The Content-Security-Policy the server sends (no inline scripts or styles, no eval; only
// 'wasm-unsafe-eval' for WebAssembly) lets the whole app run: the wasm boots, the service
// worker registers, every section renders, and a sliced file parsed in wasm shows its
// colour swatch, all with no policy violation reported by Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join, resolve } from "node:path";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const FIXTURES = resolve(import.meta.dirname, "../../../shared/fixtures/slicefiles");

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

test("the app runs under the strict Content-Security-Policy with no violation", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });

  const answer = await page.goto(server.url);
  const csp = answer.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  // Inline code never; inline style attributes only (bar widths, swatches).
  assert.doesNotMatch(csp.replace("style-src-attr 'unsafe-inline'", ""), /'unsafe-inline'|'unsafe-eval'/);
  assert.equal(answer.headers()["x-content-type-options"], "nosniff");

  await page.getByTestId("app-shell").waitFor();
  assert.equal(await untilServiceWorkerControls(page), "activated");
  for (const name of ["Stock", "Sell", "Scan", "Queue", "Models", "Events", "More"]) {
    await page.locator(".bottom-nav").getByText(name, { exact: true }).click();
    await page.locator("h1").first().waitFor();
  }

  // A filament colour swatch is styled through the CSS object model, not a style attribute.
  await page.goto(`${server.url}/models`);
  await page.getByRole("heading", { name: "Add a variant from a sliced file" }).waitFor();
  await page
    .getByLabel("Sliced file (.gcode, .bgcode, .3mf)")
    .setInputFiles(join(FIXTURES, "prusaslicer_2.9.2_xl5is_5tool.bgcode"));
  const swatch = page.locator(".filament .swatch").first();
  await swatch.waitFor();
  assert.equal(await swatch.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(255, 128, 0)");
  await page.getByTestId("slice-thumbnail").waitFor();

  const violations = await page.evaluate(() => window.__cspViolations);
  assert.deepEqual(violations, []);
  assert.deepEqual(problems, []);
  await context.close();
});
