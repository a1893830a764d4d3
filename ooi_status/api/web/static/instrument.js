/* Instrument view: its monitored streams (status, marks, data age, effective intervals,
 * overrides), the availability timeline with zoom, recent status changes, and the operator's
 * writes (enable, edit intervals) sent with the key of this browser tab. Silences,
 * acknowledgements, disables with a reason and the 7-day status timeline are operator.js's,
 * through ``InstrumentView``. */
"use strict";

(() => {
  const {
    config, escapeHtml, request, showError, parseTime, fromInput, formatTime, isoTime, duration, ago, badge, rollup,
    statusLabel, timeCell, ensureKey, STATUS_ORDER, marks,
  } = OOI;
  const refdes = config.refdes;
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["expected_rate", "warn_interval", "fail_interval"];
  // Enough for the 7-day status timeline of a stream that changes every hour.
  const HISTORY_PER_STREAM = 200;
  const HISTORY_SHOWN = 40;
  // A stream whose status keeps changing: held out of immediate messages until it settles.
  const FLAPPING = ` <span class="badge badge--flapping" title="Status changing often: left out of ` +
    `immediate messages until stable">Flapping</span>`;
  const fallbackColors = Object.fromEntries(config.categories.map((c) => [c.label, c.color]));

  let streams = [];
  let timeline = null;
  let zoom = readZoom();
  let editing = null;
  let writes = 0;

  // --- streams ---------------------------------------------------------------------------------

  function isDisabled(stream) {
    return FIELDS.every((f) => stream[f] === 0);
  }

  function intervalCell(stream, field) {
    const expected = (stream.expected_stream || {})[field];
    const override = stream[field];
    const value = override ?? expected;
    const isRate = field === "expected_rate";
    const shown = value == null ? "—" : value === 0 ? "off" : isRate ? `${value} Hz` : duration(value);
    const label = { expected_rate: "Rate", warn_interval: "Warn after", fail_interval: "Fail after" }[field];
    const exact = value == null ? "" : isRate ? `${value} Hz` : `${value} s`;
    const title = override == null ? `${exact} (expected stream's value)` : `${exact}; expected stream's value: ${expected ?? "none"}`;
    const tag = override == null ? "" : `<span class="override">override</span>`;
    return `<td class="num" data-field="${field}" data-label="${label}" title="${escapeHtml(title)}"><span class="${value === 0 ? "muted" : ""}">${escapeHtml(shown)}</span>${tag}</td>`;
  }

  function streamRow(stream) {
    const expected = stream.expected_stream || {};
    const disabled = isDisabled(stream);
    const last = parseTime(stream.last_data_time);
    const lastCell = stream.last_data_time === undefined ? `<span class="muted">—</span>`
      : last == null ? `<span class="muted">no data</span>`
      : `<time datetime="${isoTime(last)}" title="${formatTime(last)} UTC">${escapeHtml(ago(last))}</time>`;
    const name = escapeHtml(expected.name);
    const toggle = disabled
      ? `<button type="button" class="button button--small" data-action="enable">Enable<span class="visually-hidden"> ${name}</span></button>`
      : `<button type="button" class="button button--small button--danger" data-action="disable">Disable…<span class="visually-hidden"> ${name}</span></button>`;
    const troubled = stream.status === "failed" || stream.status === "degraded";
    const acknowledge = troubled
      ? `<button type="button" class="button button--small" data-action="acknowledge">${stream.acknowledged ? "Re-acknowledge" : "Acknowledge"}<span class="visually-hidden"> ${name}</span></button>`
      : "";
    return `<tr data-id="${stream.id}" data-status="${escapeHtml(stream.status)}" class="${disabled ? "is-disabled" : ""}"` +
      ` data-silenced="${Boolean(stream.silenced)}" data-acknowledged="${Boolean(stream.acknowledged)}">` +
      `<td class="refdes" data-label="Stream">${name}</td><td data-label="Method">${escapeHtml(expected.method)}</td>` +
      `<td data-label="Status"><span class="status-cell">${badge(stream.status)}${stream.flapping ? FLAPPING : ""}${marks(stream, { details: true })}</span></td>` +
      `<td class="when" data-label="Status since">${timeCell(parseTime(stream.status_time))}</td>` +
      `<td class="when" data-label="Last data">${lastCell}</td>` +
      FIELDS.map((f) => intervalCell(stream, f)).join("") +
      `<td class="actions-cell"><div class="row-actions">${acknowledge}<button type="button" class="button button--small" data-action="edit">Edit<span class="visually-hidden"> intervals of ${name}</span></button>${toggle}</div></td></tr>`;
  }

  function renderStreams() {
    const order = (s) => `${(s.expected_stream || {}).method} ${(s.expected_stream || {}).name}`;
    streams.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    // A refresh rebuilds the rows: keep the keyboard where it was.
    const focused = document.activeElement && document.activeElement.closest("#stream-rows [data-action]");
    const refocus = focused ? [focused.closest("tr").dataset.id, focused.dataset.action] : null;
    $("stream-rows").innerHTML = streams.map(streamRow).join("");
    $("streams-empty").hidden = streams.length > 0;
    if (refocus) {
      const button = $("stream-rows").querySelector(`tr[data-id="${refocus[0]}"] [data-action="${refocus[1]}"]`);
      if (button) button.focus();
    }
    renderSummary();
  }

  function renderSummary() {
    if (!streams.length) {
      $("instrument-summary").textContent = "Not monitored: no stream of this instrument is tracked.";
      return;
    }
    const counts = STATUS_ORDER.map((s) => [s, streams.filter((x) => x.status === s).length]).filter(([, n]) => n);
    const parts = counts.map(([s, n]) => `${n} ${statusLabel(s).toLowerCase()}`).join(", ");
    $("instrument-summary").innerHTML = `${badge(rollup(streams.map((s) => s.status)))}` +
      `<span>${streams.length} monitored stream${streams.length === 1 ? "" : "s"}: ${escapeHtml(parts)}</span>`;
  }

  async function loadStreams() {
    const writesBefore = writes;
    try {
      const payload = await request(`/instrument?refdes=${encodeURIComponent(refdes)}`);
      // A write answered while this read was under way: its answer is newer than this one.
      if (writes !== writesBefore) return;
      streams = payload[refdes] ? payload[refdes].status : [];
      showError($("streams-error"), null);
      renderStreams();
      renderDiagnosis(payload[refdes] ? payload[refdes].diagnosis : null);
      $("updated").textContent = `Updated ${formatTime(Date.now())} UTC · every ${config.checkInterval} s`;
    } catch (error) {
      showError($("streams-error"), error);
      if (!streams.length) $("instrument-summary").textContent = "Status unavailable.";
    }
  }

  // --- port agent: where the data stops, bytes per second ---------------------------------------

  function renderDiagnosis(text) {
    $("instrument-diagnosis").textContent = text || "";
    $("instrument-diagnosis").hidden = !text;
  }

  async function loadPort() {
    const stop = Date.now();
    const start = stop - 24 * 3600 * 1000;
    const path = `/instrument/${encodeURIComponent(refdes)}/port?start_time=${isoTime(start)}&stop_time=${isoTime(stop)}`;
    $("port-csv").href = `${path}&format=csv`;
    try {
      const payload = await request(path);
      showError($("port-error"), null);
      $("port-chart").dataset.points = String(PortChart.draw($("port-chart"), payload.counts || [], start, stop));
    } catch (error) {
      if (error && error.status === 404) {
        $("port-chart").innerHTML = `<p class="placeholder">No port agent reports for this instrument.</p>`;
        $("port-chart").dataset.points = "0";
      } else {
        showError($("port-error"), error);
      }
    }
  }

  // --- writes ------------------------------------------------------------------------------------

  function replaceStream(updated) {
    writes += 1;
    streams = streams.map((s) => (s.id === updated.id ? updated : s));
    renderStreams();
  }

  function notice(text) {
    const el = $("streams-notice");
    el.textContent = text;
    el.hidden = !text;
  }

  async function toggle(stream, action, button) {
    showError($("streams-error"), null);
    notice("");
    if (!(await ensureKey())) return;
    button.disabled = true;
    try {
      replaceStream(await request(`/stream/${stream.id}/${action}`, { method: "PUT" }));
      const name = `${stream.expected_stream.method} ${stream.expected_stream.name}`;
      notice(action === "disable"
        ? `${name} is no longer tracked; its status changes at the monitor's next check.`
        : `${name} is tracked again with the expected stream's intervals, from the monitor's next check.`);
      const again = $("stream-rows").querySelector(`tr[data-id="${stream.id}"] [data-action="${action === "disable" ? "enable" : "disable"}"]`);
      if (again) again.focus();
      loadHistory();
    } catch (error) {
      button.disabled = false;
      showError($("streams-error"), error);
    }
  }

  function openEditor(stream) {
    editing = stream;
    const form = $("edit-form");
    const expected = stream.expected_stream || {};
    $("edit-stream").textContent = `${expected.method} ${expected.name}`;
    // The dialog speaks the table's units: durations for the intervals, Hz for the rate.
    const shown = (field, value) => (value == null ? "" : field === "expected_rate" ? String(value) : value === 0 ? "off" : duration(value));
    for (const field of FIELDS) {
      form.elements[field].value = shown(field, stream[field]);
      form.elements[field].placeholder = expected[field] == null ? "" : `default: ${shown(field, expected[field])}`;
    }
    showError($("edit-error"), null);
    $("edit-dialog").showModal();
    form.elements.warn_interval.focus();
  }

  const UNIT_SECONDS = { s: 1, sec: 1, min: 60, m: 60, h: 3600, d: 86400 };

  /** "45 s", "15 min", "2 h 30 min", "1 d 4 h", "off" or a bare number of seconds → seconds;
   * NaN when unreadable (sent as such, so the API's message names the field). */
  function parseDuration(text) {
    const t = text.trim().toLowerCase();
    if (t === "off") return 0;
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*(min|sec|s|m|h|d)\b/g)];
    if (!parts.length || parts.map((m) => m[0]).join(" ").replace(/\s+/g, "") !== t.replace(/\s+/g, "")) return NaN;
    return parts.reduce((sum, m) => sum + Number(m[1]) * UNIT_SECONDS[m[2]], 0);
  }

  function editedValues() {
    const form = $("edit-form");
    const body = {};
    for (const field of FIELDS) {
      const input = form.elements[field];
      if (input.validity.badInput) throw new Error(`${field}: not a number`);
      const text = input.value.trim();
      if (text === "") body[field] = null;
      else {
        const value = field === "expected_rate" ? Number(text) : parseDuration(text);
        if (Number.isNaN(value)) throw new Error(`${field}: write a duration such as 600 s, 15 min or 2 h 30 min`);
        body[field] = value;
      }
    }
    return body;
  }

  async function saveEdit(event) {
    event.preventDefault();
    const stream = editing;
    let body;
    try {
      body = editedValues();
    } catch (error) {
      showError($("edit-error"), error.message);
      return;
    }
    if (!(await ensureKey())) return;
    const save = $("edit-form").querySelector('[value="save"]');
    save.disabled = true;
    try {
      replaceStream(await request(`/deployed/${stream.id}`, { method: "PATCH", body }));
      $("edit-dialog").close();
      notice(`Intervals of ${stream.expected_stream.method} ${stream.expected_stream.name} saved.`);
      const button = $("stream-rows").querySelector(`tr[data-id="${stream.id}"] [data-action="edit"]`);
      if (button) button.focus();
    } catch (error) {
      showError($("edit-error"), error);
    } finally {
      save.disabled = false;
    }
  }

  // --- availability --------------------------------------------------------------------------------

  function readZoom() {
    const params = new URLSearchParams(location.search);
    const parse = (name) => {
      const text = params.get(name);
      if (!text) return null;
      const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) || text.length <= 10 ? text : `${text}Z`);
      return isNaN(ms) ? null : ms;
    };
    return { start: parse("start_time"), stop: parse("stop_time") };
  }

  /** The window as a query string; ISO times need no escaping, so shared links stay readable. */
  function zoomQuery() {
    const parts = [];
    if (zoom.start != null) parts.push(`start_time=${isoTime(zoom.start)}`);
    if (zoom.stop != null) parts.push(`stop_time=${isoTime(zoom.stop)}`);
    return parts.join("&");
  }

  /** A new window: a new history entry (Back returns to the previous one), then the timeline. */
  function setZoom(start, stop) {
    zoom = { start, stop };
    const query = zoomQuery();
    history.pushState(zoom, "", query ? `?${query}` : location.pathname);
    loadAvailability();
  }

  function inputText(ms) {
    return ms == null ? "" : formatTime(ms);
  }

  let availabilityRequest = 0;
  async function loadAvailability() {
    const ticket = ++availabilityRequest;
    const query = zoomQuery();
    $("zoom-start").value = inputText(zoom.start);
    $("zoom-stop").value = inputText(zoom.stop);
    $("timeline-csv").href = `/available/${encodeURIComponent(refdes)}?${query ? `${query}&` : ""}format=csv`;
    $("timeline").setAttribute("aria-busy", "true");
    try {
      const payload = await request(`/available/${encodeURIComponent(refdes)}${query ? `?${query}` : ""}`);
      if (ticket !== availabilityRequest) return;
      showError($("timeline-error"), null);
      if (timeline) timeline.destroy();
      timeline = Timeline.draw($("timeline"), payload.availability || [], {
        // The server clamps the window to now; so does the drawing, or the future would read as a gap.
        start: zoom.start, stop: zoom.stop == null ? null : Math.min(zoom.stop, Date.now()),
        fallbackColors, tip: $("timeline-tip"), live: $("timeline-live"),
        onZoom: (a, b) => setZoom(a, b),
      });
      $("timeline").dataset.rows = String((payload.availability || []).length);
      if (zoom.start == null && timeline.domain) $("zoom-start").value = inputText(timeline.domain[0]);
      if (zoom.stop == null && timeline.domain) $("zoom-stop").value = inputText(timeline.domain[1]);
    } catch (error) {
      if (ticket !== availabilityRequest) return;
      $("timeline").innerHTML = "";
      showError($("timeline-error"), error);
    }
    $("timeline").setAttribute("aria-busy", "false");
  }

  // --- history ---------------------------------------------------------------------------------------

  /** The latest changes of every stream (one page of /stream/<id>/history each), newest first. */
  async function loadHistory() {
    if (!streams.length) {
      $("history-rows").innerHTML = "";
      $("history-empty").hidden = false;
      return;
    }
    try {
      const pages = await Promise.all(streams.map((stream) =>
        request(`/stream/${stream.id}/history?limit=${HISTORY_PER_STREAM}`).then((page) =>
          page.history.map((change) => ({ change, stream, at: parseTime(change.changed_at) })))));
      const changes = pages.flat().sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
      if (view.onHistory) view.onHistory(changes);
      $("history-rows").innerHTML = changes.slice(0, HISTORY_SHOWN).map(historyRow).join("");
      $("history-empty").hidden = changes.length > 0;
      showError($("history-error"), null);
    } catch (error) {
      showError($("history-error"), error);
    }
  }

  function historyRow({ change, stream, at }) {
    const expected = stream.expected_stream || {};
    const age = change.elapsed == null ? `<span class="muted">—</span>` : escapeHtml(duration(change.elapsed));
    const note = change.note ? `<span class="history-note">${escapeHtml(change.note)}</span>` : "";
    return `<tr><td class="when">${timeCell(at)}</td><td class="refdes">${escapeHtml(expected.name)}</td>` +
      `<td>${escapeHtml(expected.method)}</td>` +
      `<td><span class="change">${badge(change.old_status)}<span aria-hidden="true">→</span><span class="visually-hidden">to</span>${badge(change.new_status)}</span>${note}</td>` +
      `<td class="num">${age}</td></tr>`;
  }

  // --- events ------------------------------------------------------------------------------------------

  $("stream-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const stream = streams.find((s) => String(s.id) === button.closest("tr").dataset.id);
    if (!stream) return;
    if (button.dataset.action === "edit") openEditor(stream);
    else if (button.dataset.action === "enable") toggle(stream, "enable", button);
    else if (view.onAction) view.onAction(button.dataset.action, stream);
  });
  $("edit-form").addEventListener("submit", saveEdit);
  $("edit-cancel").addEventListener("click", () => $("edit-dialog").close());
  $("edit-defaults").addEventListener("click", () => {
    for (const field of FIELDS) $("edit-form").elements[field].value = "";
  });
  $("zoom-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const start = fromInput($("zoom-start").value);
    const stop = fromInput($("zoom-stop").value);
    if (Number.isNaN(start) || Number.isNaN(stop)) {
      showError($("timeline-error"), "Write times as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC).");
      return;
    }
    if (start != null && stop != null && stop <= start) {
      showError($("timeline-error"), "The end of the range must be after its start.");
      return;
    }
    setZoom(start, stop);
  });
  $("zoom-reset").addEventListener("click", () => setZoom(null, null));
  window.addEventListener("popstate", () => {
    zoom = readZoom();
    loadAvailability();
  });

  try {
    const fleetQuery = sessionStorage.getItem("ooi_status.fleetQuery");
    if (fleetQuery) $("back-to-fleet").href = `/${fleetQuery}`;
  } catch (e) { /* storage off: the link shows the whole fleet */ }

  async function refresh() {
    await loadStreams();
    await loadHistory();
    await loadPort();
    if (view.onRefresh) view.onRefresh();
  }

  /** What operator.js works with: the streams shown, and the view's own steps. */
  const view = {
    refdes,
    get streams() { return streams; },
    replaceStream,
    notice,
    refresh,
    onAction: null,
    onHistory: null,
    onRefresh: null,
  };
  window.InstrumentView = view;

  // Where reads need a key too, a new key opens them: read again, but only then (a write that
  // asked for the key is on its way, and a concurrent re-read must not race it).
  let readsRefused = false;
  document.addEventListener("ooi:read-refused", () => { readsRefused = true; });
  document.addEventListener("ooi:operator", () => {
    if (!readsRefused) return;
    readsRefused = false;
    refresh();
    loadAvailability();
  });
  refresh();
  loadAvailability();
  setInterval(() => { if (!document.hidden) refresh(); }, config.checkInterval * 1000);
})();
