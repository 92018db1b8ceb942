// One execution: the graph coloured by what happened, the selected state's details (input,
// output, images, error, cause, each retry attempt, duration), the Map's items, the event
// history and the functions' log lines. Refreshed while the execution runs.
import { api, clear, duration, errorBox, h, imageOf, link, pretty, put, statusBadge, when } from "./dom.js";
import { COLOURS, drawGraph, legend } from "./graph.js";

const POLL_MS = 2000;

export async function executionPage(root, arn) {
  let timer = null;
  let stopped = false;
  let selected = null;
  let item = null; // a Map iteration chosen in the items table
  let data = await api(`/api/execution?arn=${encodeURIComponent(arn)}`);
  const head = h("div", {});
  const graphBox = h("div", { class: "graph-wrap", id: "execution-graph" });
  const panel = h("aside", { class: "state-panel", id: "state-panel" });
  const items = h("div", { id: "map-items" });
  const events = h("div", { id: "events" });
  const logs = h("div", { id: "logs" }, h("p", { class: "meta" }, "Loading the functions' logs…"));
  root.append(
    head,
    h("div", { class: "split" }, h("div", {}, graphBox, legend()), panel),
    items,
    h("h2", {}, "Event history"),
    events,
    h("h2", {}, "Function logs"),
    logs,
  );

  function statuses() {
    if (item === null) return Object.fromEntries(Object.entries(data.states).map(([k, v]) => [k, v.status]));
    // One item: its own states' colours; the Map's other states were not reached by it.
    const chosen = data.items[item];
    const inside = new Set(data.map_states[chosen.map] || []);
    const outer = Object.fromEntries(Object.entries(data.states).filter(([k]) => !inside.has(k)).map(([k, v]) => [k, v.status]));
    return { ...outer, ...chosen.states };
  }
  function retries() {
    if (item === null) return Object.fromEntries(Object.entries(data.states).map(([k, v]) => [k, v.retries]));
    return Object.fromEntries(data.items[item].runs.map((i) => [data.runs[i].state, data.runs[i].retries]));
  }

  function renderHead() {
    put(
      clear(head),
      h("p", { class: "crumbs" }, link(`#/executions/${encodeURIComponent(data.state_machine_arn)}`, `‹ ${data.state_machine_name}`)),
      h("h1", {}, data.name, " ", statusBadge(data.status)),
      h(
        "dl",
        { class: "facts" },
        fact("Started", when(data.start)),
        fact("Duration", duration(data.duration_ms)),
        fact("Key", data.key || ""),
        fact("Top confidence", data.confidence === null ? "" : data.confidence.toFixed(4)),
        data.error ? fact("Error", h("span", { class: "error-name", id: "execution-error" }, data.error)) : null,
      ),
      data.cause ? h("details", { open: true }, h("summary", {}, "Cause"), h("pre", { class: "code cause", id: "execution-cause" }, causeText(data.cause))) : null,
      h("details", {}, h("summary", {}, "Execution input and output"), h("pre", { class: "code" }, pretty(data.input)), h("pre", { class: "code" }, pretty(data.output)),
        data.images.map((img) => imageOf(img.mime, img.data))),
    );
  }

  function renderGraph() {
    clear(graphBox).append(drawGraph(data.graph, { status: statuses(), retries: retries(), selected, onSelect: (name) => { selected = name; renderGraph(); renderPanel(); } }));
  }

  function renderPanel() {
    clear(panel);
    if (!selected) {
      panel.append(h("p", { class: "meta" }, "Select a state to see its input, output, error and retries."));
      return;
    }
    let runs = data.runs.filter((r) => r.state === selected);
    if (item !== null) runs = runs.filter((r) => r.iteration === data.items[item].index);
    const status = statuses()[selected] || "NOT_REACHED";
    put(panel, h("h2", {}, selected, " ", statusBadge(status)), h("p", { class: "meta" }, COLOURS[status] ? COLOURS[status].label : status));
    if (!runs.length) {
      panel.append(h("p", {}, "This state was not reached."));
      return;
    }
    if (runs.length > 1) panel.append(h("p", { class: "meta" }, `${runs.length} runs (one per Map item): the last shown; pick an item below for another.`));
    const run = runs[runs.length - 1];
    put(
      panel,
      h("dl", { class: "facts" },
        fact("Type", run.type),
        fact("Duration", duration(run.duration_ms)),
        fact("Retries", h("span", { id: "retry-count" }, String(run.retries))),
        run.error ? fact("Error", h("span", { class: "error-name", id: "state-error" }, run.error)) : null),
    );
    if (run.attempts.length) {
      panel.append(
        h("table", { class: "attempts", id: "attempts" },
          h("thead", {}, h("tr", {}, h("th", {}, "Attempt"), h("th", {}, "Scheduled"), h("th", {}, "Result"))),
          h("tbody", {}, run.attempts.map((a, i) => h("tr", { class: a.error ? "failed" : "ok" }, h("td", {}, String(i + 1)), h("td", {}, when(a.scheduled)), h("td", {}, a.error || "succeeded"))))),
      );
    }
    if (run.cause) panel.append(h("h3", {}, "Cause"), h("pre", { class: "code cause", id: "state-cause" }, causeText(run.cause)));
    panel.append(h("h3", {}, "Input"), h("pre", { class: "code", id: "state-input" }, pretty(run.input)));
    panel.append(h("h3", {}, "Output"), h("pre", { class: "code", id: "state-output" }, pretty(run.output)));
    for (const img of run.images) panel.append(h("figure", {}, imageOf(img.mime, img.data), h("figcaption", {}, img.path)));
  }

  function renderItems() {
    clear(items);
    if (!data.items.length) return;
    put(
      items,
      h("h2", {}, `Map items (${data.items.length})`),
      data.items.some((it) => it.child)
        ? h("p", { class: "note", id: "items-note" }, "A Distributed Map: each item ran as a child execution; these verdicts come from the result files it wrote to S3 (its EXPRESS children keep no history to open).")
        : null,
      item !== null ? h("button", { type: "button", onclick: () => { item = null; renderAll(); } }, "Show all items") : null,
      h("table", { class: "list", id: "items-table" },
        h("thead", {}, h("tr", {}, ["Index", "Status", "Verdict", "Error", "Key"].map((t) => h("th", {}, t)))),
        h("tbody", {}, data.items.map((it, i) =>
          h("tr", it.child ? { "data-index": it.index } : { class: `clickable${item === i ? " selected" : ""}`, "data-index": it.index, onclick: () => { item = i; renderAll(); } },
            h("td", {}, String(it.index)), h("td", {}, statusBadge(it.status)), h("td", { class: `verdict verdict-${it.verdict}` }, it.verdict || ""),
            h("td", { class: "error-name" }, it.error || ""), h("td", { class: "key" }, it.key || ""))))),
    );
  }

  function renderEvents() {
    clear(events).append(
      h("table", { class: "list events", id: "events-table" },
        h("thead", {}, h("tr", {}, ["ID", "Type", "Step", "Elapsed", "Timestamp", "Details"].map((t) => h("th", {}, t)))),
        h("tbody", {}, data.events.map((e) =>
          h("tr", { class: /Failed|TimedOut|Aborted/.test(e.type) ? "failed" : "" },
            h("td", { class: "num" }, String(e.id)), h("td", {}, e.type), h("td", {}, e.state || ""),
            h("td", { class: "num" }, duration(e.elapsed_ms)), h("td", {}, when(e.timestamp)),
            h("td", {}, Object.keys(e.details).length ? h("details", {}, h("summary", {}, summaryOf(e.details)), h("pre", { class: "code" }, pretty(e.details))) : ""))))),
    );
  }

  function renderAll() {
    renderHead();
    renderGraph();
    renderPanel();
    renderItems();
    renderEvents();
  }

  async function loadLogs() {
    try {
      const answer = await api(`/api/execution-logs?arn=${encodeURIComponent(arn)}`);
      clear(logs);
      for (const fn of answer.functions) {
        logs.append(
          h("details", { open: true, class: "log", "data-function": fn.function },
            h("summary", {}, `${fn.function} (${fn.lines.length} lines) · ${fn.group}`),
            fn.note ? h("p", { class: "meta" }, fn.note) : null,
            h("pre", { class: "code log-lines" }, fn.lines.map((l) => `${new Date(l.timestamp).toISOString().slice(11, 23)}  ${l.message}\n`).join(""))),
        );
      }
      if (!answer.functions.length) logs.append(h("p", { class: "meta" }, "No Lambda task ran."));
    } catch (e) {
      clear(logs).append(errorBox(e.message));
    }
  }

  async function poll() {
    if (stopped) return;
    if (data.status === "RUNNING") {
      try {
        data = await api(`/api/execution?arn=${encodeURIComponent(arn)}`);
        renderAll();
        if (data.status !== "RUNNING") loadLogs();
      } catch (e) {
        clear(head).append(errorBox(e.message));
      }
      timer = setTimeout(poll, POLL_MS);
    }
  }

  const failed = Object.entries(data.states).find(([, v]) => v.status === "FAILED");
  selected = failed ? failed[0] : null;
  renderAll();
  loadLogs();
  timer = setTimeout(poll, POLL_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, value)];
}

function causeText(cause) {
  // A Lambda error's cause is its JSON error payload: show it indented when it is one.
  try {
    return JSON.stringify(JSON.parse(cause), null, 2);
  } catch {
    return cause;
  }
}

function summaryOf(details) {
  if (details.error) return String(details.error);
  if (details.name) return String(details.name);
  const keys = Object.keys(details);
  return keys.slice(0, 3).join(", ");
}
