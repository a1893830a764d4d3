/* The notifications page: list, add, test and remove subscriptions (all with the operator key). */
"use strict";

(() => {
  const { request, ensureKey, apiKey, escapeHtml, showError, parseTime, timeCell } = OOI;
  const MODES = { immediate: "Each round", digest: "Daily digest", both: "Both" };
  const errorBox = () => document.getElementById("subscriptions-error");

  function notice(text) {
    const box = document.getElementById("subscriptions-notice");
    box.textContent = text;
    box.hidden = !text;
  }

  function rowHtml(s) {
    const match = s.match ? escapeHtml(s.match) : `<span class="muted">all</span>`;
    return `<tr data-id="${s.id}"><td>${s.kind === "chat" ? "Chat" : "E-mail"}</td>` +
      `<td class="refdes">${escapeHtml(s.target)}</td><td class="refdes">${match}</td>` +
      `<td>${escapeHtml(s.min_status)}</td><td>${escapeHtml(MODES[s.mode] || s.mode)}</td>` +
      `<td class="when">${timeCell(parseTime(s.created_at))}</td>` +
      `<td><div class="row-actions">` +
      `<button type="button" class="button button--small" data-action="test">Send a test</button>` +
      `<button type="button" class="button button--small" data-action="delete">Remove</button>` +
      `</div></td></tr>`;
  }

  async function load() {
    const locked = !apiKey();
    document.getElementById("subscriptions-locked").hidden = !locked;
    if (locked) {
      document.getElementById("subscription-rows").innerHTML = "";
      document.getElementById("subscriptions-empty").hidden = true;
      return;
    }
    try {
      const { subscriptions } = await request("/subscription");
      document.getElementById("subscription-rows").innerHTML = subscriptions.map(rowHtml).join("");
      document.getElementById("subscriptions-empty").hidden = subscriptions.length > 0;
      showError(errorBox(), null);
    } catch (error) {
      showError(errorBox(), error);
    }
  }

  async function subscribe(event) {
    event.preventDefault();
    if (!(await ensureKey())) return;
    const form = event.target;
    const body = Object.fromEntries(new FormData(form).entries());
    body.target = body.target.trim();
    body.match = body.match.trim();
    try {
      const made = await request("/subscription", { method: "POST", body });
      form.reset();
      notice(`Subscription ${made.id} added.`);
      showError(errorBox(), null);
      await load();
    } catch (error) {
      showError(errorBox(), error);
    }
  }

  async function act(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = button.closest("tr").dataset.id;
    if (!(await ensureKey())) return;
    try {
      if (button.dataset.action === "test") {
        await request(`/subscription/${id}/test`, { method: "POST" });
        notice(`Test message for subscription ${id} queued: it goes out with the next delivery round.`);
      } else {
        await request(`/subscription/${id}`, { method: "DELETE" });
        notice(`Subscription ${id} removed.`);
        await load();
      }
      showError(errorBox(), null);
    } catch (error) {
      showError(errorBox(), error);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("subscribe-form").addEventListener("submit", subscribe);
    document.getElementById("subscription-rows").addEventListener("click", act);
    document.addEventListener("ooi:operator", load);
    load();
  });
})();
