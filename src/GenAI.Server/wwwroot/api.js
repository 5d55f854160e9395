// The server's API as the page uses it: relative URLs (so a path prefix works), the API key as a Bearer token,
// the API's one error body turned into an Error with its message, and server-sent events read from fetch
// (EventSource cannot send an Authorization header, and fetch can be aborted).

const KEY_STORAGE = "genai.apiKey";

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

/** An error from the API: message, HTTP status and the field it names (param). */
export class ApiError extends Error {
  constructor(message, status, param) {
    super(message);
    this.status = status;
    this.param = param;
  }
}

function headers(extra) {
  const h = new Headers(extra);
  const key = apiKey();
  if (key) h.set("Authorization", "Bearer " + key);
  return h;
}

async function failure(response) {
  let message = `HTTP ${response.status}`;
  let param = null;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    param = body?.error?.param ?? null;
  } catch {
    // not the API's error body: keep the status
  }
  if (response.status === 401) message += " — set the API key at the top of the page";
  return new ApiError(message, response.status, param);
}

/** GET or POST (JSON body, or FormData as is); resolves to the parsed JSON, throws ApiError. */
export async function request(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, headers: headers() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers.set("Content-Type", "application/json");
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Plain text (e.g. /metrics). */
export async function text(path, signal) {
  const response = await fetch(path, { headers: headers(), signal });
  if (!response.ok) throw await failure(response);
  return response.text();
}

/**
 * Streams server-sent events: yields each data payload parsed as JSON until [DONE]. An error event (an object
 * with an "error" member, sent after the stream began) is thrown as ApiError. Aborting the signal ends the
 * request, which the server sees as a disconnect and cancels the generation.
 */
export async function* events(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, headers: headers({ Accept: "text/event-stream" }) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers.set("Content-Type", "application/json");
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter(l => l.startsWith("data:")).map(l => l.slice(5).replace(/^ /, "")).join("\n");
        if (!data) continue; // a keep-alive comment
        if (data === "[DONE]") {
          // The server ends the response right after [DONE]: read to its end rather than cancel (a cancel is a disconnect).
          while (!(await reader.read()).done) { /* nothing follows */ }
          finished = true;
          return;
        }
        const payload = JSON.parse(data);
        if (payload?.error) throw new ApiError(payload.error.message ?? "the stream failed", 500, payload.error.param ?? null);
        yield payload;
      }
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {});
  }
}

/** True when the error is the page's own abort (the stop button), not a failure. */
export function isAbort(error) {
  return error?.name === "AbortError";
}
