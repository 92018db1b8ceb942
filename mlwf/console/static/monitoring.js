// The monitoring page: what the endpoint captured over a time range, with the deployed
// threshold; the numbers are those `mlwf monitor` computes (same Python code).
import { api, clear, errorBox, h, imageOf, stack } from "./dom.js";
import { classesOverTime, confidenceOverTime, histogram, lowShare, reliability } from "./charts.js";

export async function monitoringPage(root) {
  await stack();
  const from = h("input", { id: "range-from", type: "datetime-local", step: 1 });
  const to = h("input", { id: "range-to", type: "datetime-local", step: 1 });
  const apply = h("button", { type: "button", id: "range-apply" }, "Apply");
  const body = h("div", {}, h("p", { class: "meta" }, "Reading the data capture…"));
  root.append(h("h1", {}, "Monitoring"), h("div", { class: "toolbar" }, h("label", {}, "From (UTC) ", from), h("label", {}, "To (UTC) ", to), apply), body);

  async function load() {
    const query = new URLSearchParams();
    if (from.value) query.set("from", `${from.value}Z`);
    if (to.value) query.set("to", `${to.value}Z`);
    try {
      const data = await api(`/api/monitoring?${query}`);
      render(body, data);
    } catch (e) {
      clear(body).append(errorBox(e.message));
    }
  }
  apply.addEventListener("click", load);
  await load();
}

function render(body, data) {
  const summary = data.summary;
  const threshold = data.threshold;
  const below = summary.below_threshold;
  clear(body);
  body.append(
    h("dl", { class: "facts cards" },
      card("Inferences", String(summary.records)),
      card("Threshold", h("span", { id: "threshold-value" }, String(threshold))),
      card("Below the threshold", `${below.count}${below.share === null ? "" : ` (${(below.share * 100).toFixed(1)}%)`}`),
      card("Median confidence", summary.confidence ? summary.confidence.median.toFixed(4) : ""),
      card("Capture", summary.source || ""),
      summary.malformed_total ? card("Malformed lines", String(summary.malformed_total)) : null),
  );
  for (const note of summary.notes || []) body.append(h("p", { class: "meta" }, note));
  if (!summary.records) return;
  body.append(
    h("div", { class: "chart-wrap" }, confidenceOverTime(data.points, threshold)),
    h("div", { class: "chart-wrap" }, histogram(data.histogram, threshold)),
    h("div", { class: "chart-wrap" }, lowShare(data.low_share, threshold)),
    h("div", { class: "chart-wrap" }, classesOverTime(data.classes)),
  );
  if (data.reliability) body.append(h("div", { class: "chart-wrap" }, reliability(data.reliability)));
  else body.append(h("p", { class: "meta" }, "Reliability diagram: start the console with --labels LST (a SageMaker .lst, local or s3://) to add it."));
  body.append(
    h("h2", {}, `Captured images below the threshold (${below.count}${data.gallery.length < below.count ? `, the ${data.gallery.length} least confident shown` : ""})`),
    h("div", { class: "gallery", id: "gallery" },
      data.gallery.map((g) => h("figure", {}, imageOf("image/png", g.image),
        h("figcaption", {}, `${g.predicted} ${g.confidence.toFixed(3)}`, h("br", {}), g.inference_id || "", h("br", {}), g.time.slice(0, 19))))),
  );
}

function card(name, value) {
  return h("div", { class: "card" }, h("dt", {}, name), h("dd", {}, value));
}
