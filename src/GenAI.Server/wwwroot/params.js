// The parameters panel: request fields named as the API names them (OpenAI's, and vLLM's for the extensions).
// An empty field is left out, so the server's (or the model's generation_config.json) default applies.

const STORAGE = "genai.params";
const form = () => document.getElementById("params-form");

const NUMBERS = ["max_tokens", "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty",
  "repetition_penalty", "seed", "num_beams", "n", "length_penalty"];
const INTEGERS = new Set(["max_tokens", "top_k", "seed", "num_beams", "n"]);

/** The sampling fields for a request; `kind` is "chat" or "completion" (they ask for log-probs differently). */
export function samplingFields(kind) {
  const f = form();
  const fields = {};
  for (const name of NUMBERS) {
    const input = f.elements[name];
    if (input.value.trim() === "") continue;
    const value = Number(input.value);
    if (!Number.isFinite(value) || (INTEGERS.has(name) && !Number.isInteger(value))) {
      throw new Error(`${name} must be ${INTEGERS.has(name) ? "an integer" : "a number"}`);
    }
    fields[name] = value;
  }
  const stops = f.elements.stop.value.split("\n").map(s => s.replace(/\\n/g, "\n")).filter(s => s.length > 0);
  if (stops.length > 0) fields.stop = stops;
  if (f.elements.use_beam_search.checked) fields.use_beam_search = true;
  else {
    delete fields.num_beams;
    delete fields.length_penalty;
  }
  const format = f.elements.response_format.value;
  if (format === "json_object") fields.response_format = { type: "json_object" };
  if (format === "json_schema") {
    let schema;
    try {
      schema = JSON.parse(f.elements.json_schema.value);
    } catch (e) {
      throw new Error(`the JSON schema does not parse: ${e.message}`);
    }
    fields.response_format = { type: "json_schema", json_schema: { name: "playground", schema, strict: true } };
  }
  if (f.elements.logprobs.checked && !fields.use_beam_search) {
    if (kind === "chat") {
      fields.logprobs = true;
      fields.top_logprobs = 5;
    } else {
      fields.logprobs = 5;
    }
  }
  return fields;
}

function save() {
  const f = form();
  const values = {};
  for (const element of f.elements) {
    if (!element.name) continue;
    values[element.name] = element.type === "checkbox" ? element.checked : element.value;
  }
  localStorage.setItem(STORAGE, JSON.stringify(values));
}

function showDependent() {
  const f = form();
  const beam = f.elements.use_beam_search.checked;
  f.elements.num_beams.disabled = !beam;
  f.elements.length_penalty.disabled = !beam;
  f.elements.json_schema.disabled = f.elements.response_format.value !== "json_schema";
}

export function initParams() {
  const f = form();
  const defaults = new Map([...f.elements].filter(e => e.name).map(e => [e.name, e.type === "checkbox" ? e.defaultChecked : e.defaultValue]));
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE) ?? "{}");
    for (const [name, value] of Object.entries(saved)) {
      const element = f.elements[name];
      if (!element) continue;
      if (element.type === "checkbox") element.checked = !!value;
      else element.value = value;
    }
  } catch {
    localStorage.removeItem(STORAGE);
  }
  f.addEventListener("input", () => { showDependent(); save(); });
  f.addEventListener("change", () => { showDependent(); save(); });
  f.addEventListener("submit", e => e.preventDefault());
  document.getElementById("params-reset").addEventListener("click", () => {
    for (const [name, value] of defaults) {
      const element = f.elements[name];
      if (element.type === "checkbox") element.checked = value;
      else element.value = value;
    }
    showDependent();
    save();
  });
  // A phone shows the panel below the conversation, folded.
  if (window.matchMedia("(max-width: 800px)").matches) document.getElementById("params-box").open = false;
  showDependent();
}
