/* Fleet view: counts per status, the instrument table, filter and sort kept in the URL,
 * refreshed every CHECK_INTERVAL seconds. Rows are built as one HTML string and set in one
 * go, so thousands of instruments render in a few tens of milliseconds. */
"use strict";

(() => {
  const { config, STATUS_ORDER, SEVERITY, escapeHtml, request, showError, parseTime, formatTime, badge, timeCell } = OOI;
  const SORT_KEYS = ["refdes", "overall", ...STATUS_ORDER, "changed", "uptime"];
  const $ = (id) => document.getElementById(id);

  let instruments = [];
  let loading = null;
  let timer = null;
  let loadedAt = 0;
  const state = readState();

  function readState() {
    const params = new URLSearchParams(location.search);
    const sort = SORT_KEYS.includes(params.get("sort")) ? params.get("sort") : "refdes";
    const status = STATUS_ORDER.includes(params.get("status")) ? params.get("status") : "";
    return { q: params.get("q") || "", status, sort, dir: params.get("dir") === "desc" ? "desc" : "asc" };
  }

  function writeState() {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.status) params.set("status", state.status);
    if (state.sort !== "refdes" || state.dir !== "asc") {
      params.set("sort", state.sort);
      params.set("dir", state.dir);
    }
    const query = params.toString();
    history.replaceState(null, "", query ? `?${query}` : location.pathname);
    try {
      sessionStorage.setItem("ooi_status.fleetQuery", query ? `?${query}` : "");
    } catch (e) { /* storage may be off: the back link then shows the whole fleet */ }
  }

  // --- data ----------------------------------------------------------------------------------

  function toRows(payload, uptimes) {
    return Object.entries(payload).map(([refdes, instrument]) => {
      const counts = { operational: 0, degraded: 0, failed: 0, notTracked: 0 };
      const words = [refdes.toLowerCase()];
      let changed = null;
      for (const stream of instrument.status) {
        counts[stream.status] = (counts[stream.status] || 0) + 1;
        const t = parseTime(stream.status_time);
        if (t != null && (changed == null || t > changed)) changed = t;
        const expected = stream.expected_stream || {};
        words.push(`${expected.method || ""} ${expected.name || ""}`.toLowerCase());
      }
      const diagnosis = instrument.diagnosis || null;
      if (diagnosis) words.push(diagnosis.toLowerCase());
      const uptime = uptimes.get(refdes) ?? null;
      return { refdes, overall: instrument.overall, counts, total: instrument.status.length, changed, diagnosis, uptime, text: words.join("\n") };
    });
  }

  function matches(row, terms) {
    if (state.status && row.overall !== state.status) return false;
    return terms.every((term) => row.text.includes(term));
  }

  function compare(a, b) {
    const byName = a.refdes < b.refdes ? -1 : a.refdes > b.refdes ? 1 : 0;
    const sign = state.dir === "desc" ? -1 : 1;
    let d;
    switch (state.sort) {
      case "refdes": return sign * byName;
      case "overall": d = SEVERITY[a.overall] - SEVERITY[b.overall]; break;
      case "changed": d = (a.changed ?? -Infinity) - (b.changed ?? -Infinity); break;
      case "uptime": d = (a.uptime ?? -Infinity) - (b.uptime ?? -Infinity); break;
      default: d = a.counts[state.sort] - b.counts[state.sort];
    }
    return sign * d || byName;
  }

  // --- rendering -------------------------------------------------------------------------------

  function rowHtml(row) {
    const refdes = escapeHtml(row.refdes);
    const cells = STATUS_ORDER.map((s) => `<td class="num${row.counts[s] ? "" : " zero"}">${row.counts[s]}</td>`).join("");
    return `<tr data-refdes="${refdes}" data-status="${escapeHtml(row.overall)}">` +
      `<td><a class="refdes" href="/ui/instrument/${encodeURIComponent(row.refdes)}">${refdes}</a></td>` +
      `<td>${badge(row.overall)}${row.diagnosis ? `<div class="diagnosis">${escapeHtml(row.diagnosis)}</div>` : ""}</td>` +
      `${cells}<td class="when">${timeCell(row.changed)}</td>` +
      `<td class="num${row.uptime == null ? " zero" : ""}" data-field="uptime">${row.uptime == null ? "–" : `${row.uptime.toFixed(2)} %`}</td></tr>`;
  }

  function render() {
    const started = performance.now();
    const terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = instruments.filter((row) => matches(row, terms)).sort(compare);
    const focused = document.activeElement && document.activeElement.closest("#fleet-rows tr");
    const refocus = focused ? focused.dataset.refdes : null;
    $("fleet-rows").innerHTML = shown.map(rowHtml).join("");
    $("fleet-empty").hidden = shown.length > 0 || loading !== null;
    const n = instruments.length;
    $("result-count").textContent = shown.length === n
      ? `${n} instrument${n === 1 ? "" : "s"}`
      : `Showing ${shown.length} of ${n} instruments`;
    if (refocus) {
      const link = $("fleet-rows").querySelector(`tr[data-refdes="${CSS.escape(refocus)}"] a`);
      if (link) link.focus();
    }
    renderHeaders();
    $("fleet-table").dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  function renderHeaders() {
    for (const th of document.querySelectorAll("#fleet-table th[data-sort]")) {
      if (th.dataset.sort === state.sort) th.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    for (const tile of document.querySelectorAll("button.tile")) {
      tile.setAttribute("aria-pressed", String(tile.dataset.status === state.status));
    }
    $("filter-status").value = state.status;
  }

  /** Put the state's text into the filter box: on opening, on history moves and on Clear only.
   * Renders leave the box alone: it is the user's while they type (a refresh or a status pick
   * in the pause before the text applies must not undo keys, nor trim a space just typed). */
  function showText() {
    clearTimeout(typing);
    if ($("filter-text").value.trim() !== state.q) $("filter-text").value = state.q;
  }

  function renderSummary() {
    const perInstrument = { operational: 0, degraded: 0, failed: 0, notTracked: 0 };
    const perStream = { operational: 0, degraded: 0, failed: 0, notTracked: 0 };
    let streams = 0;
    for (const row of instruments) {
      perInstrument[row.overall] += 1;
      for (const s of STATUS_ORDER) perStream[s] += row.counts[s];
      streams += row.total;
    }
    for (const s of STATUS_ORDER) {
      $(`count-instruments-${s}`).textContent = perInstrument[s].toLocaleString("en-US");
      $(`count-streams-${s}`).textContent = perStream[s].toLocaleString("en-US");
    }
    $("total-instruments").textContent = `· ${instruments.length.toLocaleString("en-US")}`;
    $("total-streams").textContent = `· ${streams.toLocaleString("en-US")}`;
  }

  // --- loading and refresh ---------------------------------------------------------------------

  async function load() {
    if (loading) loading.abort();
    loading = new AbortController();
    $("refresh-now").disabled = true;
    try {
      const [payload, uptimes] = await Promise.all([
        request("/instrument", { signal: loading.signal }),
        weekUptimes(loading.signal),
      ]);
      instruments = toRows(payload, uptimes);
      loading = null;
      loadedAt = Date.now();
      showError($("fleet-error"), null);
      renderSummary();
      render();
      // Time from the start of navigation to the first full table, for the page's speed checks.
      if (!$("fleet-table").dataset.readyMs) $("fleet-table").dataset.readyMs = performance.now().toFixed(0);
      $("updated").textContent = `Updated ${formatTime(Date.now())} UTC · every ${config.checkInterval} s`;
    } catch (error) {
      if (error.name === "AbortError") return;
      loading = null;
      showError($("fleet-error"), error);
      $("updated").textContent = "Not updated";
    } finally {
      $("refresh-now").disabled = false;
      schedule();
    }
  }

  /** 7-day uptime (percent) by refdes; empty when the report cannot be read (the table still shows). */
  async function weekUptimes(signal) {
    try {
      const report = await request("/report/uptime?window=7d&group=instrument", { signal });
      return new Map(report.rows.map((row) => [row.refdes, row.uptime_percent]));
    } catch (error) {
      if (error.name === "AbortError") throw error;
      return new Map();
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (document.hidden) schedule();
      else load();
    }, config.checkInterval * 1000);
  }

  // --- events ----------------------------------------------------------------------------------

  let typing = null;
  function setFilter(changes) {
    Object.assign(state, changes);
    writeState();
    render();
  }

  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("filter-text").addEventListener("input", (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter({ q: event.target.value.trim() }), 120);
  });
  $("filter-status").addEventListener("change", (event) => setFilter({ status: event.target.value }));
  $("filter-clear").addEventListener("click", () => {
    setFilter({ q: "", status: "" });
    showText();
  });
  for (const tile of document.querySelectorAll("button.tile")) {
    tile.addEventListener("click", () => setFilter({ status: state.status === tile.dataset.status ? "" : tile.dataset.status }));
  }
  for (const th of document.querySelectorAll("#fleet-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      // Text and times read naturally ascending; counts and severity most-first.
      const firstDir = key === "refdes" ? "asc" : "desc";
      setFilter({ sort: key, dir: state.sort === key ? (state.dir === "asc" ? "desc" : "asc") : firstDir });
    });
  }
  $("refresh-now").addEventListener("click", load);
  // Where reads need a key too, a new key opens them.
  document.addEventListener("ooi:operator", load);
  document.addEventListener("visibilitychange", () => {
    // A hidden tab skips its refreshes; catch up as soon as it is seen again.
    if (!document.hidden && loading === null && Date.now() - loadedAt > config.checkInterval * 1000) load();
  });
  window.addEventListener("popstate", () => {
    Object.assign(state, readState());
    showText();
    render();
  });

  showText();
  renderHeaders();
  writeState();
  load();
})();
