// The playground's entry point: sections as tabs (arrow keys move between them), the API key field, and start-up.
import { apiKey, setApiKey } from "./api.js";
import { initParams } from "./params.js";
import { initTokenTips } from "./tokens.js";
import { initModels, refreshModels } from "./ui.js";
import { initChat, stopChat } from "./chat.js";
import { initCompletions, stopCompletion } from "./completions.js";
import { initFineTuning, showFineTuning } from "./finetune.js";
import { showServer } from "./server.js";

const tabs = [...document.querySelectorAll('[role="tab"]')];

function select(tab, focus) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", selected);
    t.tabIndex = selected ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  const name = tab.id.slice("tab-".length);
  document.body.dataset.section = name;
  showServer(name === "server");
  if (name === "finetune") showFineTuning();
  history.replaceState(null, "", `#${name}`);
}

function initTabs() {
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", e => {
      const step = { ArrowRight: 1, ArrowLeft: -1, Home: -i, End: tabs.length - 1 - i }[e.key];
      if (step === undefined) return;
      e.preventDefault();
      select(tabs[(i + step + tabs.length) % tabs.length], true);
    });
  }
  const initial = tabs.find(t => `#${t.id.slice(4)}` === location.hash) ?? tabs[0];
  select(initial, false);
}

function initApiKey() {
  const field = document.getElementById("api-key");
  field.value = apiKey();
  field.addEventListener("change", () => {
    setApiKey(field.value.trim());
    refreshModels();
  });
}

document.addEventListener("keydown", e => {
  if (e.key === "Escape") {
    stopChat();
    stopCompletion();
  }
});

initParams();
initTokenTips();
initModels();
initApiKey();
initChat();
initCompletions();
initFineTuning();
initTabs();
refreshModels().then(() => { document.body.dataset.ready = "true"; });
