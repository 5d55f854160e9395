// The loss chart: train and validation loss by step, drawn as SVG (no library). Points are circles with a class
// (train, valid) and a title, so the chart can be read by a screen reader's user and checked by a test.
const NS = "http://www.w3.org/2000/svg";
const W = 600, H = 260, LEFT = 48, RIGHT = 12, TOP = 12, BOTTOM = 28;

function node(name, attributes, text) {
  const element = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, v);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Redraws `svg` with series train and valid ([{ step, loss }]) over steps 0..totalSteps. */
export function drawLossChart(svg, train, valid, totalSteps) {
  svg.replaceChildren();
  const all = [...train, ...valid];
  if (all.length === 0) {
    svg.append(node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "waiting for the first step…"));
    return;
  }
  const maxStep = Math.max(1, totalSteps ?? 0, ...all.map(p => p.step));
  let low = Math.min(...all.map(p => p.loss)), high = Math.max(...all.map(p => p.loss));
  if (high - low < 1e-6) { low -= 0.5; high += 0.5; }
  const pad = (high - low) * 0.08;
  low -= pad; high += pad;
  const x = step => LEFT + (step / maxStep) * (W - LEFT - RIGHT);
  const y = loss => TOP + (1 - (loss - low) / (high - low)) * (H - TOP - BOTTOM);

  for (let i = 0; i <= 4; i++) {
    const value = low + (high - low) * i / 4;
    svg.append(node("line", { x1: LEFT, x2: W - RIGHT, y1: y(value), y2: y(value), class: "grid" }));
    svg.append(node("text", { x: LEFT - 6, y: y(value) + 4, "text-anchor": "end", class: "axis" }, value.toFixed(2)));
  }
  for (const step of new Set([0, Math.round(maxStep / 2), maxStep])) {
    if (step > 0 && step < maxStep && (maxStep - step) / maxStep < 0.2) continue; // labels too close to read
    svg.append(node("text", { x: x(step), y: H - 8, "text-anchor": "middle", class: "axis" }, `step ${step}`));
  }
  for (const [series, points] of [["train", train], ["valid", valid]]) {
    if (points.length === 0) continue;
    const sorted = [...points].sort((a, b) => a.step - b.step);
    svg.append(node("polyline", { points: sorted.map(p => `${x(p.step)},${y(p.loss)}`).join(" "), class: `line ${series}` }));
    for (const p of sorted) {
      const dot = node("circle", { cx: x(p.step), cy: y(p.loss), r: 3.5, class: `point ${series}` });
      dot.append(node("title", {}, `${series === "train" ? "train" : "validation"} loss ${p.loss.toFixed(4)} at step ${p.step}`));
      svg.append(dot);
    }
  }
}
