/* Shared by every page: settings from the server, JSON requests, the operator key, formatting.
 *
 * The operator key lives in sessionStorage only (gone when the tab closes); it is sent as
 * the X-API-Key header and never put in a cookie or a URL. */
"use strict";

const OOI = (() => {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const KEY_NAME = "ooi_status.apiKey";
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

  function setApiKey(key) {
    if (key) sessionStorage.setItem(KEY_NAME, key);
    else sessionStorage.removeItem(KEY_NAME);
    showOperator();
    // Pages read again: where reads need a key too, the new key may open them.
    document.dispatchEvent(new CustomEvent("ooi:operator", { detail: { set: Boolean(key) } }));
  }

  function showOperator() {
    const state = document.getElementById("operator-state");
    const set = Boolean(apiKey());
    state.textContent = set ? "Operator key set for this tab" : "Read only";
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
      const onSubmit = (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        setApiKey(key);
        dialog.close();
        done(key);
      };
      const onCancel = () => dialog.close();
      const onClose = () => done("");
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      document.getElementById("key-cancel").addEventListener("click", onCancel);
      dialog.showModal();
      input.focus();
    });
  }

  async function ensureKey() {
    return apiKey() || askForKey();
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

  function timeCell(ms) {
    if (ms == null) return `<span class="muted">—</span>`;
    return `<time datetime="${isoTime(ms)}" title="${formatTime(ms)} UTC">${formatTime(ms, { seconds: false })}</time>`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    showOperator();
    document.getElementById("operator-key-button").addEventListener("click", () => askForKey());
    document.getElementById("operator-forget-button").addEventListener("click", () => setApiKey(""));
  });

  return {
    config, STATUS_ORDER, SEVERITY, ApiError, escapeHtml, apiKey, setApiKey, askForKey, ensureKey,
    request, showError, errorText, parseTime, formatTime, isoTime, duration, ago, statusLabel, badge,
    rollup, timeCell,
  };
})();
