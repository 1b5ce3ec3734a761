// Debian's Chromium, headless, driven by playwright-core (which never downloads a browser).
// Playwright gives every launch a fresh, empty profile of its own.
import { chromium } from "playwright-core";

export const PHONE = { width: 390, height: 844 };

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
