/* The availability timeline, drawn by hand as SVG from the JSON of /available/<refdes>.
 *
 * One row per element of the answer (deployments first, then one per stream), one rect per
 * span. Hovering a span (or focusing a row and stepping with the arrow keys) shows its
 * label, start and end; dragging across the plot asks the page to zoom to that range. */
"use strict";

const Timeline = (() => {
  const { escapeHtml, parseTime, formatTime, duration } = OOI;
  const AXIS = 24;
  const LABEL = 19;
  const BAR = 18;
  const GAP = 13;
  const ROW = LABEL + BAR + GAP;
  const HOUR = 3600e3;
  const DAY = 24 * HOUR;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // Tick steps, finest first: [unit, count, approximate length].
  const STEPS = [
    ["hour", 1, HOUR], ["hour", 3, 3 * HOUR], ["hour", 6, 6 * HOUR], ["hour", 12, 12 * HOUR],
    ["day", 1, DAY], ["day", 2, 2 * DAY], ["day", 7, 7 * DAY], ["day", 14, 14 * DAY],
    ["month", 1, 30.4 * DAY], ["month", 3, 91 * DAY], ["month", 6, 182 * DAY],
    ["year", 1, 365 * DAY], ["year", 2, 730 * DAY], ["year", 5, 1826 * DAY], ["year", 10, 3652 * DAY],
  ];

  /** Rows with parsed spans: {measure, method, stream, spans: [{start, stop, label, color}]}. */
  function prepare(availability, fallbackColors) {
    return availability.map((element) => {
      const categories = element.categories || {};
      const spans = (element.data || []).map(([start, label, stop]) => ({
        start: parseTime(start), stop: parseTime(stop), label,
        color: (categories[label] && categories[label].color) || fallbackColors[label] || "#999999",
      })).filter((span) => span.start != null && span.stop != null);
      const measure = element.measure;
      const split = measure.indexOf(" ");
      const isDeployments = measure === "Deployments";
      return {
        measure, spans, isDeployments,
        method: isDeployments || split < 0 ? "" : measure.slice(0, split),
        stream: isDeployments || split < 0 ? measure : measure.slice(split + 1),
      };
    });
  }

  function domainOf(rows, start, stop) {
    let lo = start ?? Infinity;
    let hi = stop ?? -Infinity;
    for (const row of rows) {
      for (const span of row.spans) {
        if (start == null && span.start < lo) lo = span.start;
        if (stop == null && span.stop > hi) hi = span.stop;
      }
    }
    if (!isFinite(lo) || !isFinite(hi) || hi <= lo) return null;
    return [lo, hi];
  }

  // --- axis ------------------------------------------------------------------------------------

  function floorTo(ms, unit, count) {
    const d = new Date(ms);
    if (unit === "year") return Date.UTC(Math.floor(d.getUTCFullYear() / count) * count, 0, 1);
    if (unit === "month") return Date.UTC(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / count) * count, 1);
    if (unit === "day") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), Math.floor(d.getUTCHours() / count) * count);
  }

  function nextTick(ms, unit, count) {
    const d = new Date(ms);
    if (unit === "year") return Date.UTC(d.getUTCFullYear() + count, 0, 1);
    if (unit === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + count, 1);
    return ms + count * (unit === "day" ? DAY : HOUR);
  }

  function tickLabel(ms, unit) {
    const d = new Date(ms);
    const month = MONTHS[d.getUTCMonth()];
    if (unit === "year") return String(d.getUTCFullYear());
    if (unit === "month") return d.getUTCMonth() === 0 ? `${month} ${d.getUTCFullYear()}` : month;
    const day = `${month} ${String(d.getUTCDate()).padStart(2, "0")}`;
    if (unit === "day") return d.getUTCDate() <= 7 && d.getUTCMonth() === 0 ? `${day} ${d.getUTCFullYear()}` : day;
    return d.getUTCHours() === 0 ? day : `${String(d.getUTCHours()).padStart(2, "0")}:00`;
  }

  function ticks([lo, hi], width) {
    const wanted = Math.max(2, Math.floor(width / 95));
    const [unit, count] = STEPS.find(([, , length]) => (hi - lo) / length <= wanted) || STEPS[STEPS.length - 1];
    const out = [];
    let t = floorTo(lo, unit, count);
    if (unit === "day" && count > 1) t = lo - ((lo - Date.UTC(1970, 0, 5)) % (count * DAY)); // weeks start on Monday
    for (; t <= hi && out.length < 200; t = nextTick(t, unit, count)) {
      if (t >= lo) out.push({ t, label: tickLabel(t, unit) });
    }
    return out;
  }

  // --- drawing ---------------------------------------------------------------------------------

  function coverage(row) {
    let present = 0;
    let expected = 0;
    for (const span of row.spans) {
      const length = span.stop - span.start;
      if (span.label === "Not Expected") continue;
      expected += length;
      if (span.label !== "Missing") present += length;
    }
    return expected > 0 ? present / expected : null;
  }

  function rowSummary(row) {
    if (row.isDeployments) {
      const n = row.spans.length;
      return `${n} deployment${n === 1 ? "" : "s"}`;
    }
    const share = coverage(row);
    const n = row.spans.length;
    return `${share == null ? "no data expected" : `${(share * 100).toFixed(1)} % with data`} · ${n} span${n === 1 ? "" : "s"}`;
  }

  function svgFor(rows, domain, width) {
    const [lo, hi] = domain;
    const x = (t) => ((Math.min(Math.max(t, lo), hi) - lo) / (hi - lo)) * width;
    const height = AXIS + rows.length * ROW;
    const parts = [`<svg class="tl-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="group" aria-label="Availability timeline, ${escapeHtml(formatTime(lo))} to ${escapeHtml(formatTime(hi))} UTC">`];
    parts.push(`<g class="tl-axis" aria-hidden="true">`);
    for (const tick of ticks(domain, width)) {
      const px = x(tick.t).toFixed(1);
      parts.push(`<line class="tl-grid" x1="${px}" x2="${px}" y1="${AXIS - 6}" y2="${height - GAP}"/>` +
        `<text x="${px}" y="${AXIS - 10}" text-anchor="${+px < 30 ? "start" : +px > width - 30 ? "end" : "middle"}">${escapeHtml(tick.label)}</text>`);
    }
    parts.push(`</g><rect class="tl-plot" x="0" y="0" width="${width}" height="${height}" fill="transparent"/>`);
    rows.forEach((row, r) => {
      const top = AXIS + r * ROW;
      const summary = rowSummary(row);
      const title = row.isDeployments ? "Deployments"
        : `<tspan class="tl-method">${escapeHtml(row.method)}</tspan> ${escapeHtml(row.stream)}`;
      parts.push(`<g class="tl-row" data-row="${r}" data-measure="${escapeHtml(row.measure)}" tabindex="0" role="group" ` +
        `aria-label="${escapeHtml(row.measure)}: ${escapeHtml(summary)}">` +
        `<text class="tl-label" x="0" y="${top + LABEL - 6}">${title}</text>` +
        (width < 560 ? "" : `<text class="tl-count" x="${width}" y="${top + LABEL - 6}" text-anchor="end" aria-hidden="true">${escapeHtml(summary)}</text>`) +
        `<rect class="tl-track" x="0" y="${top + LABEL}" width="${width}" height="${BAR}" rx="2"/>`);
      row.spans.forEach((span, i) => {
        const left = x(span.start);
        const w = Math.max(x(span.stop) - left, 0.6);
        parts.push(`<rect class="tl-span" data-i="${i}" x="${left.toFixed(2)}" y="${top + LABEL}" width="${w.toFixed(2)}" ` +
          `height="${BAR}" fill="${escapeHtml(span.color)}"/>`);
      });
      parts.push(`</g>`);
    });
    parts.push(`<rect class="tl-brush" x="0" y="${AXIS - 4}" width="0" height="${height - AXIS - GAP + 8}" visibility="hidden"/></svg>`);
    return parts.join("");
  }

  function spanTimes(span) {
    return `${formatTime(span.start)} → ${formatTime(span.stop)} UTC (${duration((span.stop - span.start) / 1000)})`;
  }

  /**
   * Draw into ``container``, and again when it is resized; returns {rows, domain, redraw, destroy}.
   * options: {start, stop (ms or null: from the spans), fallbackColors, tip (element),
   *           live (element announcing the span read with the keyboard), onZoom(startMs, stopMs)}
   */
  function draw(container, availability, options) {
    const rows = prepare(availability, options.fallbackColors || {});
    const domain = domainOf(rows, options.start, options.stop);
    const tip = options.tip;
    let width = 0;
    let svg = null;
    const active = {};

    function render() {
      width = Math.max(container.clientWidth - 24, 240);
      if (!domain) {
        container.innerHTML = `<p class="placeholder">No data and no deployment in this time range.</p>`;
        return;
      }
      container.innerHTML = svgFor(rows, domain, width);
      svg = container.querySelector("svg");
      bind();
    }

    function timeAt(clientX) {
      const box = svg.getBoundingClientRect();
      const f = Math.min(Math.max((clientX - box.left) / box.width, 0), 1);
      return domain[0] + f * (domain[1] - domain[0]);
    }

    function showTip(row, span, clientX, clientY) {
      tip.innerHTML = `<strong><span class="tip-swatch" style="background:${escapeHtml(span.color)}"></span>` +
        `${escapeHtml(span.label)}</strong>${escapeHtml(spanTimes(span))}<br><span class="muted">${escapeHtml(row.measure)}</span>`;
      tip.hidden = false;
      const margin = 14;
      const { offsetWidth: w, offsetHeight: h } = tip;
      let left = clientX + margin;
      if (left + w > window.innerWidth - 8) left = clientX - w - margin;
      let top = clientY + margin;
      if (top + h > window.innerHeight - 8) top = clientY - h - margin;
      tip.style.left = `${Math.max(left, 8)}px`;
      tip.style.top = `${Math.max(top, 8)}px`;
    }

    function hideTip() {
      tip.hidden = true;
    }

    function hit(target) {
      const rect = target.closest && target.closest("rect.tl-span");
      if (!rect) return null;
      const r = +rect.parentNode.dataset.row;
      return { row: rows[r], span: rows[r].spans[+rect.dataset.i], rect };
    }

    function bind() {
      const brush = svg.querySelector(".tl-brush");
      let dragFrom = null;

      svg.addEventListener("pointermove", (event) => {
        if (dragFrom !== null) {
          const box = svg.getBoundingClientRect();
          const a = Math.min(dragFrom, event.clientX) - box.left;
          const b = Math.max(dragFrom, event.clientX) - box.left;
          brush.setAttribute("x", Math.max(a, 0));
          brush.setAttribute("width", Math.max(Math.min(b, box.width) - Math.max(a, 0), 0));
          brush.setAttribute("visibility", "visible");
          hideTip();
          return;
        }
        const found = hit(event.target);
        if (found) showTip(found.row, found.span, event.clientX, event.clientY);
        else hideTip();
      });
      svg.addEventListener("pointerleave", () => { if (dragFrom === null) hideTip(); });
      svg.addEventListener("pointerdown", (event) => {
        if (event.button !== 0) return;
        dragFrom = event.clientX;
        svg.setPointerCapture(event.pointerId);
      });
      svg.addEventListener("pointerup", (event) => {
        if (dragFrom === null) return;
        const from = dragFrom;
        dragFrom = null;
        brush.setAttribute("visibility", "hidden");
        if (Math.abs(event.clientX - from) >= 6 && options.onZoom) {
          const a = timeAt(Math.min(from, event.clientX));
          const b = timeAt(Math.max(from, event.clientX));
          options.onZoom(Math.floor(a / 1000) * 1000, Math.ceil(b / 1000) * 1000);
        } else {
          const found = hit(document.elementFromPoint(event.clientX, event.clientY) || event.target);
          if (found) showTip(found.row, found.span, event.clientX, event.clientY);
        }
      });

      for (const g of svg.querySelectorAll(".tl-row")) {
        g.addEventListener("keydown", (event) => stepSpan(g, event));
        g.addEventListener("blur", () => {
          for (const el of g.querySelectorAll(".is-active")) el.classList.remove("is-active");
          hideTip();
        });
      }
    }

    function stepSpan(g, event) {
      const r = +g.dataset.row;
      const row = rows[r];
      if (!row.spans.length) return;
      const last = row.spans.length - 1;
      let i = active[r] ?? -1;
      if (event.key === "ArrowRight") i = Math.min(i + 1, last);
      else if (event.key === "ArrowLeft") i = i < 0 ? last : Math.max(i - 1, 0);
      else if (event.key === "Home") i = 0;
      else if (event.key === "End") i = last;
      else if (event.key === "Escape") { hideTip(); return; }
      else return;
      event.preventDefault();
      active[r] = i;
      for (const el of g.querySelectorAll(".is-active")) el.classList.remove("is-active");
      const rect = g.querySelector(`rect.tl-span[data-i="${i}"]`);
      rect.classList.add("is-active");
      const box = rect.getBoundingClientRect();
      showTip(row, row.spans[i], box.left + box.width / 2, box.bottom);
      if (options.live) options.live.textContent = `${row.spans[i].label}, ${spanTimes(row.spans[i])}. ${i + 1} of ${last + 1}.`;
    }

    render();
    let resizeTimer = null;
    const observer = new ResizeObserver(() => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (Math.abs(container.clientWidth - 24 - width) > 2) render();
      }, 100);
    });
    observer.observe(container);
    return { rows, domain, redraw: render, destroy: () => observer.disconnect() };
  }

  return { draw, prepare, ticks };
})();
