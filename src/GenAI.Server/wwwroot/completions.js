// Completions: the model continues the prompt in place (the text streams into the same box); the generated tokens
// are shown below, coloured by probability. Undo restores the text from before the last generation.
import { events, isAbort } from "./api.js";
import { samplingFields } from "./params.js";
import { appendTokens, fromCompletion } from "./tokens.js";
import { currentModel, showStatus } from "./ui.js";

const $ = id => document.getElementById(id);
let controller = null;
let before = null;

function updateButtons() {
  const busy = controller !== null;
  $("completion-generate").disabled = busy;
  $("completion-stop").disabled = !busy;
  $("completion-undo").disabled = busy || before === null;
  $("completion-prompt").readOnly = busy;
}

async function generate(event) {
  event?.preventDefault();
  if (controller) return;
  let fields;
  try {
    fields = samplingFields("completion");
  } catch (e) {
    showStatus(e.message, "error");
    return;
  }
  const box = $("completion-prompt");
  const prompt = box.value;
  const tokens = $("completion-tokens");
  before = prompt;
  tokens.replaceChildren();
  controller = new AbortController();
  updateButtons();
  showStatus("Generating…");
  let generated = "";
  try {
    const body = { model: currentModel(), prompt, stream: true, ...fields };
    for await (const chunk of events("v1/completions", { method: "POST", body, signal: controller.signal })) {
      for (const choice of chunk.choices ?? []) {
        if (choice.index !== 0) continue;
        generated += choice.text ?? "";
        appendTokens(tokens, fromCompletion(choice.logprobs));
        if (choice.finish_reason) showStatus(`finish: ${choice.finish_reason} · ${chunk.system_fingerprint ?? ""}`);
      }
      box.value = prompt + generated;
      box.scrollTop = box.scrollHeight;
    }
  } catch (e) {
    if (isAbort(e)) showStatus("Stopped.");
    else showStatus(e.message, "error");
  } finally {
    controller = null;
    updateButtons();
  }
}

export function stopCompletion() {
  controller?.abort();
}

export function initCompletions() {
  $("completion-form").addEventListener("submit", generate);
  $("completion-prompt").addEventListener("keydown", e => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate(e);
  });
  $("completion-stop").addEventListener("click", stopCompletion);
  $("completion-undo").addEventListener("click", () => {
    if (before === null) return;
    $("completion-prompt").value = before;
    $("completion-tokens").replaceChildren();
    before = null;
    updateButtons();
  });
  updateButtons();
}
