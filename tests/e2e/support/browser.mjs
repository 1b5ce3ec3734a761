// Debian's Chromium, headless, driven by playwright-core (which never downloads a browser).
// Playwright gives every launch a fresh, empty profile of its own.
import { chromium } from "playwright-core";

export const PHONE = { width: 390, height: 844 };

export const DESKTOP = { width: 1280, height: 800 };

/**
 * Options: `fakeCamera`, a .y4m or .mjpeg file that every page's camera shows
 * (Chromium's fake capture device; the permission prompt is answered yes).
 */
export async function launchBrowser({ fakeCamera } = {}) {
  const camera = fakeCamera
    ? [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-video-capture=${fakeCamera}`,
      ]
    : [];
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
      ...camera,
    ],
  });
}

/**
 * Waits until a service worker controls the page and has finished activating;
 * `navigator.serviceWorker.ready` alone resolves while it may still be "activating".
 * Returns the active worker's state.
 */
export async function untilServiceWorkerControls(page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
    }
    const worker = registration.active;
    if (worker.state !== "activated") {
      await new Promise((r) => worker.addEventListener("statechange", () => worker.state === "activated" && r()));
    }
    return worker.state;
  });
}
