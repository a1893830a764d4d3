/* The operator's tools on the instrument view: silences (create, list, end), acknowledgements,
 * disables with a reason and an end (asked in a dialog that is the confirmation), and the
 * 7-day status timeline of each stream drawn from its history and the silences that covered it.
 * Works through window.InstrumentView (instrument.js). */
"use strict";

(() => {
  const { escapeHtml, request, showError, parseTime, fromInput, formatTime, isoTime, duration, ensureKey, statusLabel, siteOf, nodeOf } = OOI;
  const view = window.InstrumentView;
  const refdes = view.refdes;
  const $ = (id) => document.getElementById(id);
  const DAY = 86400 * 1000;
  const WINDOW = 7 * DAY;

  let silences = [];  // every silence covering this instrument, ended ones too
  let changes = [];  // the streams' history entries, newest first
  let current = null;  // the stream a dialog is about

  // --- shared -------------------------------------------------------------------------------

  function streamName(stream) {
    const e = stream.expected_stream || {};
    return `${e.method} ${e.name}`;
  }

  function covers(silence, stream) {
    const e = stream.expected_stream || {};
    const prefix = silence.refdes;
    const under = refdes === prefix || refdes.startsWith(`${prefix}-`);
    return under && (silence.method == null || silence.method === e.method) && (silence.stream == null || silence.stream === e.name);
  }

  function coversInstrument(silence) {
    return refdes === silence.refdes || refdes.startsWith(`${silence.refdes}-`);
  }

  /** Run ``write`` with the key (asked for when missing); errors go to ``errorElement``. */
  async function withKey(errorElement, write) {
    showError(errorElement, null);
    if (!(await ensureKey())) return false;
    try {
      await write();
      return true;
    } catch (error) {
      showError(errorElement, error);
      return false;
    }
  }

  function bindDialog(name, submit) {
    $(`${name}-form`).addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $(`${name}-confirm`);
      button.disabled = true;
      try {
        await submit();
      } finally {
        button.disabled = false;
      }
    });
    $(`${name}-cancel`).addEventListener("click", () => $(`${name}-dialog`).close());
  }

  // --- silences -----------------------------------------------------------------------------

  async function loadSilences() {
    try {
      const payload = await request("/silence?all=true");
      silences = payload.silences.filter(coversInstrument);
      showError($("silences-error"), null);
      renderSilences();
      renderStates();
    } catch (error) {
      showError($("silences-error"), error);
    }
  }

  function silenceRow(s) {
    const scope = [s.refdes, s.method, s.stream].filter(Boolean).map(escapeHtml).join(" · ");
    const upcoming = s.state === "upcoming" ? ` <span class="mark mark--upcoming">upcoming</span>` : "";
    return `<tr data-silence="${s.id}" data-state="${escapeHtml(s.state)}">` +
      `<td class="refdes" data-label="Covers">${scope}${upcoming}</td>` +
      `<td class="when" data-label="From">${escapeHtml(s.starts_at)}</td>` +
      `<td class="when" data-label="Until">${escapeHtml(s.ends_at)}</td>` +
      `<td data-label="Reason">${escapeHtml(s.reason)}</td><td data-label="By">${escapeHtml(s.created_by)}</td>` +
      `<td class="actions-cell"><div class="row-actions"><button type="button" class="button button--small button--danger" data-action="end-silence">End now<span class="visually-hidden"> the silence ${escapeHtml(s.reason)}</span></button></div></td></tr>`;
  }

  function renderSilences() {
    const open = silences.filter((s) => s.state !== "ended");
    $("silence-rows").innerHTML = open.map(silenceRow).join("");
    $("silences-empty").hidden = open.length > 0;
  }

  function openSilence() {
    const site = siteOf(refdes);
    const node = nodeOf(refdes);
    $("silence-scope").innerHTML = [[refdes, `This instrument (${refdes})`], [node, `Its node (${node})`], [site, `Its site (${site})`]]
      .map(([value, text]) => `<option value="${escapeHtml(value)}">${escapeHtml(text)}</option>`).join("");
    $("silence-stream").innerHTML = `<option value="">Every stream</option>` + view.streams.map((s) => {
      const e = s.expected_stream || {};
      return `<option value="${escapeHtml(JSON.stringify([e.method, e.name]))}">${escapeHtml(streamName(s))}</option>`;
    }).join("");
    $("silence-start").value = "";
    $("silence-end").value = formatTime(Date.now() + DAY, { seconds: false });
    $("silence-reason").value = "";
    showError($("silence-error"), null);
    $("silence-dialog").showModal();
    $("silence-reason").focus();
  }

  async function createSilence() {
    const start = fromInput($("silence-start").value);
    const end = fromInput($("silence-end").value);
    const reason = $("silence-reason").value.trim();
    if (Number.isNaN(start) || Number.isNaN(end) || end == null) {
      showError($("silence-error"), "Write times as YYYY-MM-DD HH:MM (UTC); the end is required.");
      return;
    }
    if (!reason) {
      showError($("silence-error"), "Say why: the reason is shown with the silence.");
      return;
    }
    const body = { refdes: $("silence-scope").value, ends_at: isoTime(end), reason };
    if (start != null) body.starts_at = isoTime(start);
    if ($("silence-stream").value) [body.method, body.stream] = JSON.parse($("silence-stream").value);
    const done = await withKey($("silence-error"), async () => {
      const made = await request("/silence", { method: "POST", body });
      view.notice(`Silenced until ${made.ends_at} UTC: ${made.reason}`);
    });
    if (done) {
      $("silence-dialog").close();
      await view.refresh();
    }
  }

  async function endSilence(id, button) {
    button.disabled = true;
    const done = await withKey($("silences-error"), async () => {
      const ended = await request(`/silence/${id}`, { method: "DELETE" });
      view.notice(`Silence ended: ${ended.reason}`);
    });
    if (done) await view.refresh();
    else button.disabled = false;
  }

  // --- acknowledge and disable -----------------------------------------------------------------

  function openAcknowledge(stream) {
    current = stream;
    $("ack-stream").textContent = stream ? streamName(stream) : refdes;
    $("ack-note").value = stream && stream.acknowledged ? stream.acknowledged.note || "" : "";
    showError($("ack-error"), null);
    $("ack-dialog").showModal();
    $("ack-note").focus();
  }

  async function acknowledge() {
    const body = { note: $("ack-note").value.trim() || null };
    const stream = current;
    const done = await withKey($("ack-error"), async () => {
      if (stream) view.replaceStream(await request(`/stream/${stream.id}/acknowledge`, { method: "PUT", body }));
      else await request(`/instrument/${encodeURIComponent(refdes)}/acknowledge`, { method: "PUT", body });
      view.notice(`${stream ? streamName(stream) : refdes} acknowledged.`);
    });
    if (done) {
      $("ack-dialog").close();
      if (!stream) await view.refresh();
    }
  }

  function openDisable(stream) {
    current = stream;
    $("disable-stream").textContent = streamName(stream);
    $("disable-reason").value = "";
    $("disable-until").value = "";
    showError($("disable-error"), null);
    $("disable-dialog").showModal();
    $("disable-reason").focus();
  }

  async function disable() {
    const reason = $("disable-reason").value.trim();
    const until = fromInput($("disable-until").value);
    if (!reason) {
      showError($("disable-error"), "Say why the stream is disabled: the reason is shown with it.");
      return;
    }
    if (Number.isNaN(until)) {
      showError($("disable-error"), "Write the end as YYYY-MM-DD HH:MM (UTC), or leave it empty.");
      return;
    }
    const stream = current;
    const body = { reason, until: until == null ? null : isoTime(until) };
    const done = await withKey($("disable-error"), async () => {
      view.replaceStream(await request(`/stream/${stream.id}/disable`, { method: "PUT", body }));
      view.notice(`${streamName(stream)} is no longer tracked${until == null ? "" : ` until ${formatTime(until, { seconds: false })} UTC`}; its status changes at the monitor's next check.`);
    });
    if (done) {
      $("disable-dialog").close();
      const again = $("stream-rows").querySelector(`tr[data-id="${stream.id}"] [data-action="enable"]`);
      if (again) again.focus();
    }
  }

  // --- the 7-day status timeline ----------------------------------------------------------------

  /** Status spans of one stream over [from, to): one per history interval, split where silences begin or end. */
  function stateSpans(stream, from, to) {
    const mine = changes.filter((c) => c.stream.id === stream.id && c.at != null && c.at >= from && c.at < to)
      .sort((a, b) => a.at - b.at);
    const spans = [];
    let status = mine.length ? mine[0].change.old_status : stream.status;
    let start = from;
    for (const { change, at } of mine) {
      spans.push([start, at, status]);
      status = change.new_status;
      start = at;
    }
    spans.push([start, to, status]);
    const quiet = silences.filter((s) => covers(s, stream)).map((s) => [parseTime(s.starts_at), parseTime(s.ends_at)])
      .filter(([a, b]) => a < to && b > from && b > a);
    if (!quiet.length) return spans.filter(([a, b]) => b > a).map(([a, b, s]) => ({ from: a, to: b, status: s, silenced: false }));
    const cuts = quiet.flat();
    const out = [];
    for (const [a, b, s] of spans) {
      const points = [a, ...cuts.filter((t) => t > a && t < b).sort((x, y) => x - y), b];
      for (let i = 0; i + 1 < points.length; i += 1) {
        const mid = (points[i] + points[i + 1]) / 2;
        const silenced = quiet.some(([qa, qb]) => qa <= mid && mid < qb);
        if (points[i + 1] > points[i]) out.push({ from: points[i], to: points[i + 1], status: s, silenced });
      }
    }
    return out;
  }

  function renderStates() {
    const to = Date.now();
    const from = to - WINDOW;
    const rows = view.streams.map((stream) => {
      const spans = stateSpans(stream, from, to);
      const segments = spans.map((span) => {
        const left = ((span.from - from) / WINDOW) * 100;
        const width = ((span.to - span.from) / WINDOW) * 100;
        const label = span.silenced ? `Silenced (${statusLabel(span.status)})` : statusLabel(span.status);
        const title = `${label}: ${formatTime(span.from, { seconds: false })} – ${formatTime(span.to, { seconds: false })} UTC (${duration((span.to - span.from) / 1000)})`;
        return `<span class="seg status-${escapeHtml(span.status)}${span.silenced ? " seg--silenced" : ""}" data-status="${span.silenced ? "silenced" : escapeHtml(span.status)}"` +
          ` style="left:${left.toFixed(3)}%;width:${Math.max(width, 0.15).toFixed(3)}%" title="${escapeHtml(title)}"><span class="visually-hidden">${escapeHtml(title)}</span></span>`;
      }).join("");
      return `<div class="state-row" data-id="${stream.id}"><span class="state-label">${escapeHtml(streamName(stream))}</span>` +
        `<span class="state-bar" role="img" aria-label="${escapeHtml(`Status of ${streamName(stream)} over the last 7 days`)}">${segments}</span></div>`;
    }).join("");
    const axis = `<div class="state-axis"><span>${escapeHtml(formatTime(from, { seconds: false }))}</span><span>now</span></div>`;
    $("state-timeline").innerHTML = view.streams.length ? rows + axis : `<p class="placeholder">No stream to show.</p>`;
  }

  // --- events -------------------------------------------------------------------------------------

  view.onAction = (action, stream) => {
    if (action === "disable") openDisable(stream);
    else if (action === "acknowledge") openAcknowledge(stream);
  };
  view.onHistory = (entries) => {
    changes = entries;
  };
  view.onRefresh = loadSilences;
  bindDialog("silence", createSilence);
  bindDialog("ack", acknowledge);
  bindDialog("disable", disable);
  $("silence-open").addEventListener("click", openSilence);
  $("acknowledge-all").addEventListener("click", () => openAcknowledge(null));
  $("silence-rows").addEventListener("click", (event) => {
    const button = event.target.closest('button[data-action="end-silence"]');
    if (button) endSilence(button.closest("tr").dataset.silence, button);
  });
})();
