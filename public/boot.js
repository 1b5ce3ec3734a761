// Starts the Yew app and registers the service worker. No business logic lives here.
import init from "./{{JS}}";

// The barcode decoder (rxing in wasm) for browsers without BarcodeDetector: its own module,
// fetched (from the service worker's cache) the first time the Scan screen asks for it.
let scanner;
window.printstallScanner = () =>
  (scanner ??= import("./{{SCANNER_JS}}").then(async (m) => {
    await m.default({ module_or_path: new URL("./{{SCANNER_WASM}}", import.meta.url) });
    return m;
  }));

await init({ module_or_path: new URL("./{{WASM}}", import.meta.url) });

if ("serviceWorker" in navigator) {
  const hadController = Boolean(navigator.serviceWorker.controller);
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  const announce = () => {
    window.printstallUpdateReady = true;
    window.dispatchEvent(new Event("printstall:update-ready"));
  };
  if (registration.waiting && hadController) announce();
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) announce();
    });
  });
  // The new version takes over only when the user asks (the app's "Reload" button), and
  // the page reloads once it has, so html, js and wasm always come from one version.
  let updateRequested = false;
  window.addEventListener("printstall:activate-update", () => {
    if (!registration.waiting) return;
    updateRequested = true;
    registration.waiting.postMessage({ type: "SKIP_WAITING" });
  });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // The first worker claiming a fresh page changes nothing on screen: no reload then.
    if (!updateRequested) return;
    updateRequested = false;
    window.location.reload();
  });
}
