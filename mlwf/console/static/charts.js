// Small SVG charts for the monitoring page: scales, axes and the threshold line.
import { s } from "./dom.js";

const W = 760;
const H = 260;
const PAD = { left: 56, right: 150, top: 16, bottom: 36 };
export const CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
const THRESHOLD = "#d62728";

function scale(d0, d1, r0, r1) {
  const f = (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);
  f.domain = [d0, d1];
  return f;
}

function frame(title, klass) {
  const svg = s("svg", { class: `chart ${klass}`, width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  svg.append(s("text", { x: PAD.left, y: 11, class: "chart-title" }, title));
  return svg;
}

function yAxis(svg, y, ticks, format = (v) => v) {
  const g = s("g", { class: "axis axis-y" });
  for (const t of ticks) {
    g.append(s("line", { x1: PAD.left - 4, x2: W - PAD.right, y1: y(t), y2: y(t), class: "grid" }));
    g.append(s("text", { x: PAD.left - 8, y: y(t) + 4, class: "tick", "data-value": t, "text-anchor": "end" }, format(t)));
  }
  svg.append(g);
}

function timeAxis(svg, x, t0, t1) {
  const g = s("g", { class: "axis axis-x" });
  const n = 5;
  for (let i = 0; i <= n; i++) {
    const t = t0 + ((t1 - t0) * i) / n;
    const iso = new Date(t).toISOString();
    const label = t1 - t0 < 3600000 ? iso.slice(11, 19) : iso.slice(5, 16).replace("T", " ");
    g.append(s("text", { x: x(t), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, label));
  }
  g.append(s("text", { x: W - PAD.right, y: H - 4, class: "axis-name", "text-anchor": "end" }, "time (UTC)"));
  svg.append(g);
}

function thresholdLine(svg, y, threshold, x0 = PAD.left, x1 = W - PAD.right) {
  svg.append(
    s("line", { x1: x0, x2: x1, y1: y(threshold), y2: y(threshold), class: "threshold-line", stroke: THRESHOLD, "data-threshold": threshold }),
    s("text", { x: x1 + 6, y: y(threshold) + 4, class: "threshold-label", fill: THRESHOLD }, `threshold ${threshold}`),
  );
}

function timeRange(times) {
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (t1 - t0 < 60000) {
    t0 -= 30000;
    t1 += 30000;
  }
  return [t0, t1];
}

export function confidenceOverTime(points, threshold) {
  const svg = frame(`Top confidence over time: ${points.length} inferences`, "chart-confidence");
  if (!points.length) return svg;
  const times = points.map((p) => Date.parse(p[0]));
  const [t0, t1] = timeRange(times);
  const low = Math.min(0.5, Math.floor(Math.min(...points.map((p) => p[1])) * 10) / 10);
  const x = scale(t0, t1, PAD.left, W - PAD.right);
  const y = scale(low, 1, H - PAD.bottom, PAD.top);
  const ticks = [];
  for (let v = low; v <= 1.0001; v += 0.1) ticks.push(Math.round(v * 10) / 10);
  yAxis(svg, y, ticks, (v) => v.toFixed(1));
  timeAxis(svg, x, t0, t1);
  const dots = s("g", { class: "dots" });
  points.forEach((p, i) => {
    dots.append(
      s("circle", {
        cx: x(times[i]).toFixed(1),
        cy: y(p[1]).toFixed(1),
        r: 2.5,
        fill: p[1] < threshold ? THRESHOLD : CLASS_COLOURS[p[2] % CLASS_COLOURS.length],
        class: p[1] < threshold ? "dot below" : "dot",
      }),
    );
  });
  svg.append(dots);
  thresholdLine(svg, y, threshold);
  return svg;
}

export function histogram(bins, threshold) {
  const total = bins.reduce((n, b) => n + b.count, 0);
  const svg = frame(`Distribution of top confidence: ${total} inferences`, "chart-histogram");
  if (!bins.length) return svg;
  const low = Math.min(0.5, Math.floor(bins[0].low * 10) / 10);
  const x = scale(low, 1, PAD.left, W - PAD.right);
  const top = Math.max(...bins.map((b) => b.count));
  const y = scale(0, top, H - PAD.bottom, PAD.top);
  yAxis(svg, y, niceTicks(top));
  for (const b of bins) {
    svg.append(
      s("rect", {
        x: x(b.low) + 0.5,
        y: y(b.count),
        width: Math.max(1, x(b.high) - x(b.low) - 1),
        height: y(0) - y(b.count),
        class: b.high <= threshold ? "bar below" : "bar",
      }, s("title", {}, `${b.low.toFixed(2)}–${b.high.toFixed(2)}: ${b.count}`)),
    );
  }
  const g = s("g", { class: "axis axis-x" });
  for (let v = low; v <= 1.0001; v += 0.1) {
    g.append(s("text", { x: x(v), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, v.toFixed(1)));
  }
  svg.append(g);
  // A vertical threshold line here.
  svg.append(
    s("line", { x1: x(threshold), x2: x(threshold), y1: PAD.top, y2: H - PAD.bottom, class: "threshold-line", stroke: THRESHOLD, "data-threshold": threshold }),
    s("text", { x: x(threshold) + 4, y: PAD.top + 10, class: "threshold-label", fill: THRESHOLD }, `threshold ${threshold}`),
  );
  return svg;
}

export function lowShare(hours, threshold) {
  const svg = frame(`Share below the threshold (${threshold}) per hour`, "chart-low-share");
  if (!hours.length) return svg;
  const x = scale(0, hours.length, PAD.left, W - PAD.right);
  const y = scale(0, 1, H - PAD.bottom, PAD.top);
  yAxis(svg, y, [0, 0.25, 0.5, 0.75, 1], (v) => `${Math.round(v * 100)}%`);
  const step = Math.max(1, Math.ceil(hours.length / 8));
  hours.forEach((hour, i) => {
    svg.append(
      s("rect", { x: x(i) + 2, y: y(hour.share), width: Math.max(1, x(1) - x(0) - 4), height: y(0) - y(hour.share), class: "bar below", "data-share": hour.share },
        s("title", {}, `${hour.hour}: ${hour.below} of ${hour.count}`)),
    );
    if (i % step === 0) {
      svg.append(s("text", { x: x(i + 0.5), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, hour.hour.slice(5, 13).replace("T", " ") + "h"));
    }
  });
  return svg;
}

export function classesOverTime(classes) {
  const svg = frame(`Predicted class over time (per ${classes.bucket || "bucket"}, UTC)`, "chart-classes");
  const starts = classes.starts || [];
  if (!starts.length) return svg;
  const names = Object.keys(classes.counts);
  const totals = starts.map((_, i) => names.reduce((n, c) => n + classes.counts[c][i], 0));
  const x = scale(0, starts.length, PAD.left, W - PAD.right);
  const y = scale(0, Math.max(1, ...totals), H - PAD.bottom, PAD.top);
  yAxis(svg, y, niceTicks(Math.max(1, ...totals)));
  starts.forEach((start, i) => {
    let base = 0;
    names.forEach((name, c) => {
      const v = classes.counts[name][i];
      if (v) {
        svg.append(s("rect", { x: x(i) + 1, y: y(base + v), width: Math.max(1, x(1) - x(0) - 2), height: y(base) - y(base + v), fill: CLASS_COLOURS[c % CLASS_COLOURS.length] },
          s("title", {}, `${start}: ${v} ${name}`)));
      }
      base += v;
    });
  });
  names.forEach((name, c) => {
    svg.append(
      s("rect", { x: W - PAD.right + 10, y: PAD.top + c * 18, width: 12, height: 12, fill: CLASS_COLOURS[c % CLASS_COLOURS.length] }),
      s("text", { x: W - PAD.right + 28, y: PAD.top + c * 18 + 10, class: "tick" }, name),
    );
  });
  const step = Math.max(1, Math.ceil(starts.length / 6));
  starts.forEach((start, i) => {
    if (i % step === 0) svg.append(s("text", { x: x(i + 0.5), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, start.slice(5, 16).replace("T", " ")));
  });
  return svg;
}

export function reliability(bins) {
  const svg = frame("Reliability: accuracy per confidence bin", "chart-reliability");
  const x = scale(0.5, 1, PAD.left, W - PAD.right);
  const y = scale(0, 1, H - PAD.bottom, PAD.top);
  yAxis(svg, y, [0, 0.25, 0.5, 0.75, 1], (v) => v.toFixed(2));
  svg.append(s("line", { x1: x(0.5), y1: y(0.5), x2: x(1), y2: y(1), class: "diagonal" }));
  for (const b of bins) {
    svg.append(s("rect", { x: x(b.low) + 1, y: y(b.accuracy), width: Math.max(1, x(b.high) - x(b.low) - 2), height: y(0) - y(b.accuracy), class: "bar" },
      s("title", {}, `${b.low.toFixed(2)}–${b.high.toFixed(2)}: accuracy ${b.accuracy.toFixed(3)} over ${b.count}`)));
  }
  const g = s("g", { class: "axis axis-x" });
  for (let v = 0.5; v <= 1.0001; v += 0.1) g.append(s("text", { x: x(v), y: H - PAD.bottom + 16, class: "tick", "text-anchor": "middle" }, v.toFixed(1)));
  svg.append(g);
  return svg;
}

function niceTicks(top) {
  const step = Math.max(1, Math.pow(10, Math.floor(Math.log10(top))) / (top / Math.pow(10, Math.floor(Math.log10(top))) < 3 ? 2 : 1));
  const ticks = [];
  for (let v = 0; v <= top; v += step) ticks.push(Math.round(v));
  return ticks;
}
