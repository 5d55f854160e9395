// Model output rendered as Markdown (marked), then sanitized (DOMPurify): the text comes from a model and may hold
// any HTML. Images are dropped too, so rendered output never makes a request (the page's CSP would block it anyway).
import { Marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/dompurify.js";

const marked = new Marked({ gfm: true, breaks: true, async: false });
const sanitize = { FORBID_TAGS: ["img", "style", "form", "input", "button", "iframe", "video", "audio", "source", "picture"], FORBID_ATTR: ["style"] };

/** Replaces the content of `element` with `text` rendered as Markdown. */
export function renderMarkdown(element, text) {
  element.innerHTML = DOMPurify.sanitize(marked.parse(text), sanitize);
  for (const link of element.querySelectorAll("a[href]")) {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
}
