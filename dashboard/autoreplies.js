// autoreplies.js - a bot's auto-reply rules on the Bots page (docs/autoreplies.md): the
// list in order with enable/disable, move up/down and delete, and a form that adds a
// keyword, office-hours or greeting rule. Only /v1/bots/{id}/autoreplies.
import { del, get, patch, post } from "./api.js";
import { h, replace, table, toast } from "./dom.js";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

// what - one line saying when a rule answers
function what(r) {
  if (r.kind === "keyword") return `${r.match} “${r.pattern}”`;
  if (r.kind === "hours") return `closed outside ${r.opens}–${r.closes} ${r.days.map((d) => DAYS[d - 1]).join(" ")} (${r.time_zone})`;
  return "first message";
}

// ruleForm - the add form; fields show for the chosen kind
function ruleForm(onAdd) {
  const kind = h("select", { id: "ar-kind" }, ["keyword", "hours", "greeting"].map((k) => h("option", { value: k }, k)));
  const match = h("select", { id: "ar-match" }, ["contains", "exact", "regex"].map((m) => h("option", { value: m }, m)));
  const pattern = h("input", { id: "ar-pattern", maxlength: 200 });
  const tz = h("input", { id: "ar-tz", value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  const opens = h("input", { id: "ar-opens", type: "time", value: "09:00" });
  const closes = h("input", { id: "ar-closes", type: "time", value: "17:00" });
  const days = DAYS.map((d, i) => h("label", { class: "day" }, h("input", { type: "checkbox", value: i + 1, checked: i < 5, "data-day": i + 1 }), d));
  const text = h("textarea", { id: "ar-text", maxlength: 4096, rows: 3, required: true });
  const keywordBox = h("div", { class: "ar-keyword" }, h("label", { for: "ar-match" }, "Match"), match, h("label", { for: "ar-pattern" }, "Pattern"), pattern);
  const hoursBox = h("div", { class: "ar-hours" }, h("label", { for: "ar-tz" }, "Time zone"), tz, h("label", { for: "ar-opens" }, "Opens"), opens,
    h("label", { for: "ar-closes" }, "Closes"), closes, h("div", {}, days));
  const show = () => { keywordBox.hidden = kind.value !== "keyword"; hoursBox.hidden = kind.value !== "hours"; };
  kind.addEventListener("change", show);
  show();
  const form = h("form", { class: "card", id: "ar-form", onsubmit: async (e) => {
    e.preventDefault();
    const body = { kind: kind.value, text: text.value };
    if (kind.value === "keyword") Object.assign(body, { match: match.value, pattern: pattern.value });
    if (kind.value === "hours") Object.assign(body, { time_zone: tz.value.trim(), opens: opens.value, closes: closes.value,
      days: days.map((l) => l.querySelector("input")).filter((c) => c.checked).map((c) => Number(c.value)) });
    if (await onAdd(body)) { text.value = ""; pattern.value = ""; }
  } }, h("h3", {}, "Add a rule"), h("label", { for: "ar-kind" }, "Kind"), kind, keywordBox, hoursBox,
  h("label", { for: "ar-text" }, "Answer"), text, h("button", { type: "submit" }, "Add rule"));
  return form;
}

// autorepliesSection - the rules of bot into box; canManage: the buttons and the form
export async function autorepliesSection(box, bot, canManage) {
  const base = `/v1/bots/${bot.id}/autoreplies`;
  const listBox = h("div", { id: "ar-list" });

  async function act(fn, done) {
    try { await fn(); if (done) toast(done); await load(); return true; } catch (err) { toast(err.message, "error"); return false; }
  }
  function move(rules, i, by) {
    const ids = rules.map((r) => r.id);
    [ids[i], ids[i + by]] = [ids[i + by], ids[i]];
    return act(() => post(`${base}/order`, { order: ids }));
  }
  async function load() {
    const { autoreplies: rules } = await get(base);
    replace(listBox, rules.length ? table([
      { title: "#", get: (r) => r.position },
      { title: "Kind", get: (r) => r.kind },
      { title: "When", get: (r) => what(r) },
      { title: "Answer", get: (r) => r.text },
      { title: "State", get: (r) => h("span", { class: r.enabled ? "ok" : "bad" }, r.enabled ? "on" : "off") },
      { title: "", get: (r) => canManage ? h("span", { class: "actions" },
        h("button", { type: "button", disabled: r === rules[0], onclick: () => move(rules, rules.indexOf(r), -1) }, "Up"),
        h("button", { type: "button", disabled: r === rules[rules.length - 1], onclick: () => move(rules, rules.indexOf(r), 1) }, "Down"),
        h("button", { type: "button", onclick: () => act(() => patch(`${base}/${r.id}`, { enabled: !r.enabled })) }, r.enabled ? "Turn off" : "Turn on"),
        h("button", { type: "button", onclick: () => act(() => del(`${base}/${r.id}`), "Rule deleted") }, "Delete")) : "" },
    ], rules) : h("p", { class: "muted" }, "No auto-reply rules."));
  }

  const form = canManage ? ruleForm((body) => act(() => post(base, body), "Rule added")) : null;
  replace(box, h("h2", { tabindex: "-1" }, `Auto-replies of ${bot.name || bot.username || "bot " + bot.id}`),
    h("p", { class: "muted" }, "Tried in order; the first that may answers, once per user per window. Commands keep their own answers."),
    listBox, form);
  await load();
  box.querySelector("h2").focus();
}
