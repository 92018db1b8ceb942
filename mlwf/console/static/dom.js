// DOM helpers. Everything from AWS goes into the page as text nodes or attribute values,
// never as HTML: there is no innerHTML anywhere in the console.

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

// node.append() would write "null" for a missing child: put() leaves it out.
export function put(node, ...children) {
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error(`the console server does not answer (${error.message}): is mlwf console still running?`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`the console server answered HTTP ${response.status} without JSON`);
  }
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

export function errorBox(message) {
  return h("div", { class: "error", role: "alert" }, message);
}

export function pretty(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace("Z", " UTC");
}

export function statusBadge(status) {
  const text = (status || "").replace("_", " ");
  return h("span", { class: `badge status-${status}`, "data-status": status }, text);
}

export function imageOf(mime, data) {
  // The data is base64 the server found in an image (checked against its magic bytes);
  // as a data: URL in the src property it can only ever be an image.
  const img = h("img", { class: "picture", alt: "image" });
  if (/^[A-Za-z0-9+/=]+$/.test(data) && /^image\/(png|jpeg|gif)$/.test(mime)) {
    img.src = `data:${mime};base64,${data}`;
  }
  return img;
}

export function link(hash, ...children) {
  return h("a", { href: hash }, ...children);
}

// The stack, asked once per page load (again after a failure: it may be up by now).
let stackPromise = null;
export function stack() {
  if (!stackPromise) {
    stackPromise = api("/api/stack").catch((error) => {
      stackPromise = null; // ask again next time: the user may start the stack meanwhile
      throw error;
    });
  }
  return stackPromise;
}

