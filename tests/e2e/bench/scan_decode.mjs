// Benchmark (scripts/bench runs it; it never asserts): how long the rxing decoder, compiled
// to wasm as the app ships it (dist/assets/scanner-*), takes per 640x480 camera frame in
// headless Chromium: a frame with a QR label in it, and an empty frame (the usual case
// while aiming). Prints one JSON line.
//   node tests/e2e/bench/scan_decode.mjs [dist-dir] [runs]
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

import { launchBrowser } from "../support/browser.mjs";
import { HEIGHT, WIDTH, ean13Luma, qrLuma } from "../support/camera.mjs";

const dist = resolve(process.argv[2] || join(import.meta.dirname, "../../../dist"));
const runs = Number(process.argv[3] || 30);
const assets = readdirSync(join(dist, "assets"));
const js = assets.find((f) => /^scanner-[0-9a-f]+\.js$/.test(f));
const wasm = assets.find((f) => /^scanner-[0-9a-f]+\.wasm$/.test(f));
if (!js || !wasm) throw new Error(`no scanner module in ${dist}/assets: run scripts/build-pwa`);

const ORIGIN = "http://bench.printstall.test";
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/") return route.fulfill({ contentType: "text/html", body: "<!doctype html><title>bench</title>" });
    const file = join(dist, path);
    const type = path.endsWith(".wasm") ? "application/wasm" : "text/javascript";
    return route.fulfill({ contentType: type, body: readFileSync(file) });
  });
  await page.goto(ORIGIN + "/");
  const frames = {
    qr: Array.from(qrLuma("PS1:P:0190F5D2-0000-7000-8000-000000000001", 6)),
    ean13: Array.from(ean13Luma("4006381333931", 4)),
    empty: Array.from(new Uint8Array(WIDTH * HEIGHT).map((_, i) => 120 + ((i * 7919) % 97))),
  };
  const result = await page.evaluate(
    async ({ js, wasm, frames, runs, width, height }) => {
      const m = await import(`/assets/${js}`);
      await m.default({ module_or_path: `/assets/${wasm}` });
      const out = {};
      for (const [name, luma] of Object.entries(frames)) {
        const rgba = new Uint8ClampedArray(width * height * 4);
        for (let i = 0; i < luma.length; i++) {
          rgba[i * 4] = rgba[i * 4 + 1] = rgba[i * 4 + 2] = luma[i];
          rgba[i * 4 + 3] = 255;
        }
        let found = null;
        for (let i = 0; i < 3; i++) found = m.decode_rgba(rgba, width, height, false) ?? null;
        const times = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          m.decode_rgba(rgba, width, height, false);
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        out[name] = {
          found,
          median_ms: times[Math.floor(times.length / 2)],
          min_ms: times[0],
          max_ms: times[times.length - 1],
          runs,
        };
      }
      return out;
    },
    { js, wasm, frames, runs, width: WIDTH, height: HEIGHT },
  );
  console.log(JSON.stringify({ width: WIDTH, height: HEIGHT, wasm_bytes: readFileSync(join(dist, "assets", wasm)).length, frames: result }));
} finally {
  await browser.close();
}
