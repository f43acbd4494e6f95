// admins.js - on the Bots page (docs/admins.md): a bot's admins in Telegram (who may act
// in its admin group, by role) with add and remove, from /v1/bots/{id}/admins; and the
// tenant's audit log, newest first, filtered by bot, source and action, from /v1/audit.
import { api, del, get } from "./api.js";
import { h, replace, table, toast, when } from "./dom.js";

const ROLES = ["agent", "admin", "owner"];
const ROLE_HELP = "agent: answers users, /info, /close, /reopen · admin: also /ban, /unban, /gift · owner: also manages the admins (/admins)";

// adminsSection - the admins of bot into box, with the add form and remove buttons
export async function adminsSection(box, bot) {
  const base = `/v1/bots/${bot.id}/admins`;
  const listBox = h("div", { id: "adm-list" });

  async function act(fn, done) {
    try { await fn(); toast(done); await load(); return true; } catch (err) { toast(err.message, "error"); return false; }
  }
  async function load() {
    const { admins } = await get(base);
    replace(listBox, admins.length ? table([
      { title: "Telegram user id", get: (a) => String(a.user_id) },
      { title: "Role", get: (a) => a.role },
      { title: "Added by", get: (a) => a.added_by },
      { title: "Since", get: (a) => when(a.created_at) },
      { title: "", get: (a) => h("button", { type: "button", onclick: () => act(() => del(`${base}/${a.user_id}`), "Admin removed") }, "Remove") },
    ], admins) : h("p", { class: "muted" }, "No admins: nobody may act in the bot's admin group until you add its owner."));
  }

  const user = h("input", { id: "adm-user", inputmode: "numeric", required: true, autocomplete: "off", placeholder: "123456789" });
  const role = h("select", { id: "adm-role" }, ROLES.map((r) => h("option", { value: r, selected: r === "owner" }, r)));
  const form = h("form", { class: "card", id: "adm-form", onsubmit: async (e) => {
    e.preventDefault();
    if (await act(() => api("PUT", `${base}/${encodeURIComponent(user.value.trim())}`, { role: role.value }), "Admin saved")) user.value = "";
  } }, h("h3", {}, "Add an admin or change a role"), h("label", { for: "adm-user" }, "Telegram user id"), user,
  h("label", { for: "adm-role" }, "Role"), role, h("button", { type: "submit" }, "Save"));
  replace(box, h("h2", { tabindex: "-1" }, `Admins of ${bot.name || bot.username || "bot " + bot.id}`),
    h("p", { class: "muted" }, ROLE_HELP), listBox, form);
  await load();
  box.querySelector("h2").focus();
}

// auditSection - the audit log into box: filters, a page of rows, and "Older"
export async function auditSection(box, bots) {
  const botSel = h("select", { id: "aud-bot" }, h("option", { value: "" }, "all bots"),
    bots.map((b) => h("option", { value: String(b.id) }, b.name || b.username || `bot ${b.id}`)));
  const source = h("select", { id: "aud-source" }, ["", "telegram", "api", "dashboard"].map((s) => h("option", { value: s }, s || "any source")));
  const action = h("input", { id: "aud-action", maxlength: 64, placeholder: "e.g. user.ban" });
  const listBox = h("div", { id: "aud-list" });
  const more = h("button", { type: "button", id: "aud-more", hidden: true }, "Older");
  const names = new Map(bots.map((b) => [b.id, b.name || b.username || `bot ${b.id}`]));
  let rows = [], cursor = null;

  async function load(after) {
    const q = new URLSearchParams({ limit: "50" });
    if (botSel.value) q.set("bot_id", botSel.value);
    if (source.value) q.set("source", source.value);
    if (action.value.trim()) q.set("action", action.value.trim());
    if (after) q.set("after", after);
    try {
      const page = await get(`/v1/audit?${q}`);
      rows = after ? rows.concat(page.audit) : page.audit;
      cursor = page.next_cursor;
    } catch (err) { toast(err.message, "error"); return; }
    more.hidden = !cursor;
    replace(listBox, rows.length ? table([
      { title: "When", get: (e) => when(e.at) },
      { title: "Who", get: (e) => `${e.source}: ${e.actor_name || e.actor}` },
      { title: "Bot", get: (e) => (e.bot_id ? names.get(e.bot_id) || `bot ${e.bot_id}` : "–") },
      { title: "Action", get: (e) => e.action },
      { title: "Target", get: (e) => e.target ?? "–" },
      { title: "Detail", get: (e) => (e.detail ? JSON.stringify(e.detail) : "–") },
    ], rows, { class: "audit" }) : h("p", { class: "muted" }, "Nothing in the audit log."));
  }
  more.addEventListener("click", () => load(cursor));
  const filters = h("form", { class: "card", id: "aud-form", onsubmit: (e) => { e.preventDefault(); load(); } },
    h("label", { for: "aud-bot" }, "Bot"), botSel, h("label", { for: "aud-source" }, "Source"), source,
    h("label", { for: "aud-action" }, "Action"), action, h("button", { type: "submit" }, "Show"));
  replace(box, h("h2", {}, "Audit log"), h("p", { class: "muted" }, "What people and keys did: in Telegram's admin groups, through the API and here."),
    filters, listBox, more);
  await load();
}
