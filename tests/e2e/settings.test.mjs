// Settings and account end to end: the owner changes the shop's details, tax and machine
// cost (an op, synced; the server's shop follows), invites a helper who joins with the
// code, changes the password, and signs out. The real server and database.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { startServer } from "./support/server.mjs";
import { DESKTOP, launchBrowser, PHONE, untilServiceWorkerControls } from "./support/browser.mjs";

const SCREENSHOTS = join(import.meta.dirname, "screenshots");
const EMAIL = `settings-${Date.now()}@example.com`;
const PASSWORD = "owner-of-the-stall-42";
const NEW_PASSWORD = "a-brand-new-password-7";
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

async function post(path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(server.url + "/api/v1" + path, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: answer.status, body: await answer.json().catch(() => null) };
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

test("the owner changes the shop's settings, invites a helper, changes the password and signs out", async () => {
  const reg = await post("/auth/register", {
    email: EMAIL,
    password: PASSWORD,
    display_name: "Ada",
    shop: { name: "Ada's Prints", currency: "EUR", time_zone: "Europe/Berlin" },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));

  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/more");
  await page.getByTestId("app-shell").waitFor();
  await untilServiceWorkerControls(page);
  await page.getByRole("link", { name: /Settings and account/ }).click();
  await page.getByTestId("sign-in").waitFor();
  await page.getByLabel("Email", { exact: true }).fill(EMAIL);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await waitFor("the shop to load", async () => (await page.getByTestId("set-name").inputValue()) === "Ada's Prints");
  assert.match(await page.getByTestId("account-who").textContent(), new RegExp(`Ada \\(${EMAIL}\\), owner`));

  // Bad input changes nothing and says what to do.
  await page.getByTestId("set-tax").fill("nineteen");
  await page.getByTestId("save-shop").click();
  await page.getByTestId("shop-message").filter({ hasText: "Tax rate: enter a percentage" }).waitFor();
  assert.equal(await page.getByTestId("pending-count").getAttribute("data-count"), "0");
  // A zone of the right shape that no time zone database knows (the reports could not use it).
  await page.getByTestId("set-tax").fill("19");
  await page.getByTestId("set-tz").fill("Mars/Olympus");
  await page.getByTestId("save-shop").click();
  await page.getByTestId("shop-message").filter({ hasText: "Time zone: pick one from the list" }).waitFor();
  assert.equal(await page.getByTestId("pending-count").getAttribute("data-count"), "0");
  assert.ok(await page.locator("#time-zones option[value='Europe/Berlin']").count() === 1);
  await page.getByTestId("set-tz").fill("Europe/Berlin");

  await page.getByTestId("set-name").fill("Ada's Print Stall");
  await page.getByTestId("set-tax").fill("19");
  await page.getByTestId("set-machine").fill("0.40");
  await page.getByTestId("save-shop").click();
  await page.getByTestId("shop-message").filter({ hasText: "Saved" }).waitFor();
  await waitFor("the settings to sync", async () => (await page.getByTestId("pending-count").getAttribute("data-count")) === "0");
  await page.screenshot({ path: join(SCREENSHOTS, "settings-phone.png") });

  const signIn = await post("/auth/sign-in", { email: EMAIL, password: PASSWORD });
  const token = signIn.body.access_token;
  const shop = await (await fetch(server.url + "/api/v1/shop", { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.equal(shop.name, "Ada's Print Stall");
  assert.equal(shop.tax_rate_bp, 1900);
  // The form shows what was saved, after a reload too (machine cost lives in the synced settings).
  await page.reload();
  await waitFor("the saved settings", async () => (await page.getByTestId("set-machine").inputValue()) === "0.40");
  assert.equal(await page.getByTestId("set-tax").inputValue(), "19");

  // Invite a helper; on their own phone they join with the code, as a seller.
  await page.getByTestId("invite").click();
  await page.getByTestId("invite-code").waitFor();
  const code = (await page.getByTestId("invite-code").textContent()).trim();
  assert.ok(code.length >= 8, code);
  const helperContext = await browser.newContext({ viewport: PHONE });
  const helper = await helperContext.newPage();
  helper.on("pageerror", (e) => errors.push(String(e)));
  await helper.goto(server.url + "/settings");
  await helper.getByTestId("join-shop").waitFor();
  await helper.getByLabel("Invite code").fill(code);
  await helper.getByLabel("Your email").fill(`helper-${Date.now()}@example.com`);
  await helper.getByLabel("Your password").fill("helper-password-123");
  await helper.getByLabel("Your name (for a new account)").fill("Bo");
  await helper.getByRole("button", { name: "Join the shop" }).click();
  await waitFor("the helper to be signed in", async () => /Bo .*seller/.test(await helper.getByTestId("account-who").textContent().catch(() => "")));
  assert.equal(await helper.getByTestId("invite").count(), 0, "sellers cannot invite");
  assert.ok(await helper.getByTestId("set-name").isDisabled());
  await helper.screenshot({ path: join(SCREENSHOTS, "settings-seller-phone.png") });
  await helperContext.close();
  await page.reload();
  await waitFor("the helper in the member list", async () => /Bo helper-.*seller/.test(await page.getByTestId("members").textContent().catch(() => "")));
  assert.match(await page.getByTestId("members").textContent(), /^Ada .*owner/);

  // Change the password: the old one stops working.
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByTestId("password-message").filter({ hasText: "Password changed" }).waitFor();
  assert.equal((await post("/auth/sign-in", { email: EMAIL, password: PASSWORD })).status, 401);
  assert.equal((await post("/auth/sign-in", { email: EMAIL, password: NEW_PASSWORD })).status, 200);

  await page.setViewportSize(DESKTOP);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, "settings-desktop.png") });
  await page.setViewportSize(PHONE);

  // Sign out: the sign-in form comes back.
  await page.getByTestId("sign-out").click();
  await page.getByTestId("sign-in").waitFor();

  await page.goto(server.url + "/more");
  await page.getByRole("link", { name: /Labels/ }).waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, "more-phone.png") });
  assert.deepEqual(errors, []);
  await context.close();
});
