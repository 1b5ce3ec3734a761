// More → "Your sessions" and "Audit log": the owner sees each sign-in with its device and
// ends another one (whose token then stops working), and reads who changed what, filtered,
// with a CSV download.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { startServer } from "./support/server.mjs";
import { launchBrowser, PHONE } from "./support/browser.mjs";

const EMAIL = `owner-${Date.now()}@example.com`;
const PASSWORD = "a long enough password";
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

test("sessions are listed and ended, and the owner reads the audit log", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => /Content Security Policy/i.test(m.text()) && errors.push(m.text()));
  await page.goto(`${server.url}/sell`);
  await page.getByTestId("sign-in").waitFor();
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Your name").fill("Ada");
  await page.getByLabel("Shop name").fill("Ada's Prints");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByTestId("sync-status").waitFor();

  // A second sign-in, from a laptop.
  const answer = await fetch(`${server.url}/api/v1/auth/sign-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "User-Agent": "Laptop/1.0" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  assert.equal(answer.status, 200);
  const laptopToken = (await answer.json()).access_token;

  await page.locator(".bottom-nav").getByText("More").click();
  const sessions = page.getByTestId("sessions");
  await sessions.locator(".session").nth(1).waitFor();
  assert.equal(await sessions.locator(".session").count(), 2);
  assert.equal(await sessions.getByText("This device").count(), 1);
  const laptop = sessions.locator(".session").filter({ hasText: "Laptop/1.0" });
  await laptop.getByRole("button", { name: "End" }).click();
  await laptop.waitFor({ state: "detached" });
  assert.equal(await sessions.locator(".session").count(), 1);
  const refused = await fetch(`${server.url}/api/v1/shop`, { headers: { Authorization: `Bearer ${laptopToken}` } });
  assert.equal(refused.status, 401);

  // The audit log: the shop and its owner's membership, made at sign-up.
  const log = page.getByTestId("audit-log");
  await log.locator(".audit-entry").first().waitFor();
  const whats = await log.locator(".audit-what").allTextContents();
  assert.ok(whats.includes("shop insert") && whats.includes("membership insert"), whats.join("; "));
  await page.getByLabel("Show").selectOption("membership");
  await page.waitForFunction(() =>
    [...document.querySelectorAll("[data-testid=audit-log] .audit-what")].every((e) => e.textContent.startsWith("membership")),
  );
  assert.match(await log.locator(".audit-entry").first().textContent(), /Ada/);
  await page.getByRole("button", { name: "Prepare CSV" }).click();
  const link = page.getByTestId("audit-csv");
  await link.waitFor();
  assert.match(await link.getAttribute("href"), /^blob:/);
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /^id,at,tx_id,user_id,user_name/);
  assert.match(csv, /membership/);
  assert.deepEqual(errors, []);
  await context.close();
});
