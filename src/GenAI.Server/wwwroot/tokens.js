// The token view: each generated token coloured by its probability (red unlikely, green likely); hovering or
// focusing a token shows its log-prob and the top alternatives the model weighed at that position.

/** One token: { token, logprob, top: [{ token, logprob }] }. From a chat chunk's logprobs.content. */
export function fromChat(logprobs) {
  return (logprobs?.content ?? []).map(t => ({
    token: t.token,
    logprob: t.logprob,
    top: (t.top_logprobs ?? []).map(a => ({ token: a.token, logprob: a.logprob })),
  }));
}

/** From a completion chunk's logprobs ({tokens, token_logprobs, top_logprobs}). */
export function fromCompletion(logprobs) {
  if (!logprobs?.tokens) return [];
  return logprobs.tokens.map((token, i) => ({
    token,
    logprob: logprobs.token_logprobs[i],
    top: Object.entries(logprobs.top_logprobs?.[i] ?? {}).map(([t, lp]) => ({ token: t, logprob: lp })).sort((a, b) => b.logprob - a.logprob),
  }));
}

const visible = token => token.replace(/\n/g, "↵\n").replace(/\t/g, "→");
const percent = logprob => `${(Math.exp(logprob) * 100).toFixed(logprob > Math.log(0.1) ? 1 : 2)}%`;

/** Appends token spans to `container`. */
export function appendTokens(container, tokens) {
  for (const t of tokens) {
    const span = document.createElement("span");
    span.className = "token";
    span.textContent = visible(t.token);
    span.tabIndex = 0;
    const p = Math.exp(t.logprob);
    // On a log scale, as probabilities spread over orders of magnitude: green at p = 1, yellow near 0.1, red at 0.003
    // and below. Set through the CSSOM (the page's CSP allows no inline style attributes).
    const hue = 120 * Math.min(1, Math.max(0, 1 + Math.log10(Math.max(p, 1e-12)) / 2.5));
    span.style.backgroundColor = `hsl(${Math.round(hue)} 75% 80%)`;
    span.dataset.p = p.toFixed(4);
    span.setAttribute("aria-label", `${JSON.stringify(t.token)}, probability ${percent(t.logprob)}`);
    span._token = t;
    container.append(span);
  }
}

function showTip(span) {
  const tip = document.getElementById("token-tip");
  const t = span._token;
  tip.replaceChildren();
  const head = document.createElement("div");
  head.className = "tip-head";
  const code = document.createElement("code");
  code.textContent = JSON.stringify(t.token);
  head.append(code, ` p=${percent(t.logprob)} logprob=${t.logprob.toFixed(3)}`);
  tip.append(head);
  if (t.top.length > 0) {
    const table = document.createElement("table");
    table.className = "alternatives";
    const caption = document.createElement("caption");
    caption.textContent = "Top alternatives";
    table.append(caption);
    for (const a of t.top) {
      const row = table.insertRow();
      if (a.token === t.token) row.className = "chosen";
      const cell = row.insertCell();
      const alt = document.createElement("code");
      alt.textContent = JSON.stringify(a.token);
      cell.append(alt);
      row.insertCell().textContent = a.logprob.toFixed(3);
      row.insertCell().textContent = percent(a.logprob);
    }
    tip.append(table);
  }
  tip.hidden = false;
  const box = span.getBoundingClientRect();
  const width = tip.offsetWidth;
  tip.style.left = `${Math.max(4, Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - width - 4))}px`;
  tip.style.top = `${window.scrollY + box.bottom + 6}px`;
  span.setAttribute("aria-describedby", "token-tip");
}

function hideTip(span) {
  document.getElementById("token-tip").hidden = true;
  span?.removeAttribute("aria-describedby");
}

/** One set of listeners for every token view on the page (tokens come and go as messages stream). */
export function initTokenTips() {
  const target = e => e.target instanceof Element ? e.target.closest(".token") : null;
  document.addEventListener("mouseover", e => { const s = target(e); if (s) showTip(s); });
  document.addEventListener("mouseout", e => { const s = target(e); if (s) hideTip(s); });
  document.addEventListener("focusin", e => { const s = target(e); if (s) showTip(s); });
  document.addEventListener("focusout", e => { const s = target(e); if (s) hideTip(s); });
  document.addEventListener("keydown", e => { if (e.key === "Escape") hideTip(); });
}
