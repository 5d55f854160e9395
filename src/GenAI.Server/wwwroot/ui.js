// What the sections share: the status line and the served models (the picker at the top, the fine-tuning form's base
// model), loaded from /v1/models with each model's revision.
import { request } from "./api.js";

const MODEL_STORAGE = "genai.model";
const listeners = [];

/** A one-line message under the header (role=status, read out by screen readers); kind "error" shows it as one. */
export function showStatus(message, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = message;
  status.dataset.kind = kind;
}

/** The model the picker shows (undefined before the list is loaded: the server then uses its only model). */
export function currentModel() {
  return document.getElementById("model").value || undefined;
}

/** Called with the model cards each time the list is loaded. */
export function onModels(listener) {
  listeners.push(listener);
}

/** Loads /v1/models into the picker, keeping the chosen model; returns the cards. */
export async function refreshModels() {
  const picker = document.getElementById("model");
  let cards;
  try {
    cards = (await request("v1/models")).data;
  } catch (e) {
    showStatus(`Models: ${e.message}`, "error");
    return [];
  }
  const wanted = picker.value || localStorage.getItem(MODEL_STORAGE);
  picker.replaceChildren(...cards.map(card => {
    const option = document.createElement("option");
    option.value = card.id;
    option.textContent = card.revision ? `${card.id} · ${card.revision}` : `${card.id} (${card.status})`;
    option.disabled = card.status !== "ready";
    return option;
  }));
  if (cards.some(c => c.id === wanted && c.status === "ready")) picker.value = wanted;
  for (const listener of listeners) listener(cards);
  return cards;
}

export function initModels() {
  const picker = document.getElementById("model");
  picker.addEventListener("change", () => localStorage.setItem(MODEL_STORAGE, picker.value));
}
