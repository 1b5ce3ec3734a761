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

// ---- Background Sync (issue 4) --------------------------------------------------------
// Queued changes go out even after the app's tab was closed (Chromium, Android). The worker
// holds no business logic: with a window of the app open it only wakes that window (whose
// sync driver pushes and pulls); with none, it reads the outbox the app keeps in IndexedDB
// and POSTs it to /api/v1/sync/push as it is. It never changes the outbox: the next time
// the app runs it pushes the same ops again and the server answers `duplicate` with the
// first answer (ops are idempotent by op_id), so each op counts exactly once, and the app
// stays the only writer of its store. Pushes take the same Web Lock as the tabs
// ("printstall-sync"), so one pusher runs at a time. The store module (pwa/src/store) owns
// the schema; this reads only `meta` (session, clock) and `outbox`, values as JSON strings.
const SYNC_TAG = "printstall-outbox";
const DB_NAME = "printstall";
const MAX_BATCH = 500;

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(backgroundSync());
});

async function backgroundSync() {
  const windows = await self.clients.matchAll({ type: "window" });
  if (windows.length > 0) {
    for (const client of windows) client.postMessage({ type: "printstall-sync" });
    return;
  }
  if (self.navigator.locks) {
    await self.navigator.locks.request("printstall-sync", () => pushOutbox());
  } else {
    await pushOutbox();
  }
}

function idbRequest(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Opens the app's database as it is; never creates or upgrades it (that is the app's).
function openExisting() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME);
    request.onupgradeneeded = () => request.transaction.abort();
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => (request.error && request.error.name === "AbortError" ? resolve(null) : reject(request.error));
  });
}

async function readOutbox() {
  const db = await openExisting();
  if (!db) return null;
  try {
    if (!db.objectStoreNames.contains("meta") || !db.objectStoreNames.contains("outbox")) return null;
    const tx = db.transaction(["meta", "outbox"], "readonly");
    const meta = tx.objectStore("meta");
    const [session, clock, ops] = await Promise.all([
      idbRequest(meta.get("session")),
      idbRequest(meta.get("clock")),
      idbRequest(tx.objectStore("outbox").getAll()),
    ]);
    return {
      session: session ? JSON.parse(session) : null,
      clock: clock ? JSON.parse(clock) : null,
      ops: ops.map((s) => JSON.parse(s)),
    };
  } finally {
    db.close();
  }
}

async function refreshToken() {
  const answer = await fetch("/api/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
  if (answer.status === 401 || answer.status === 403) return null; // signed out: the app asks
  if (!answer.ok) throw new Error(`refresh failed: ${answer.status}`);
  return (await answer.json()).access_token;
}

async function pushOutbox() {
  const local = await readOutbox();
  if (!local || !local.session || local.session.signed_out || !local.clock || local.ops.length === 0) return;
  let token = local.session.access_token;
  if (local.session.expires_at_ms - 30_000 < Date.now()) {
    token = await refreshToken();
    if (!token) return;
  }
  for (let i = 0; i < local.ops.length; i += MAX_BATCH) {
    const body = JSON.stringify({ protocol: 1, device_id: local.clock.device_id, ops: local.ops.slice(i, i + MAX_BATCH) });
    const send = (t) =>
      fetch("/api/v1/sync/push", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${t}` },
        body,
      });
    let answer = await send(token);
    if (answer.status === 401) {
      token = await refreshToken();
      if (!token) return;
      answer = await send(token);
    }
    // Anything else than an answer per op: the browser retries the sync event later.
    if (!answer.ok) throw new Error(`push failed: ${answer.status}`);
  }
}
