// Small charts as inline SVG, built with DOM APIs (no library, no markup strings): columns with an
// optional line on a second axis, and labelled horizontal bars. Sizes are real pixels of the
// container (the page redraws on resize), so text stays readable on a phone. Colours come from
// insights.css. Every chart gets an accessible name from its caller (a summary in words) and the
// page adds a table of the numbers beside it.

const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

// 1, 2, 5 x 10^k at or above `value`, and ticks from 0 to it.
export function niceMax(value, least = 1) {
  const target = Math.max(value, least);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= target) return step * power;
  }
  return 10 * power;
}

// Whole-number steps when the scale is whole (counts), quarters otherwise.
function ticks(max, whole) {
  const count =
    whole && Number.isInteger(max) ? [4, 5, 3, 2].find((c) => Number.isInteger(max / c)) || 1 : 4;
  const out = [];
  for (let i = 0; i <= count; i += 1) out.push((max * i) / count);
  return out;
}

function round(value) {
  return Math.round(value * 10) / 10;
}

function frame(width, height, label) {
  return svg("svg", {
    class: "chart-svg",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
    focusable: "false",
  });
}

function tickLabel(value, format) {
  return format ? format(value) : Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/**
 * Columns (left axis, from 0) and optionally a line (right axis, from 0 to line.max).
 * categories: [{label, short}], bars: {values (counts), format}, line: {values (null = a gap),
 * max, whole (whole-number ticks), format, tickFormat}, summary: the chart's accessible name.
 */
export function columns({ width, height = 230, categories, bars, line, summary, everyTick }) {
  const margin = { top: 14, right: line ? 46 : 12, bottom: 30, left: 40 };
  const plotW = Math.max(40, width - margin.left - margin.right);
  const plotH = height - margin.top - margin.bottom;
  const n = Math.max(1, categories.length);
  const slot = plotW / n;
  const barW = Math.max(1, Math.min(36, slot * 0.72));
  const barMax = niceMax(Math.max(0, ...bars.values), 4);
  const root = frame(width, height, summary);
  const plot = svg("g", { transform: `translate(${margin.left},${margin.top})` });
  root.append(plot);
  const y = (v) => plotH - (plotH * v) / barMax;
  const grid = svg("g", { class: "chart-grid" });
  const left = svg("g", { class: "chart-axis chart-axis-left" });
  for (const t of ticks(barMax, true)) {
    grid.append(svg("line", { x1: 0, x2: plotW, y1: round(y(t)), y2: round(y(t)) }));
    left.append(
      svg("text", {
        x: -8,
        y: round(y(t)) + 4,
        "text-anchor": "end",
        text: tickLabel(t, bars.tickFormat),
      }),
    );
  }
  plot.append(grid, left);
  const columnsGroup = svg("g", { class: `chart-bars ${bars.className || ""}`.trim() });
  bars.values.forEach((value, i) => {
    const height_ = plotH - y(value);
    const x = slot * i + (slot - barW) / 2;
    const rect = svg("rect", {
      x: round(x),
      y: round(y(value)),
      width: round(barW),
      height: round(Math.max(value > 0 ? 1 : 0, height_)),
      rx: Math.min(3, barW / 3),
    });
    rect.append(
      svg("title", { text: `${categories[i].label}: ${bars.format ? bars.format(value) : value}` }),
    );
    columnsGroup.append(rect);
  });
  plot.append(columnsGroup);
  // x labels: as many as fit
  const fit = Math.max(1, Math.floor(plotW / (everyTick || 58)));
  const step = Math.max(1, Math.ceil(n / fit));
  const bottom = svg("g", { class: "chart-axis chart-axis-bottom" });
  categories.forEach((c, i) => {
    if (i % step !== 0) return;
    bottom.append(
      svg("text", {
        x: round(slot * i + slot / 2),
        y: plotH + 19,
        "text-anchor": "middle",
        text: c.short || c.label,
      }),
    );
  });
  plot.append(
    svg("line", { class: "chart-baseline", x1: 0, x2: plotW, y1: plotH, y2: plotH }),
    bottom,
  );
  if (line) {
    const ly = (v) => plotH - (plotH * v) / line.max;
    const right = svg("g", { class: "chart-axis chart-axis-right" });
    for (const t of ticks(line.max, line.whole)) {
      right.append(
        svg("text", {
          x: plotW + 8,
          y: round(ly(t)) + 4,
          "text-anchor": "start",
          text: tickLabel(t, line.tickFormat),
        }),
      );
    }
    plot.append(right);
    let path = "";
    let open = false;
    const dots = svg("g", { class: `chart-dots ${line.className || ""}`.trim() });
    line.values.forEach((value, i) => {
      if (value === null || value === undefined) {
        open = false;
        return;
      }
      const x = round(slot * i + slot / 2);
      const yy = round(ly(value));
      path += `${open ? "L" : "M"}${x} ${yy} `;
      open = true;
      const dot = svg("circle", { cx: x, cy: yy, r: n > 40 ? 2.5 : 3.5 });
      dot.append(
        svg("title", {
          text: `${categories[i].label}: ${line.format ? line.format(value) : value}`,
        }),
      );
      dots.append(dot);
    });
    if (path) {
      // a white halo keeps the line readable where it crosses the columns
      plot.append(svg("path", { class: "chart-line-halo", d: path.trim() }));
      plot.append(
        svg("path", { class: `chart-line ${line.className || ""}`.trim(), d: path.trim() }),
      );
    }
    plot.append(dots);
  }
  return root;
}

/**
 * Horizontal bars, one row each: the label above its bar, the value at the bar's end.
 * rows: [{label, value, text}], max: the scale's end.
 */
export function rows({ width, rows: items, max, summary, className }) {
  const rowH = 44;
  const height = Math.max(rowH, items.length * rowH);
  const valueW = 120;
  const trackW = Math.max(40, width - valueW - 8);
  const top = niceMax(max || Math.max(0, ...items.map((r) => r.value)), 1);
  const root = frame(width, height, summary);
  items.forEach((row, i) => {
    const y = i * rowH;
    const group = svg("g", {
      class: `chart-row ${className || ""}`.trim(),
      transform: `translate(0,${y})`,
    });
    group.append(svg("text", { class: "chart-row-label", x: 0, y: 14, text: row.label }));
    group.append(
      svg("rect", { class: "chart-track", x: 0, y: 21, width: trackW, height: 14, rx: 7 }),
    );
    const w = top ? (trackW * Math.max(0, row.value)) / top : 0;
    const bar = svg("rect", {
      class: "chart-fill",
      x: 0,
      y: 21,
      width: round(Math.max(row.value > 0 ? 4 : 0, w)),
      height: 14,
      rx: 7,
    });
    bar.append(svg("title", { text: `${row.label}: ${row.text}` }));
    group.append(bar);
    group.append(svg("text", { class: "chart-row-value", x: trackW + 8, y: 33, text: row.text }));
    root.append(group);
  });
  return root;
}
