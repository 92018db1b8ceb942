// The console's router and the state machines page.
import { api, clear, errorBox, h, link, stack, when } from "./dom.js";
import { drawGraph, legend } from "./graph.js";
import { executionsPage } from "./executions.js";
import { executionPage } from "./execution.js";
import { monitoringPage } from "./monitoring.js";

const main = document.getElementById("main");
let stopPage = null; // the current page's cleanup (its polling)

async function machinesPage(root) {
  const info = await stack();
  root.append(h("h1", {}, `Stack ${info.name}`));
  root.append(
    h("p", { class: "meta" }, `${info.status} · region ${info.region || "?"}`, info.endpoint ? ` · endpoint ${info.endpoint}` : ""),
  );
  if (!info.state_machines.length) root.append(errorBox(`stack ${info.name} has no state machine`));
  for (const machine of info.state_machines) {
    const section = h("section", { class: "machine", "data-machine": machine.name });
    section.append(
      h("h2", {}, machine.name),
      h(
        "p",
        { class: "meta" },
        `${machine.logical_id} · ${machine.type} · ${machine.status || ""} · created ${when(machine.created)} · `,
        link(`#/executions/${encodeURIComponent(machine.arn)}`, "Executions"),
      ),
    );
    root.append(section);
    try {
      const described = await api(`/api/state-machine?arn=${encodeURIComponent(machine.arn)}`);
      section.append(h("div", { class: "graph-wrap" }, drawGraph(described.graph)));
      const comment = described.definition.Comment;
      if (comment) section.append(h("p", { class: "comment" }, comment));
      section.append(h("details", {}, h("summary", {}, "Definition"), h("pre", { class: "code" }, JSON.stringify(described.definition, null, 2))));
    } catch (error) {
      section.append(errorBox(error.message));
    }
  }
  root.append(legend());
}

async function route() {
  if (stopPage) stopPage();
  stopPage = null;
  const hash = location.hash || "#/";
  const [, page, ...rest] = hash.split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.nav === (page || "machines") || (page === "execution" && a.dataset.nav === "executions"));
  }
  const root = h("div", { class: `page page-${page || "machines"}` });
  clear(main).append(root);
  try {
    if (!page) await machinesPage(root);
    else if (page === "executions") stopPage = await executionsPage(root, arg);
    else if (page === "execution") stopPage = await executionPage(root, arg);
    else if (page === "monitoring") await monitoringPage(root);
    else root.append(errorBox(`no such page: ${hash}`));
  } catch (error) {
    root.append(errorBox(error.message));
  }
  root.setAttribute("data-ready", "true");
  performance.mark("page-ready"); // benchmarks/console_executions.py reads it
}

async function header() {
  const info = document.getElementById("stack-info");
  try {
    const s = await stack();
    info.textContent = `${s.name} · ${s.region || ""}${s.endpoint ? ` · ${s.endpoint}` : ""}`;
  } catch {
    info.textContent = "stack not available";
  }
}

window.addEventListener("hashchange", route);
header();
route();
