// Starts the Yew app and registers the service worker. No business logic lives here.
import init from "./{{JS}}";

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
