// Web NFC: the NFC page writes an item's link to a tag and opens the link a tag holds.
// Desktop Chromium has no NFC, so the test first checks the "cannot" message, then gives
// the page a stand-in `NDEFReader` (the Web NFC interface the app calls) that records what
// is written and delivers a tag reading.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE } from "./support/browser.mjs";

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

test("without Web NFC the page says so", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await page.goto(`${server.url}/nfc`);
  await page.getByText("This browser cannot use NFC tags").waitFor();
  await context.close();
});

test("writes a spool's link to a tag and opens the link a tag holds", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  await context.addInitScript(() => {
    window.__nfc = { written: [], readers: [] };
    window.NDEFReader = class {
      constructor() {
        window.__nfc.readers.push(this);
        this.onreading = null;
      }
      async write(message) {
        window.__nfc.written.push(message);
      }
      async scan() {
        window.__nfc.scanning = this;
      }
    };
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const spool = "/spools/0190f5d2-0000-7000-8000-000000000001";
  await page.goto(`${server.url}/nfc?link=${encodeURIComponent(spool)}`);
  await page.getByRole("button", { name: "Write link to NFC tag" }).click();
  await page.getByText(`Written: ${server.url}${spool}`).waitFor();
  const written = await page.evaluate(() => window.__nfc.written);
  assert.deepEqual(written, [{ records: [{ recordType: "url", data: `${server.url}${spool}` }] }]);

  // Reading a tag that holds a product's link opens it.
  await page.getByRole("button", { name: "Read NFC tag" }).click();
  await page.waitForFunction(() => window.__nfc.scanning && window.__nfc.scanning.onreading);
  const product = "/products/0190f5d2-0000-7000-8000-000000000002";
  await Promise.all([
    page.waitForURL(`${server.url}${product}`),
    page.evaluate((url) => {
      const data = new TextEncoder().encode(url);
      window.__nfc.scanning.onreading({
        message: { records: [{ recordType: "url", data: new DataView(data.buffer) }] },
      });
    }, `${server.url}${product}`),
  ]);
  assert.deepEqual(errors, []);
  await context.close();
});
