// chargebay's map: Leaflet (bundled from npm) with clustered markers coloured by state, each
// marker also carrying a letter so no information is given by colour alone. Rust calls
// `chargebayMap.render(element, piles)` and `chargebayMap.update(element, id, state)`.
window.chargebayMap = (() => {
  const LETTER = { idle: "✓", charging: "⚡", reserved: "R", blocked: "!", stale: "?", faulted: "×", offline: "×", disabled: "–" };
  const maps = new WeakMap();
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const icon = (state) =>
    L.divIcon({ className: "pin", html: `<span class="pin-dot" data-state="${state}">${LETTER[state] || "?"}</span>`, iconSize: [28, 28], iconAnchor: [14, 14] });
  const tiles = () => document.querySelector('meta[name="cb-tiles"]')?.content || "";

  function setup(el) {
    let m = maps.get(el);
    if (m) return m;
    const map = L.map(el, { zoomControl: true, attributionControl: true, center: [22.55, 114.05], zoom: 11, minZoom: 3, maxZoom: 19 });
    const url = tiles();
    if (url) L.tileLayer(url, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
    const cluster = L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 45,
      iconCreateFunction: (c) => {
        const kids = c.getAllChildMarkers();
        const idle = kids.filter((k) => k.options.cbState === "idle").length;
        const state = idle > 0 ? "idle" : "busy";
        return L.divIcon({ className: "cluster", html: `<span class="cluster-dot" data-state="${state}" title="${idle} idle of ${kids.length}">${idle}/${kids.length}</span>`, iconSize: [40, 40] });
      },
    });
    map.addLayer(cluster);
    m = { map, cluster, markers: new Map(), fitted: false };
    maps.set(el, m);
    return m;
  }

  return {
    ready: () => typeof window.L !== "undefined" && typeof L.markerClusterGroup === "function",
    render(el, json) {
      if (!this.ready()) return false;
      try {
        return this.renderUnsafe(el, json);
      } catch (e) {
        console.error("chargebay map:", e && e.stack ? e.stack : e);
        return true;
      }
    },
    renderUnsafe(el, json) {
      const piles = JSON.parse(json);
      const m = setup(el);
      m.cluster.clearLayers();
      m.markers.clear();
      const markers = piles.map((p) => {
        const mk = L.marker([p.lat, p.lon], { icon: icon(p.state), title: p.label, alt: p.label, keyboard: true, cbState: p.state });
        mk.bindPopup(`<a href="${esc(p.href)}">${esc(p.label)}</a><br>${esc(p.stateLabel)}`);
        m.markers.set(p.id, mk);
        return mk;
      });
      m.cluster.addLayers(markers);
      if (markers.length && !m.fitted) {
        m.map.fitBounds(L.latLngBounds(piles.map((p) => [p.lat, p.lon])), { padding: [24, 24] });
        m.fitted = true;
      }
      el.dataset.markers = String(markers.length);
      return true;
    },
    update(el, id, state) {
      const m = maps.get(el);
      const mk = m && m.markers.get(id);
      if (!mk) return;
      mk.options.cbState = state;
      mk.setIcon(icon(state));
      m.cluster.refreshClusters(mk);
    },
    center(el) {
      const m = maps.get(el);
      if (!m) return null;
      const c = m.map.getCenter();
      return [c.lat, c.lng];
    },
  };
})();
