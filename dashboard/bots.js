// bots.js - the tenant's bots: add one by its token, enable or disable it, edit its
// settings in a form made from GET /v1/bot-settings (a new setting needs no page code),
// its auto-reply rules (autoreplies.js); for admins and owners, its admins in Telegram and
// the tenant's audit log (admins.js).
import { get, patch, post } from "./api.js";
import { adminsSection, auditSection } from "./admins.js";
import { autorepliesSection } from "./autoreplies.js";
import { h, replace, table, toast } from "./dom.js";

// field - an input for one setting of the table, holding value
function field(s, value) {
  const id = `set-${s.name}`;
  let input;
  if (s.type === "boolean") input = h("input", { id, type: "checkbox", checked: value === true });
  else if (s.type === "choice") input = h("select", { id }, s.choices.map((c) => h("option", { value: c, selected: c === value }, c)));
  else if (s.type === "integer") input = h("input", { id, type: "number", min: s.min, max: s.max, step: 1, value: value ?? s.default });
  else input = h(s.max_length > 200 ? "textarea" : "input", { id, maxlength: s.max_length, rows: 3 });
  if (s.type === "string") input.value = value ?? "";
  input.dataset.setting = s.name;
  input.dataset.type = s.type;
  return h("div", { class: "field" }, h("label", { for: id }, s.name), input, h("small", { class: "muted" }, s.help));
}

function readField(input) {
  if (input.dataset.type === "boolean") return input.checked;
  if (input.dataset.type === "integer") return Number(input.value);
  return input.value;
}

export async function botsPage(main, { me }) {
  const canManage = me.role === "admin" || me.role === "owner";
  const listBox = h("div", { id: "bot-list" });
  const editBox = h("section", { id: "bot-settings" });
  const rulesBox = h("section", { id: "bot-autoreplies" });
  const adminsBox = h("section", { id: "bot-admins" });
  const auditBox = h("section", { id: "audit" });
  const { settings: schema } = await get("/v1/bot-settings");

  async function edit(bot) {
    // an object (texts) is edited through its own route, not this form
    const fields = schema.filter((s) => s.type !== "object").map((s) => field(s, bot.settings ? bot.settings[s.name] : undefined));
    const form = h("form", { class: "card settings", onsubmit: async (e) => {
      e.preventDefault();
      const settings = {};
      for (const input of form.querySelectorAll("[data-setting]")) {
        const name = input.dataset.setting, value = readField(input);
        if (!bot.settings || bot.settings[name] !== value) settings[name] = value; // only what changed
      }
      try {
        await patch(`/v1/bots/${bot.id}`, { settings });
        toast("Settings saved");
        await load();
      } catch (err) {
        toast(err.message, "error");
      }
    } }, h("h2", { tabindex: "-1" }, `Settings of ${bot.name || bot.username || "bot " + bot.id}`), fields,
    canManage ? h("button", { type: "submit" }, "Save") : null);
    replace(editBox, form);
    form.querySelector("h2").focus();
  }

  async function load() {
    const { bots } = await get("/v1/bots");
    replace(listBox, bots.length ? table([
      { title: "Bot", get: (b) => b.name || "–" },
      { title: "Username", get: (b) => (b.username ? "@" + b.username : "–") },
      { title: "State", get: (b) => h("span", { class: b.enabled ? "ok" : "bad" }, b.enabled ? "enabled" : `disabled${b.disabled_reason ? ": " + b.disabled_reason : ""}`) },
      { title: "Queue", get: (b) => b.queue_depth },
      { title: "", get: (b) => h("span", { class: "actions" },
        h("button", { type: "button", onclick: () => edit(b) }, "Settings"),
        h("button", { type: "button", onclick: () => autorepliesSection(rulesBox, b, canManage).catch((e) => toast(e.message, "error")) }, "Auto-replies"),
        canManage ? h("button", { type: "button", onclick: () => adminsSection(adminsBox, b).catch((e) => toast(e.message, "error")) }, "Admins") : null,
        canManage ? h("button", { type: "button", onclick: async () => {
          try { await patch(`/v1/bots/${b.id}`, { enabled: !b.enabled }); toast(b.enabled ? "Bot disabled" : "Bot enabled"); await load(); } catch (e) { toast(e.message, "error"); }
        } }, b.enabled ? "Disable" : "Enable") : null) },
    ], bots) : h("p", { class: "muted" }, "No bots yet."));
    return bots;
  }

  const token = h("input", { id: "b-token", name: "token", required: true, autocomplete: "off", placeholder: "123456:ABC…" });
  const add = h("form", { class: "card", id: "bot-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const b = await post("/v1/bots", { token: token.value.trim() });
      token.value = "";
      toast(`Added ${b.name || b.username}`);
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  } }, h("h2", {}, "Add a bot"), h("label", { for: "b-token" }, "Token from @BotFather"), token, h("button", { type: "submit" }, "Add bot"));

  replace(main, h("h1", {}, "Bots"), canManage ? add : null, listBox, editBox, rulesBox, adminsBox, auditBox);
  const bots = await load();
  if (canManage) await auditSection(auditBox, bots);
}
