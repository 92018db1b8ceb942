// The executions page: a live list (polled; only changed rows travel), filtered by status
// and error, searched by key, paged; and "Start execution".
import { api, clear, duration, errorBox, h, link, put, stack, statusBadge, when } from "./dom.js";

const PAGE_SIZE = 50;
const POLL_MS = 2000;
const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export async function executionsPage(root, machineArn) {
  const info = await stack();
  const machines = info.state_machines;
  if (!machines.length) {
    root.append(errorBox(`stack ${info.name} has no state machine`));
    return null;
  }
  const machine = machines.find((m) => m.arn === machineArn) || machines[0];
  const rows = new Map();
  let revision = 0;
  let page = 0;
  let timer = null;
  let stopped = false;

  const picker = h("select", { id: "machine" }, machines.map((m) => h("option", { value: m.arn, selected: m.arn === machine.arn }, m.name)));
  picker.addEventListener("change", () => (location.hash = `#/executions/${encodeURIComponent(picker.value)}`));
  const status = h("select", { id: "filter-status" }, h("option", { value: "" }, "Any status"), STATUSES.map((st) => h("option", { value: st }, st)));
  const error = h("select", { id: "filter-error" }, h("option", { value: "" }, "Any error"));
  const search = h("input", { id: "search-key", type: "search", placeholder: "Search by key or name", size: 36 });
  const counter = h("span", { id: "count", class: "meta" });
  const banner = h("div", { class: "banner" });
  const body = h("tbody", {});
  const pager = h("div", { class: "pager" });
  const startButton = h("button", { id: "start-execution", type: "button" }, "Start execution");
  put(
    root,
    h("h1", {}, "Executions"),
    machine.type === "EXPRESS"
      ? errorBox("EXPRESS executions are not listed by Step Functions (ListExecutions answers STANDARD ones): see the state machine's log group")
      : null,
    h("div", { class: "toolbar" }, picker, status, error, search, startButton, counter),
    banner,
    h(
      "table",
      { class: "list", id: "executions" },
      h("thead", {}, h("tr", {}, ["Name", "Status", "Error", "Started", "Duration", "Key", "Top confidence"].map((t) => h("th", {}, t)))),
      body,
    ),
    pager,
  );

  const knownErrors = new Set();
  function render() {
    for (const row of rows.values()) {
      if (row.error && !knownErrors.has(row.error)) {
        knownErrors.add(row.error);
        error.append(h("option", { value: row.error }, row.error));
      }
    }
    const wanted = search.value.trim().toLowerCase();
    const all = [...rows.values()].sort((a, b) => (b.start || "").localeCompare(a.start || ""));
    const shown = all.filter(
      (r) =>
        (!status.value || r.status === status.value) &&
        (!error.value || r.error === error.value) &&
        (!wanted || (r.key || "").toLowerCase().includes(wanted) || r.name.toLowerCase().includes(wanted)),
    );
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const fragment = document.createDocumentFragment();
    for (const r of shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
      fragment.append(
        h(
          "tr",
          { "data-status": r.status, "data-arn": r.arn },
          h("td", {}, link(`#/execution/${encodeURIComponent(r.arn)}`, r.name)),
          h("td", {}, statusBadge(r.status)),
          h("td", { class: "error-name" }, r.error || ""),
          h("td", {}, when(r.start)),
          h("td", { class: "num" }, duration(r.duration_ms)),
          h("td", { class: "key" }, r.described ? r.key || "" : "…"),
          h("td", { class: "num" }, r.confidence === null || r.confidence === undefined ? "" : r.confidence.toFixed(4)),
        ),
      );
    }
    clear(body).append(fragment);
    counter.textContent = `${shown.length} of ${rows.size} executions`;
    clear(pager).append(
      h("button", { type: "button", id: "prev-page", disabled: page === 0, onclick: () => { page--; render(); } }, "‹ Previous"),
      h("span", { id: "page-number" }, ` page ${page + 1} of ${pages} `),
      h("button", { type: "button", id: "next-page", disabled: page >= pages - 1, onclick: () => { page++; render(); } }, "Next ›"),
    );
  }
  for (const control of [status, error]) control.addEventListener("change", () => { page = 0; render(); });
  search.addEventListener("input", () => { page = 0; render(); });
  startButton.addEventListener("click", () => startDialog(root, machine, info));

  async function poll() {
    try {
      const answer = await api(`/api/executions?arn=${encodeURIComponent(machine.arn)}&since=${revision}`);
      for (const row of answer.rows) rows.set(row.arn, row);
      revision = answer.revision;
      clear(banner);
      if (answer.error) banner.append(errorBox(`showing what was read before: ${answer.error}`));
      if (answer.pending) banner.append(h("p", { class: "meta" }, `reading ${answer.pending} execution(s)…`));
      if (answer.rows.length || !body.firstChild) render();
    } catch (e) {
      clear(banner).append(errorBox(e.message));
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }
  await poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function startDialog(root, machine, info) {
  const example = machine.logical_id.includes("Batch") ? { s3_bucket: info.bucket, s3_prefix: "incoming/" } : { s3_bucket: info.bucket, s3_key: "incoming/bike.png" };
  const input = h("textarea", { id: "start-input", rows: 8, cols: 70 });
  input.value = JSON.stringify(example, null, 2);
  const name = h("input", { id: "start-name", placeholder: "name (optional: a UUID)", size: 40 });
  const message = h("div", {});
  const dialog = h(
    "dialog",
    { class: "start" },
    h("h2", {}, `Start execution: ${machine.name}`),
    h("label", {}, "Name ", name),
    h("label", {}, "Input (JSON)", input),
    message,
    h(
      "div",
      { class: "buttons" },
      h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", {
        type: "button",
        id: "start-confirm",
        onclick: async () => {
          try {
            const started = await api("/api/start-execution", {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ arn: machine.arn, input: input.value, name: name.value.trim() || null }),
            });
            dialog.close();
            location.hash = `#/execution/${encodeURIComponent(started.arn)}`;
          } catch (e) {
            clear(message).append(errorBox(e.message));
          }
        },
      }, "Start execution"),
    ),
  );
  root.append(dialog);
  dialog.showModal();
}
