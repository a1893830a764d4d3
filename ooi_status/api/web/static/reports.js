/* Reports view: the coverage heatmap (rows × months, coloured by the Present share) and the
 * uptime table (7 and 30 days, sortable), both read from the /report routes. */
"use strict";

(() => {
  const { escapeHtml, request, showError } = OOI;
  const $ = (id) => document.getElementById(id);

  // --- coverage heatmap ------------------------------------------------------------------------

  /** Colour of a Present share: the first step whose lower bound it reaches. */
  const SCALE = [
    { min: 99, color: "#1a7f37", label: "≥ 99 %" },
    { min: 95, color: "#4fae5a", label: "95–99 %" },
    { min: 90, color: "#a3d37a", label: "90–95 %" },
    { min: 75, color: "#f6d55c", label: "75–90 %" },
    { min: 50, color: "#f19a4b", label: "50–75 %" },
    { min: 0, color: "#c9392b", label: "< 50 %" },
  ];
  const NOTHING_EXPECTED = { color: "#e6e9ee", label: "nothing expected" };

  function cellColor(percent) {
    if (percent == null) return NOTHING_EXPECTED.color;
    return SCALE.find((step) => percent >= step.min).color;
  }

  function legend() {
    $("heat-legend").innerHTML = [...SCALE, NOTHING_EXPECTED].map((step) =>
      `<li><span class="heat-legend__swatch" style="background:${step.color}"></span>${escapeHtml(step.label)}</li>`).join("");
  }

  /** The month after "YYYY-MM", as "YYYY-MM-01". */
  function nextMonth(month) {
    const [year, m] = month.split("-").map(Number);
    return m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, "0")}-01`;
  }

  function monthName(month) {
    const [year, m] = month.split("-").map(Number);
    return new Date(Date.UTC(year, m - 1, 1)).toLocaleString("en-US", { month: "short", year: "numeric", timeZone: "UTC" });
  }

  let coverage = { group: "instrument", rows: [] };

  function cellHtml(name, month, row) {
    if (!row) return `<td class="heat heat--none" data-month="${month}"><span class="visually-hidden">no data</span></td>`;
    const percent = row.present_percent;
    const text = percent == null ? "–" : `${percent.toFixed(percent >= 99.95 || percent === 0 ? 0 : 1)}`;
    const title = `${name} ${monthName(month)}: ${percent == null ? "nothing expected" : `${percent} % present`}`;
    const href = coverage.group === "site"
      ? `?group=instrument&q=${encodeURIComponent(name + "-")}`
      : `/ui/instrument/${encodeURIComponent(name)}?start_time=${month}-01T00:00:00Z&stop_time=${nextMonth(month)}T00:00:00Z`;
    return `<td class="heat" data-month="${month}" data-percent="${percent ?? ""}" style="background:${cellColor(percent)}">` +
      `<a href="${href}" title="${escapeHtml(title)}">${text}</a></td>`;
  }

  function renderHeatmap() {
    const key = coverage.group === "site" ? "site" : "refdes";
    const terms = $("coverage-filter").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const months = [...new Set(coverage.rows.map((row) => row.month))].sort();
    const byName = new Map();
    for (const row of coverage.rows) {
      if (!terms.every((term) => row[key].toLowerCase().includes(term))) continue;
      if (!byName.has(row[key])) byName.set(row[key], new Map());
      byName.get(row[key]).set(row.month, row);
    }
    $("heatmap-head").innerHTML = `<th scope="col">${coverage.group === "site" ? "Site" : "Instrument"}</th>` +
      months.map((month) => `<th scope="col" class="num">${escapeHtml(monthName(month))}</th>`).join("");
    $("heatmap-rows").innerHTML = [...byName.entries()].map(([name, cells]) =>
      `<tr data-name="${escapeHtml(name)}"><th scope="row" class="refdes">${escapeHtml(name)}</th>` +
      months.map((month) => cellHtml(name, month, cells.get(month))).join("") + "</tr>").join("");
    $("heatmap-empty").hidden = coverage.rows.length > 0;
  }

  async function loadCoverage() {
    const group = $("coverage-group").value;
    $("coverage-csv").href = `/report/coverage?group=${group}&format=csv`;
    try {
      const payload = await request(`/report/coverage?group=${group}`);
      coverage = { group, rows: payload.rows };
      showError($("coverage-error"), null);
      renderHeatmap();
      $("heatmap").dataset.ready = "true";
    } catch (error) {
      showError($("coverage-error"), error);
    }
  }

  // --- uptime table ----------------------------------------------------------------------------

  let uptime = [];
  const sort = { key: "refdes", dir: "asc" };

  function percentCell(value) {
    return value == null ? `<td class="num zero">–</td>` : `<td class="num">${value.toFixed(2)} %</td>`;
  }

  function renderUptime() {
    const sign = sort.dir === "desc" ? -1 : 1;
    const rows = [...uptime].sort((a, b) => {
      if (sort.key === "refdes") return sign * (a.refdes < b.refdes ? -1 : a.refdes > b.refdes ? 1 : 0);
      // Instruments without tracked time go last either way.
      const x = a[sort.key] ?? (sign > 0 ? Infinity : -Infinity);
      const y = b[sort.key] ?? (sign > 0 ? Infinity : -Infinity);
      return sign * (x - y) || (a.refdes < b.refdes ? -1 : 1);
    });
    $("uptime-rows").innerHTML = rows.map((row) =>
      `<tr data-refdes="${escapeHtml(row.refdes)}"><td><a class="refdes" href="/ui/instrument/${encodeURIComponent(row.refdes)}">` +
      `${escapeHtml(row.refdes)}</a></td>${percentCell(row.d7)}${percentCell(row.d30)}</tr>`).join("");
    for (const th of document.querySelectorAll("#uptime-table th[data-sort]")) {
      if (th.dataset.sort === sort.key) th.setAttribute("aria-sort", sort.dir === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }

  async function loadUptime() {
    try {
      const [week, month] = await Promise.all([
        request("/report/uptime?window=7d&group=instrument"),
        request("/report/uptime?window=30d&group=instrument"),
      ]);
      const rows = new Map();
      for (const row of month.rows) rows.set(row.refdes, { refdes: row.refdes, d7: null, d30: row.uptime_percent });
      for (const row of week.rows) {
        if (!rows.has(row.refdes)) rows.set(row.refdes, { refdes: row.refdes, d7: null, d30: null });
        rows.get(row.refdes).d7 = row.uptime_percent;
      }
      uptime = [...rows.values()];
      showError($("uptime-error"), null);
      renderUptime();
      $("uptime-table").dataset.ready = "true";
    } catch (error) {
      showError($("uptime-error"), error);
    }
  }

  // --- events ----------------------------------------------------------------------------------

  const params = new URLSearchParams(location.search);
  if (params.get("group") === "site" || params.get("group") === "instrument") $("coverage-group").value = params.get("group");
  $("coverage-filter").value = params.get("q") || "";
  $("coverage-form").addEventListener("submit", (event) => event.preventDefault());
  $("coverage-group").addEventListener("change", loadCoverage);
  $("coverage-filter").addEventListener("input", renderHeatmap);
  for (const th of document.querySelectorAll("#uptime-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      // A new column sorts ascending first: names A to Z, uptimes worst first.
      sort.dir = sort.key === key ? (sort.dir === "asc" ? "desc" : "asc") : "asc";
      sort.key = key;
      renderUptime();
    });
  }
  document.addEventListener("ooi:operator", () => { loadCoverage(); loadUptime(); });

  legend();
  loadCoverage();
  loadUptime();
})();
