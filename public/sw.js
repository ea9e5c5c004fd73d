// chargebay service worker: the app shell and static assets are cached so the app opens
// offline (and says so); pages and data go to the network first, falling back to the cache.
const VERSION = "chargebay-v1";
const SHELL = [
  "/",
  "/pkg/chargebay.js",
  "/pkg/chargebay_bg.wasm",
  "/pkg/chargebay.css",
  "/map.js",
  "/manifest.webmanifest",
  "/favicon.svg",
  "/icons/icon-192.png",
  "/vendor/leaflet/leaflet.js",
  "/vendor/leaflet/leaflet.css",
  "/vendor/leaflet/leaflet.markercluster.js",
  "/vendor/leaflet/MarkerCluster.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  // The live feed is a stream: never cache it.
  if (url.pathname === "/api/v1/live") return;
  const isStatic = url.pathname.startsWith("/pkg/") || url.pathname.startsWith("/vendor/") || url.pathname.startsWith("/icons/");
  if (isStatic) {
    // Cache first, refreshed in the background.
    event.respondWith(
      caches.match(req).then((hit) => {
        const net = fetch(req).then((res) => {
          if (res.ok) caches.open(VERSION).then((c) => c.put(req, res.clone()));
          return res;
        });
        return hit || net;
      }),
    );
    return;
  }
  // Network first for pages and data; offline, the cached copy (or the cached shell).
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && req.mode === "navigate") caches.open(VERSION).then((c) => c.put(req, res.clone()));
        return res;
      })
      .catch(() => caches.match(req).then((hit) => hit || (req.mode === "navigate" ? caches.match("/") : Response.error()))),
  );
});
