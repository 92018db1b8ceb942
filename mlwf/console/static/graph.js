// Draws the layout mlwf/console/layout.py computed (every coordinate comes from there) as
// SVG, coloured per state by what happened in an execution, in the Step Functions
// console's colours.
import { s } from "./dom.js";

export const COLOURS = {
  SUCCEEDED: { fill: "#e9f5e6", stroke: "#1d8102", label: "Succeeded" },
  FAILED: { fill: "#fde8e6", stroke: "#d13212", label: "Failed" },
  CAUGHT_ERROR: { fill: "#fff3e0", stroke: "#ec7211", label: "Caught error" },
  IN_PROGRESS: { fill: "#e6f2fa", stroke: "#0073bb", label: "In progress" },
  CANCELLED: { fill: "#eeeeee", stroke: "#687078", label: "Cancelled" },
  NOT_REACHED: { fill: "#ffffff", stroke: "#aab7b8", label: "Not reached" },
};
const MARGIN = 24;

export function legend() {
  return s(
    "svg",
    { class: "legend", width: 620, height: 24 },
    Object.entries(COLOURS).map(([status, c], i) =>
      s(
        "g",
        { transform: `translate(${i * 103},4)` },
        s("rect", { width: 14, height: 14, rx: 3, fill: c.fill, stroke: c.stroke, "stroke-width": 2 }),
        s("text", { x: 20, y: 12 }, c.label),
      ),
    ),
  );
}

// graph: the layout; status: state name -> status (or null: no colouring);
// onSelect(name): a state was clicked.
export function drawGraph(graph, { status = null, retries = {}, selected = null, onSelect = null } = {}) {
  const width = graph.width + 2 * MARGIN + 120; // room for retry labels on the right
  const height = graph.height + 2 * MARGIN;
  const svg = s("svg", {
    class: "graph",
    width,
    height,
    viewBox: `${-MARGIN} ${-MARGIN} ${width} ${height}`,
    role: "img",
  });
  svg.append(
    s(
      "defs",
      {},
      ["next", "catch"].map((kind) =>
        s(
          "marker",
          { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
          s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: `arrow arrow-${kind}` }),
        ),
      ),
    ),
  );
  drawScope(svg, graph, { status, retries, selected, onSelect });
  return svg;
}

function drawScope(parent, graph, options) {
  const labelled = {}; // source -> catch labels drawn: several leave one state, stagger them
  for (const edge of graph.edges) {
    const nth = edge.kind === "catch" ? (labelled[edge.source] = (labelled[edge.source] || 0) + 1) - 1 : 0;
    parent.append(drawEdge(edge, nth));
  }
  for (const node of graph.nodes) parent.append(drawNode(node, options));
}

function drawEdge(edge, nth) {
  const points = edge.points;
  let d = `M ${points[0][0]} ${points[0][1]}`;
  if (edge.back) {
    // Back up the side, clear of the nodes between.
    const [x0, y0] = points[0];
    const [x1, y1] = points[points.length - 1];
    const side = Math.max(x0, x1) + 90;
    d += ` C ${side} ${y0}, ${side} ${y1}, ${x1} ${y1}`;
  } else {
    for (const [x, y] of points.slice(1)) d += ` L ${x} ${y}`;
  }
  const kind = edge.kind === "catch" ? "catch" : "next";
  const group = s("g", { class: `edge edge-${edge.kind}`, "data-source": edge.source, "data-target": edge.target });
  group.append(s("path", { d, class: `edge-line edge-${edge.kind}`, "marker-end": `url(#arrow-${kind})` }));
  if (edge.label) {
    // A catch's label near where it leaves its state (several leave one state), others midway.
    const at = edge.kind === "catch" ? 0 : Math.floor((points.length - 1) / 2);
    const from = points[at];
    const to = points[Math.min(points.length - 1, at + 1)];
    const share = edge.kind === "catch" ? 0.45 : 0.5;
    const x = from[0] + (to[0] - from[0]) * share + 6;
    const y = from[1] + (to[1] - from[1]) * share + nth * 14;
    group.append(s("text", { x, y, class: `edge-label edge-label-${edge.kind}` }, edge.label));
  }
  return group;
}

function drawNode(node, options) {
  const { status, retries, selected, onSelect } = options;
  const group = s("g", {
    class: `node node-${node.type}`,
    transform: `translate(${node.x},${node.y})`,
    "data-state": node.id,
    "data-type": node.type,
  });
  if (node.type === "Start" || node.type === "End") {
    const r = node.width / 2;
    group.append(s("circle", { cx: r, cy: r, r, class: "terminal" }));
    group.append(s("text", { x: r, y: r + 4, class: "terminal-label" }, node.type));
    return group;
  }
  const state = status ? status[node.id] || "NOT_REACHED" : null;
  group.setAttribute("data-status", state || "");
  if (selected === node.id) group.classList.add("selected");
  const box = s("rect", {
    width: node.width,
    height: node.height,
    rx: node.scopes ? 8 : 18,
    class: `state-box${node.scopes ? " cluster" : ""}`,
  });
  group.append(box);
  const title = s("title", {}, `${node.id} (${node.type})${state ? `: ${COLOURS[state].label}` : ""}`);
  group.append(title);
  if (node.scopes) {
    group.append(s("text", { x: 12, y: 18, class: "cluster-label" }, `${node.id}  ·  ${node.type}`));
    for (const scope of node.scopes) {
      const inner = s("g", { transform: `translate(${scope.dx},${scope.dy})`, class: "scope" });
      drawScope(inner, scope, options);
      group.append(inner);
    }
  } else {
    group.append(s("text", { x: node.width / 2, y: node.height / 2 + 4, class: "state-label" }, node.id));
    if (node.type !== "Task") {
      group.append(s("text", { x: node.width - 8, y: 11, class: "state-type" }, node.type));
    }
  }
  if (node.retry && node.retry.length) {
    const attempts = node.retry.reduce((n, rule) => n + (rule.max_attempts ?? 3), 0);
    const done = retries ? retries[node.id] : undefined;
    const label = done ? `↻ retried ${done}×` : `↻ Retry ≤${attempts}`;
    const loop = s("g", { class: `retry${done ? " retried" : ""}`, "data-retries": done || 0 });
    const x = node.width;
    const y = node.scopes ? 14 : node.height / 2;
    loop.append(s("path", { d: `M ${x} ${y - 6} c 18 -14, 18 26, 0 12`, class: "retry-loop", "marker-end": "url(#arrow-next)" }));
    loop.append(s("text", { x: x + 20, y: y + 4, class: "retry-label" }, label));
    loop.append(s("title", {}, node.retry.map((r) => `Retry ${r.errors.join(", ")}: up to ${r.max_attempts}, every ${r.interval_seconds} s ×${r.backoff_rate}`).join("\n")));
    group.append(loop);
  }
  if (onSelect) {
    group.classList.add("clickable");
    group.addEventListener("click", (event) => {
      event.stopPropagation();
      onSelect(node.id);
    });
  }
  return group;
}
