// dom.js - building the page safely: every string becomes a text node (textContent),
// never HTML. Text the app did not write (message texts, bot names, emails) can only
// ever be shown as text.

// h - an element: h("a", {href: "#/x", class: "c", onclick: fn}, "text", child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace - the children of el become these
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// text - set an element's text (never markup)
export function text(el, value) {
  el.textContent = value === null || value === undefined ? "" : String(value);
  return el;
}

// table - a table from columns [{title, get(row) -> node or text}] and rows
export function table(columns, rows, opts = {}) {
  const body = h("tbody", {}, rows.map((row) =>
    h("tr", opts.rowAttrs ? opts.rowAttrs(row) : {},
      columns.map((c) => h("td", { "data-title": c.title }, c.get(row))))));
  return h("div", { class: "table-wrap" },
    h("table", { class: opts.class || "" },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.title)))),
      body));
}

export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

let toastTimer;
export function toast(message, kind = "info") {
  const t = document.getElementById("toast");
  t.className = `toast ${kind}`;
  text(t, message);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ""; text(t, ""); }, 6000);
}
