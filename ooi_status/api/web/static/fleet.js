/* Fleet view: counts per status, the instrument table, filter and sort kept in the URL,
 * refreshed every CHECK_INTERVAL seconds. Rows are built as one HTML string and set in one
 * go, so thousands of instruments render in a few tens of milliseconds.
 *
 * Default order: worst first (failed, degraded, then the rest); within a status, instruments
 * nobody has handled yet come before those silenced or acknowledged. "Silent for" is the data
 * age of the instrument's oldest stream of its overall status. Site and node filters list
 * their counts; the tab title carries the fleet's failed and degraded counts. */
"use strict";

(() => {
  const {
    config, STATUS_ORDER, SEVERITY, escapeHtml, request, showError, parseTime, formatTime, badge, timeCell,
    duration, setTitle, marks, siteOf, nodeOf,
  } = OOI;
  const SORT_KEYS = ["refdes", "overall", "age", ...STATUS_ORDER, "changed", "uptime"];
  const DEFAULT_SORT = { sort: "overall", dir: "desc" };
  const $ = (id) => document.getElementById(id);

  let instruments = [];
  let loading = null;
  let timer = null;
  let loadedAt = 0;
  const state = readState();

  function readState() {
    const params = new URLSearchParams(location.search);
    const known = SORT_KEYS.includes(params.get("sort"));
    const sort = known ? params.get("sort") : DEFAULT_SORT.sort;
    const dir = known ? (params.get("dir") === "desc" ? "desc" : "asc") : DEFAULT_SORT.dir;
    const status = STATUS_ORDER.includes(params.get("status")) ? params.get("status") : "";
    return { q: params.get("q") || "", status, sort, dir, site: params.get("site") || "", node: params.get("node") || "" };
  }

  function writeState() {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.status) params.set("status", state.status);
    if (state.site) params.set("site", state.site);
    if (state.node) params.set("node", state.node);
    if (state.sort !== DEFAULT_SORT.sort || state.dir !== DEFAULT_SORT.dir) {
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

  function toRows(payload, uptimes, now = Date.now()) {
    return Object.entries(payload).map(([refdes, instrument]) => {
      const counts = { operational: 0, degraded: 0, failed: 0, notTracked: 0 };
      const words = [refdes.toLowerCase()];
      let changed = null;
      let oldest = null;  // the oldest last data of the streams of the overall status
      let troubled = 0;
      let handled = 0;
      for (const stream of instrument.status) {
        counts[stream.status] = (counts[stream.status] || 0) + 1;
        const t = parseTime(stream.status_time);
        if (t != null && (changed == null || t > changed)) changed = t;
        const expected = stream.expected_stream || {};
        words.push(`${expected.method || ""} ${expected.name || ""}`.toLowerCase());
        if (stream.status === "failed" || stream.status === "degraded") {
          troubled += 1;
          if (stream.silenced || stream.acknowledged) handled += 1;
        }
        if (stream.status === instrument.overall && instrument.overall !== "notTracked") {
          const last = parseTime(stream.last_data_time);
          if (last != null && (oldest == null || last < oldest)) oldest = last;
        }
      }
      const diagnosis = instrument.diagnosis || null;
      if (diagnosis) words.push(diagnosis.toLowerCase());
      const uptime = uptimes.get(refdes) ?? null;
      return {
        refdes, overall: instrument.overall, counts, total: instrument.status.length, changed, diagnosis, uptime,
        text: words.join("\n"), site: siteOf(refdes), node: nodeOf(refdes),
        age: oldest == null ? null : Math.max(0, (now - oldest) / 1000),
        silenced: instrument.silenced || null,
        acknowledged: troubled > 0 && handled === troubled && !instrument.silenced,
        // Someone is on it: silenced as a whole, or each failed and degraded stream silenced or acknowledged.
        handled: Boolean(instrument.silenced) || (troubled > 0 && handled === troubled),
      };
    });
  }

  function matches(row, terms) {
    if (state.status && row.overall !== state.status) return false;
    if (state.site && row.site !== state.site) return false;
    if (state.node && row.node !== state.node) return false;
    return terms.every((term) => row.text.includes(term));
  }

  function compare(a, b) {
    const byName = a.refdes < b.refdes ? -1 : a.refdes > b.refdes ? 1 : 0;
    const sign = state.dir === "desc" ? -1 : 1;
    let d;
    switch (state.sort) {
      case "refdes": return sign * byName;
      // Worst first; of the same status, the unhandled ones above the silenced or acknowledged.
      case "overall": d = SEVERITY[a.overall] - SEVERITY[b.overall] || Number(b.handled) - Number(a.handled); break;
      case "age": d = (a.age ?? -Infinity) - (b.age ?? -Infinity); break;
      case "changed": d = (a.changed ?? -Infinity) - (b.changed ?? -Infinity); break;
      case "uptime": d = (a.uptime ?? -Infinity) - (b.uptime ?? -Infinity); break;
      default: d = a.counts[state.sort] - b.counts[state.sort];
    }
    return sign * d || byName;
  }

  // --- rendering -------------------------------------------------------------------------------

  function rowHtml(row) {
    const refdes = escapeHtml(row.refdes);
    const cells = STATUS_ORDER.map((s) => `<td class="num${row.counts[s] ? "" : " zero"}" data-label="${escapeHtml(config.statuses[s])}">${row.counts[s]}</td>`).join("");
    const mark = row.silenced ? marks({ silenced: row.silenced })
      : row.acknowledged ? `<span class="mark mark--acknowledged" data-mark="acknowledged">Acknowledged</span>` : "";
    const age = row.age == null ? `<span class="muted">—</span>` : escapeHtml(duration(row.age));
    const diagnosis = row.diagnosis ? `<div class="diagnosis">${escapeHtml(row.diagnosis)}</div>` : "";
    const uptime = row.uptime == null ? "–" : `${row.uptime.toFixed(2)} %`;
    return `<tr data-refdes="${refdes}" data-status="${escapeHtml(row.overall)}" data-handled="${row.handled}">` +
      `<td data-label="Instrument"><a class="refdes" href="/ui/instrument/${encodeURIComponent(row.refdes)}">${refdes}</a></td>` +
      `<td data-label="Status"><span class="status-cell">${badge(row.overall)}${mark}</span>${diagnosis}</td>` +
      `<td class="num" data-label="Silent for" data-field="age">${age}</td>${cells}` +
      `<td class="when" data-label="Last status change">${timeCell(row.changed)}</td>` +
      `<td class="num${row.uptime == null ? " zero" : ""}" data-label="Uptime 7 d" data-field="uptime">${uptime}</td></tr>`;
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
    $("filter-site").value = state.site;
    $("filter-node").value = state.node;
  }

  // --- sites and nodes, with their counts --------------------------------------------------------

  function groupCounts(key) {
    const groups = new Map();
    for (const row of instruments) {
      const name = row[key];
      if (!groups.has(name)) groups.set(name, { total: 0, failed: 0, degraded: 0 });
      const g = groups.get(name);
      g.total += 1;
      if (row.overall === "failed" || row.overall === "degraded") g[row.overall] += 1;
    }
    return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  }

  function optionText(name, g) {
    const bad = [g.failed ? `${g.failed} failed` : "", g.degraded ? `${g.degraded} degraded` : ""].filter(Boolean);
    return `${name} · ${g.total}${bad.length ? ` (${bad.join(", ")})` : ""}`;
  }

  function renderGroups() {
    const fill = (select, groups, anyText) => {
      select.innerHTML = `<option value="">${anyText}</option>` + groups.map(([name, g]) =>
        `<option value="${escapeHtml(name)}" data-total="${g.total}" data-failed="${g.failed}" data-degraded="${g.degraded}">${escapeHtml(optionText(name, g))}</option>`).join("");
    };
    fill($("filter-site"), groupCounts("site"), "Every site");
    const nodes = groupCounts("node").filter(([name]) => !state.site || name.startsWith(`${state.site}-`));
    fill($("filter-node"), nodes, "Every node");
    // A site or node from the URL that is not (or no longer) in the fleet still shows as chosen.
    for (const [id, value] of [["filter-site", state.site], ["filter-node", state.node]]) {
      if (value && ![...$(id).options].some((o) => o.value === value)) {
        $(id).insertAdjacentHTML("beforeend", `<option value="${escapeHtml(value)}">${escapeHtml(value)} · 0</option>`);
      }
    }
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
    setTitle(`${perInstrument.failed} failed · ${perInstrument.degraded} degraded — OOI ingest status`);
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
      renderGroups();
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
  $("filter-site").addEventListener("change", (event) => {
    const site = event.target.value;
    // A node of another site no longer applies.
    const node = state.node && site && !state.node.startsWith(`${site}-`) ? "" : state.node;
    Object.assign(state, { site, node });
    renderGroups();
    setFilter({});
  });
  $("filter-node").addEventListener("change", (event) => setFilter({ node: event.target.value }));
  $("filter-clear").addEventListener("click", () => {
    setFilter({ q: "", status: "", site: "", node: "" });
    renderGroups();
    showText();
  });
  for (const tile of document.querySelectorAll("button.tile")) {
    tile.addEventListener("click", () => setFilter({ status: state.status === tile.dataset.status ? "" : tile.dataset.status }));
  }
  for (const th of document.querySelectorAll("#fleet-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      // Text reads naturally ascending; counts, ages, times and severity most-first.
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
    renderGroups();
    render();
  });

  showText();
  renderHeaders();
  writeState();
  load();
})();
