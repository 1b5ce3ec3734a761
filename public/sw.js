// PrintStall's service worker: precaches the app shell of one build and serves it offline.
// It holds no business logic; API calls and file transfers go straight to the network.
const VERSION = "{{VERSION}}";
const PRECACHE = {{PRECACHE}};
const CACHE = `printstall-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("printstall-shell-") && name !== CACHE)
          .map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

const NETWORK_ONLY = ["/api/", "/files/", "/healthz", "/spoolman/"];

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NETWORK_ONLY.some((prefix) => url.pathname.startsWith(prefix))) return;
  if (request.mode === "navigate") {
    // Every app route is the same shell; the router inside picks the page.
    event.respondWith(
      caches.open(CACHE).then(async (cache) => (await cache.match("/index.html")) || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => (await cache.match(request)) || fetch(request)),
  );
});
