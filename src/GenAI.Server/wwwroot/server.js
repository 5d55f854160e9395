// The server panel: readiness, the loaded models (revision, dtype, device, context, rejected revisions) and a few
// live figures from /metrics, polled every 2 s while the panel is shown.
import { request, text } from "./api.js";
import { refreshModels } from "./ui.js";

const $ = id => document.getElementById(id);
let timer = null;
let previous = null; // { time, totals } of the last /metrics read

/** Prometheus text format → total per metric name (labels summed over). */
export function parseMetrics(body) {
  const totals = new Map();
  for (const line of body.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value) || match[2]?.includes("le=")) continue; // histogram buckets are not needed here
    totals.set(match[1], (totals.get(match[1]) ?? 0) + value);
  }
  return totals;
}

function number(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}

async function poll() {
  try {
    const ready = await fetch("health/ready");
    const body = await ready.json().catch(() => ({}));
    $("fig-health").textContent = ready.ok ? `ready (${(body.models ?? []).length} models)` : (body.error?.message ?? `HTTP ${ready.status}`);
    $("fig-health").dataset.ok = ready.ok;
  } catch (e) {
    $("fig-health").textContent = `unreachable: ${e.message}`;
    $("fig-health").dataset.ok = false;
  }
  try {
    const totals = parseMetrics(await text("metrics"));
    const now = performance.now();
    const get = name => totals.get(name) ?? 0;
    $("fig-queue").textContent = number(get("genai_queue_depth"), 0);
    $("fig-batch").textContent = number(get("genai_active_rows"), 0);
    if (previous) {
      const seconds = (now - previous.time) / 1000;
      const delta = name => get(name) - (previous.totals.get(name) ?? 0);
      $("fig-tps").textContent = number(delta("genai_completion_tokens_total") / seconds);
      const firsts = delta("genai_time_to_first_token_seconds_count");
      if (firsts > 0) $("fig-ttft").textContent = `${number(1000 * delta("genai_time_to_first_token_seconds_sum") / firsts, 0)} ms`;
    } else {
      const count = get("genai_time_to_first_token_seconds_count");
      $("fig-ttft").textContent = count > 0 ? `${number(1000 * get("genai_time_to_first_token_seconds_sum") / count, 0)} ms` : "—";
    }
    previous = { time: now, totals };
  } catch (e) {
    $("fig-tps").textContent = `metrics: ${e.message}`;
  }
  try {
    const cards = (await request("v1/models")).data;
    $("models-table").tBodies[0].replaceChildren(...cards.map(card => {
      const row = document.createElement("tr");
      const cells = [card.id, card.revision ?? "—", card.architecture ?? "—",
        card.parameters ? `${(card.parameters / 1e6).toFixed(1)} M` : "—",
        card.dtype ? card.dtype + (card.quantization ? ` (${card.quantization})` : "") : "—", card.device ?? "—",
        card.context_length ?? "—", card.status + (card.error ? `: ${card.error}` : "")];
      for (const text of cells) row.insertCell().textContent = text;
      for (const rejected of card.rejected_revisions ?? []) {
        const note = document.createElement("div");
        note.className = "muted";
        note.textContent = `rejected ${rejected.revision}: ${rejected.reason}`;
        row.cells[1].append(note);
      }
      return row;
    }));
  } catch {
    // the status line already says why (refreshModels)
  }
}

export function showServer(visible) {
  clearInterval(timer);
  timer = null;
  if (!visible) return;
  previous = null;
  refreshModels();
  poll();
  timer = setInterval(poll, 2000);
}
