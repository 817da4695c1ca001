// Small inline-SVG charts drawn here: no library, no download.
const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

/**
 * Grouped bars per label. series: [{name, values, cls}]; line: optional {value, name, cls}.
 */
export function barChart(container, labels, series, { line, unit = "" } = {}) {
  const width = 720, height = 240, left = 40, right = 10, top = 28, bottom = 26;
  const plotW = width - left - right, plotH = height - top - bottom;
  const values = series.flatMap((s) => s.values.filter((v) => v != null));
  const top_ = Math.max(line ? line.value : 0, ...values, 0);
  // Counts get whole-number ticks (4 steps); times get round ones.
  const max = values.every(Number.isInteger) && !line ? Math.max(4, Math.ceil(top_ / 4) * 4) : niceMax(top_);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "svg-chart" });
  svg.append(el("title", {}, series.map((s) => s.name).join(", ")));
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    svg.append(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    const tick = Math.round((max * i) / 4 * 10) / 10;
    svg.append(el("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, `${tick}`));
  }
  const slot = plotW / Math.max(labels.length, 1);
  const barW = Math.max(2, (slot * 0.8) / series.length);
  labels.forEach((label, i) => {
    series.forEach((s, j) => {
      const value = s.values[i];
      if (value == null || value === 0) return;
      const h = (plotH * value) / max;
      const x = left + i * slot + slot * 0.1 + j * barW;
      const bar = el("rect", { x, y: top + plotH - h, width: barW - 1, height: h, class: `bar ${s.cls}` });
      bar.append(el("title", {}, `${label} ${s.name}: ${value}${unit}`));
      svg.append(bar);
    });
    if (i % 3 === 0) {
      svg.append(el("text", { x: left + i * slot + slot / 2, y: height - 8, class: "axis", "text-anchor": "middle" }, label));
    }
  });
  if (line) {
    const y = top + plotH - (plotH * line.value) / max;
    svg.append(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: `target ${line.cls}` }));
  }
  let lx = left;
  for (const s of [...series, ...(line ? [line] : [])]) {
    svg.append(el("rect", { x: lx, y: 8, width: 12, height: 12, class: `bar ${s.cls}` }));
    const text = el("text", { x: lx + 16, y: 18, class: "legend" }, s.name);
    svg.append(text);
    lx += 30 + s.name.length * 7.5;
  }
  container.replaceChildren(svg);
}
