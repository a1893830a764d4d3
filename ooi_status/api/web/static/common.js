/* Shared by every page: settings from the server, JSON requests, the operator key, formatting,
 * the monitor's pulse and the tab title.
 *
 * The operator key lives in sessionStorage only (gone when the tab closes); it is sent as
 * the X-API-Key header and never put in a cookie or a URL. A key is kept only once the
 * server said it is a configured one (GET /key).
 *
 * The pulse: every page reads /health each CHECK_INTERVAL and shows the age of the monitor's
 * last check round in the header; past the health threshold a banner (and the tab title) say
 * that statuses may be stale. */
"use strict";

const OOI = (() => {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const KEY_NAME = "ooi_status.apiKey";
  const KEY_OWNER = "ooi_status.apiKeyName";
  const STATUS_ORDER = ["operational", "degraded", "failed", "notTracked"];
  // Rollup rank: failed worst; notTracked only when every stream is.
  const SEVERITY = { notTracked: 0, operational: 1, degraded: 2, failed: 3 };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function escapeHtml(text) {
    return String(text ?? "").replace(/[&<>"']/g, (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // --- the operator key ----------------------------------------------------------------------

  function apiKey() {
    try {
      return sessionStorage.getItem(KEY_NAME) || "";
    } catch (e) {
      return "";
    }
  }

  function setApiKey(key, name = "") {
    if (key) {
      sessionStorage.setItem(KEY_NAME, key);
      sessionStorage.setItem(KEY_OWNER, name);
    } else {
      sessionStorage.removeItem(KEY_NAME);
      sessionStorage.removeItem(KEY_OWNER);
    }
    showOperator();
    // Pages read again: where reads need a key too, the new key may open them.
    document.dispatchEvent(new CustomEvent("ooi:operator", { detail: { set: Boolean(key) } }));
  }

  function showOperator() {
    const state = document.getElementById("operator-state");
    const set = Boolean(apiKey());
    let owner = "";
    try {
      owner = sessionStorage.getItem(KEY_OWNER) || "";
    } catch (e) { /* storage off */ }
    state.textContent = set ? "Operator key set for this tab" : "Read only";
    state.title = set && owner ? `Writes are made as ${owner}` : "";
    state.classList.toggle("is-set", set);
    document.getElementById("operator-key-button").textContent = set ? "Change key" : "Enter API key";
    document.getElementById("operator-forget-button").hidden = !set;
  }

  /** Ask for the key in a modal dialog; resolves to the key, or "" when cancelled. */
  function askForKey() {
    const dialog = document.getElementById("key-dialog");
    const form = document.getElementById("key-form");
    const input = document.getElementById("key-input");
    input.value = "";
    return new Promise((resolve) => {
      const done = (key) => {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("close", onClose);
        document.getElementById("key-cancel").removeEventListener("click", onCancel);
        resolve(key);
      };
      const onSubmit = async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        const error = document.getElementById("key-error");
        try {
          const owner = await checkKey(key);
          showError(error, null);
          setApiKey(key, owner);
          dialog.close();
          done(key);
        } catch (e) {
          // A key the server refuses is not kept: the header stays as it was.
          showError(error, e);
          input.select();
        }
      };
      const onCancel = () => dialog.close();
      const onClose = () => done("");
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      document.getElementById("key-cancel").addEventListener("click", onCancel);
      showError(document.getElementById("key-error"), null);
      dialog.showModal();
      input.focus();
    });
  }

  async function ensureKey() {
    return apiKey() || askForKey();
  }

  /** The name of ``key`` when the server has it configured; throws ApiError otherwise. */
  async function checkKey(key) {
    let response;
    try {
      response = await fetch("/key", {
        headers: { Accept: "application/json", "X-API-Key": key }, credentials: "omit", cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "network", "The service did not answer; check the connection and try again.");
    }
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, payload && payload.error, (payload && payload.message) || `${response.status}`);
    }
    return payload.name;
  }

  // --- requests -------------------------------------------------------------------------------

  /** JSON request; throws ApiError carrying the API's own message for any non-2xx answer. */
  async function request(url, { method = "GET", body, signal } = {}) {
    const headers = { Accept: "application/json" };
    const key = apiKey();
    if (key) headers["X-API-Key"] = key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method, headers, signal, credentials: "omit", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiError(0, "network", "The service did not answer; check the connection and try again.");
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (e) {
      payload = null;
    }
    if (!response.ok) {
      if (method === "GET" && (response.status === 401 || response.status === 403)) {
        document.dispatchEvent(new CustomEvent("ooi:read-refused"));
      }
      const message = payload && payload.message ? payload.message : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, payload && payload.error, message);
    }
    return payload;
  }

  function errorText(error) {
    if (error.status === 401 && !apiKey()) return `${error.message} — enter an API key (top right).`;
    return error.message;
  }

  function showError(element, error) {
    if (!error) {
      element.hidden = true;
      element.textContent = "";
      return;
    }
    element.textContent = typeof error === "string" ? error : errorText(error);
    element.hidden = false;
  }

  // --- times: the API speaks UTC "YYYY-MM-DD HH:MM:SS" -----------------------------------------

  function parseTime(text) {
    if (!text) return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text);
    if (!m) return null;
    return Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function formatTime(ms, { seconds = true } = {}) {
    if (ms == null) return "";
    const d = new Date(ms);
    const text = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    return seconds ? `${text}:${pad(d.getUTCSeconds())}` : text;
  }

  /** "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]" (UTC) → ms; null when empty; NaN when unreadable. */
  function fromInput(value) {
    const text = value.trim();
    if (!text) return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?Z?$/.exec(text);
    if (!m) return NaN;
    return Date.UTC(+m[1], m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
  }

  /** ISO text for query strings ("2016-01-01T12:00:00Z"). */
  function isoTime(ms) {
    return new Date(Math.round(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
  }

  /** Seconds as a short human duration: "45 s", "12 min", "3 h 05 min", "4 d 2 h". */
  function duration(seconds) {
    if (seconds == null || !isFinite(seconds)) return "";
    const s = Math.max(0, Math.round(seconds));
    if (s < 120) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
    if (s < 86400 * 365) return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
    return `${(s / (86400 * 365.25)).toFixed(1)} years`;
  }

  function ago(ms, now = Date.now()) {
    return ms == null ? "" : `${duration((now - ms) / 1000)} ago`;
  }

  // --- statuses -------------------------------------------------------------------------------

  function statusLabel(status) {
    return config.statuses[status] || status;
  }

  function badge(status) {
    const s = escapeHtml(status);
    return `<span class="badge status-${s}"><span class="status-mark" aria-hidden="true"></span>${escapeHtml(statusLabel(status))}</span>`;
  }

  function rollup(statuses) {
    let worst = "notTracked";
    for (const s of statuses) if ((SEVERITY[s] ?? 0) > SEVERITY[worst]) worst = s;
    return worst;
  }

  // --- the operators' marks on a stream: silenced, acknowledged, disabled ----------------------------

  /** Small labelled badges; each carries its details (reason, who, until) in text, not only a tooltip. */
  function marks(stream, { details = false } = {}) {
    const out = [];
    const short = (text) => (text ? formatTime(parseTime(text), { seconds: false }) : "");
    if (stream.silenced) {
      const s = stream.silenced;
      const more = details ? `<span class="mark__detail">: ${escapeHtml(s.reason)}</span>` : "";
      out.push(`<span class="mark mark--silenced" data-mark="silenced" title="${escapeHtml(`Silenced until ${s.until} UTC: ${s.reason}`)}">Silenced until ${escapeHtml(short(s.until))}${more}</span>`);
    }
    if (stream.acknowledged) {
      const a = stream.acknowledged;
      const note = a.note ? `: ${a.note}` : "";
      const more = details ? `<span class="mark__detail"> ${escapeHtml(short(a.at))}${escapeHtml(note)}</span>` : "";
      out.push(`<span class="mark mark--acknowledged" data-mark="acknowledged" title="${escapeHtml(`Acknowledged by ${a.by} at ${a.at} UTC${note}`)}">Acknowledged by ${escapeHtml(a.by)}${more}</span>`);
    }
    if (stream.disabled && (stream.disabled.reason || stream.disabled.until)) {
      const d = stream.disabled;
      const until = d.until ? ` until ${short(d.until)}` : "";
      const more = details && d.reason ? `<span class="mark__detail">: ${escapeHtml(d.reason)}</span>` : "";
      out.push(`<span class="mark mark--disabled" data-mark="disabled" title="${escapeHtml(`Disabled by ${d.by || "?"}${until}${d.reason ? `: ${d.reason}` : ""}`)}">Disabled${escapeHtml(until)}${more}</span>`);
    }
    return out.join("");
  }

  /** Site (``CE01ISSM``) and node (``CE01ISSM-MFD35``) of a reference designator. */
  function siteOf(refdes) {
    return refdes.split("-")[0];
  }

  function nodeOf(refdes) {
    return refdes.split("-").slice(0, 2).join("-");
  }

  function timeCell(ms) {
    if (ms == null) return `<span class="muted">—</span>`;
    return `<time datetime="${isoTime(ms)}" title="${formatTime(ms)} UTC">${formatTime(ms, { seconds: false })}</time>`;
  }

  // --- the monitor's pulse and the tab title -------------------------------------------------------

  let titleText = document.title;
  let staleText = "";

  /** The tab title: the page's own text, after the stale warning when there is one. */
  function setTitle(text) {
    titleText = text;
    document.title = staleText ? `${staleText} · ${text}` : text;
  }

  function showPulse(check, readAt) {
    const pulse = document.getElementById("pulse");
    const banner = document.getElementById("stale-banner");
    const last = check && check.last_round ? parseTime(check.last_round) : null;
    // The server's own count of seconds (no trust in this browser's clock), plus the time since it answered.
    const age = check && check.age != null ? check.age + (Date.now() - readAt) / 1000 : null;
    const limit = (check && check.max_age) || config.healthMaxAge;
    let stale;
    if (age == null) {
      pulse.textContent = "Monitor: no check round yet";
      stale = "the monitor has never completed a check round: statuses may be stale";
    } else {
      pulse.textContent = `Last check ${duration(age)} ago`;
      pulse.title = `The monitor's last check round started ${formatTime(last)} UTC`;
      stale = age > limit ? `the monitor's last check was ${duration(age)} ago: statuses may be stale` : "";
    }
    pulse.classList.toggle("is-stale", Boolean(stale));
    banner.textContent = stale;
    banner.hidden = !stale;
    staleText = stale ? `Stale: last check ${age == null ? "never" : `${duration(age)} ago`}` : "";
    setTitle(titleText);
  }

  let pulseCheck = null;
  let pulseReadAt = 0;
  async function readPulse() {
    try {
      // /health answers 503 with the same JSON when unhealthy: read it either way.
      const response = await fetch("/health", { headers: { Accept: "application/json" }, credentials: "omit", cache: "no-store" });
      const payload = await response.json();
      pulseCheck = payload.checks && payload.checks.monitor_heartbeat;
      pulseReadAt = Date.now();
      showPulse(pulseCheck && pulseCheck.last_round ? pulseCheck : null, pulseReadAt);
    } catch (e) {
      document.getElementById("pulse").textContent = "Monitor: health not readable";
    }
  }

  function startPulse() {
    readPulse();
    setInterval(() => { if (!document.hidden) readPulse(); }, config.checkInterval * 1000);
    // Between reads the age keeps counting.
    setInterval(() => { if (pulseCheck && pulseCheck.last_round) showPulse(pulseCheck, pulseReadAt); }, 5000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    startPulse();
    showOperator();
    document.getElementById("operator-key-button").addEventListener("click", () => askForKey());
    document.getElementById("operator-forget-button").addEventListener("click", () => setApiKey(""));
  });

  return {
    config, STATUS_ORDER, SEVERITY, ApiError, escapeHtml, apiKey, setApiKey, askForKey, ensureKey,
    request, showError, errorText, parseTime, fromInput, formatTime, isoTime, duration, ago, statusLabel, badge,
    rollup, timeCell, setTitle, marks, siteOf, nodeOf,
  };
})();
