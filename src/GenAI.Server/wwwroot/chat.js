// Chat: the conversation (kept in this browser's storage), streamed replies rendered as Markdown as they arrive,
// stop (aborts the request; the server cancels the generation when the client leaves), regenerate.
import { events, isAbort } from "./api.js";
import { samplingFields } from "./params.js";
import { renderMarkdown } from "./markdown.js";
import { appendTokens, fromChat } from "./tokens.js";
import { currentModel, showStatus } from "./ui.js";

const STORAGE = "genai.chat";
const $ = id => document.getElementById(id);

/** { system: string, messages: [{ role, content, model?, revision?, finish?, tokens?, others?, error?, stopped? }] } */
let conversation = load();
let controller = null;

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE));
    if (saved && Array.isArray(saved.messages)) return saved;
  } catch {
    // a damaged entry starts a new conversation
  }
  return { system: "", messages: [] };
}

function save() {
  try {
    localStorage.setItem(STORAGE, JSON.stringify(conversation));
  } catch {
    // storage full: keep the text, drop the token views
    localStorage.setItem(STORAGE, JSON.stringify({ ...conversation, messages: conversation.messages.map(({ tokens, ...m }) => m) }));
  }
}

function messageItem(message, index) {
  const item = document.createElement("li");
  item.className = `message ${message.role}`;
  item.dataset.index = index;
  const who = document.createElement("div");
  who.className = "who";
  who.textContent = message.role === "user" ? "You" : (message.model ?? "Assistant");
  item.append(who);
  const body = document.createElement("div");
  body.className = "content";
  item.append(body);
  const meta = document.createElement("div");
  meta.className = "meta";
  item.append(meta);
  fillMessage(item, message);
  return item;
}

function fillMessage(item, message) {
  const body = item.querySelector(".content");
  if (message.role === "assistant") renderMarkdown(body, message.content);
  else body.textContent = message.content;
  item.classList.toggle("pending", !!message.pending);
  const meta = item.querySelector(".meta");
  meta.replaceChildren();
  if (message.role !== "assistant") return;
  const parts = [];
  if (message.revision) parts.push(message.revision);
  if (message.pending) parts.push("generating…");
  if (message.stopped) parts.push("stopped");
  else if (message.finish) parts.push(`finish: ${message.finish}`);
  if (message.usage) parts.push(`${message.usage.completion_tokens} tokens`);
  meta.append(parts.join(" · "));
  if (message.error) {
    const error = document.createElement("div");
    error.className = "error";
    error.setAttribute("role", "alert");
    error.textContent = message.error;
    meta.append(error);
  }
  if (message.tokens?.length) {
    const details = document.createElement("details");
    details.className = "token-view";
    const summary = document.createElement("summary");
    summary.textContent = "Token probabilities";
    details.append(summary);
    const tokens = document.createElement("div");
    tokens.className = "tokens";
    details.append(tokens);
    details.addEventListener("toggle", () => {
      if (details.open && tokens.childElementCount === 0) appendTokens(tokens, message.tokens);
    });
    meta.append(details);
  }
  for (const [i, other] of (message.others ?? []).entries()) {
    if (!other) continue;
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `Choice ${i + 2}`;
    const content = document.createElement("div");
    content.className = "content";
    renderMarkdown(content, other);
    details.append(summary, content);
    meta.append(details);
  }
}

function render() {
  const list = $("messages");
  list.replaceChildren(...conversation.messages.map(messageItem));
  list.lastElementChild?.scrollIntoView({ block: "end" });
  updateButtons();
}

function updateButtons() {
  const busy = controller !== null;
  $("chat-send").disabled = busy;
  $("chat-stop").disabled = !busy;
  $("chat-regenerate").disabled = busy || !conversation.messages.some(m => m.role === "user");
  // A screen reader reads the reply once it is complete, not at every streamed piece.
  $("messages").setAttribute("aria-busy", busy);
}

async function generate() {
  let fields;
  try {
    fields = samplingFields("chat");
  } catch (e) {
    showStatus(e.message, "error");
    return;
  }
  const messages = [];
  if (conversation.system.trim()) messages.push({ role: "system", content: conversation.system });
  for (const m of conversation.messages) messages.push({ role: m.role, content: m.content });
  const reply = { role: "assistant", content: "", model: currentModel(), pending: true, tokens: [], others: [] };
  conversation.messages.push(reply);
  const list = $("messages");
  const item = messageItem(reply, conversation.messages.length - 1);
  list.append(item);
  item.scrollIntoView({ block: "end" });
  controller = new AbortController();
  updateButtons();
  showStatus("Generating…");

  let scheduled = false;
  const redraw = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      fillMessage(item, reply);
      item.scrollIntoView({ block: "end" });
    });
  };
  try {
    const body = { model: currentModel(), messages, stream: true, stream_options: { include_usage: true }, ...fields };
    for await (const chunk of events("v1/chat/completions", { method: "POST", body, signal: controller.signal })) {
      reply.model = chunk.model ?? reply.model;
      reply.revision = chunk.system_fingerprint ?? reply.revision;
      if (chunk.usage) reply.usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        const text = choice.delta?.content ?? "";
        if (choice.index === 0) {
          reply.content += text;
          reply.tokens.push(...fromChat(choice.logprobs));
          if (choice.finish_reason) reply.finish = choice.finish_reason;
        } else {
          reply.others[choice.index - 1] = (reply.others[choice.index - 1] ?? "") + text;
        }
      }
      redraw();
    }
    showStatus("");
  } catch (e) {
    if (isAbort(e)) {
      reply.stopped = true;
      showStatus("Stopped.");
    } else {
      reply.error = e.message;
      showStatus(e.message, "error");
    }
  } finally {
    reply.pending = false;
    controller = null;
    fillMessage(item, reply);
    save();
    updateButtons();
  }
}

function send(event) {
  event?.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text || controller) return;
  conversation.messages.push({ role: "user", content: text });
  input.value = "";
  save();
  render();
  generate();
}

/** Stops the running generation, if any (also the Escape key). */
export function stopChat() {
  controller?.abort();
}

export function initChat() {
  $("system-prompt").value = conversation.system;
  if (conversation.system) $("system-box").open = true;
  $("system-prompt").addEventListener("input", e => { conversation.system = e.target.value; save(); });
  $("chat-form").addEventListener("submit", send);
  $("chat-input").addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) send(e);
  });
  $("chat-stop").addEventListener("click", stopChat);
  $("chat-regenerate").addEventListener("click", () => {
    if (controller) return;
    while (conversation.messages.length && conversation.messages.at(-1).role === "assistant") conversation.messages.pop();
    if (!conversation.messages.length) return;
    render();
    generate();
  });
  $("chat-clear").addEventListener("click", () => {
    stopChat();
    conversation = { system: conversation.system, messages: [] };
    save();
    render();
    $("chat-input").focus();
  });
  render();
}
