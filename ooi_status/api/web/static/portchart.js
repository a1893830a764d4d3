/* The port agent's bytes per second, from /instrument/<refdes>/port: a small line chart (SVG). */
"use strict";

const PortChart = (() => {
  const W = 600, H = 120, PAD = { left: 56, right: 8, top: 8, bottom: 20 };

  function parse(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text || "");
    return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
  }

  function label(rate) {
    return rate >= 1e6 ? `${(rate / 1e6).toFixed(1)} MB/s` : rate >= 1e3 ? `${(rate / 1e3).toFixed(1)} kB/s` : `${Math.round(rate)} B/s`;
  }

  /** Draw ``rows`` (time, bytes_per_second) into ``el`` over [start, stop] (ms); returns the point count. */
  function draw(el, rows, start, stop) {
    const points = rows.map((r) => [parse(r.time), r.bytes_per_second]).filter(([t]) => !Number.isNaN(t));
    if (!points.length) {
      el.innerHTML = `<p class="placeholder">No port-agent counts in the last 24 hours.</p>`;
      return 0;
    }
    const top = Math.max(1, ...points.map(([, r]) => r));
    const x = (t) => PAD.left + ((t - start) / Math.max(1, stop - start)) * (W - PAD.left - PAD.right);
    const y = (r) => H - PAD.bottom - (r / top) * (H - PAD.top - PAD.bottom);
    const line = points.map(([t, r]) => `${x(t).toFixed(1)},${y(r).toFixed(1)}`).join(" ");
    const last = points[points.length - 1];
    el.innerHTML =
      `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Bytes per second received by the port agent, last 24 hours; latest ${label(last[1])}">` +
      `<line class="axis" x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}"/>` +
      `<text x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end">${label(top)}</text>` +
      `<text x="${PAD.left - 4}" y="${H - PAD.bottom}" text-anchor="end">0</text>` +
      `<text x="${PAD.left}" y="${H - 4}">24 h ago</text><text x="${W - PAD.right}" y="${H - 4}" text-anchor="end">now</text>` +
      `<polyline class="rate" points="${line}"/></svg>`;
    return points.length;
  }

  return { draw };
})();
