// campaigns.js - broadcasts: a new campaign (bots, audience filters, message with
// variables and a button, gift, schedule), its preview, then start, pause, resume,
// cancel, retry of the failed, the CSV report and saving it as a preset; the tenant's
// campaigns, and the open one's progress live (message events name their campaign).
import { get, post } from "./api.js";
import { h, replace, table, text, toast, when } from "./dom.js";

const STATE_ACTIONS = {
  draft: ["start", "cancel"],
  scheduled: ["pause", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  done: ["retry"],
  canceled: ["retry"],
};
const COUNTS = ["queued", "held", "sending", "sent", "failed", "blocked", "expired", "canceled", "gifted"];

// field - a labelled input
const field = (id, label, input) => [h("label", { for: id }, label), input];

// audienceOf - the filters the form's fields give
function audienceOf(f) {
  const a = {};
  const langs = f.langs.value.split(/[\s,]+/).filter(Boolean);
  if (langs.length) a.languages = langs;
  if (f.seen.value) a.last_seen_after = new Date(Date.now() - Number(f.seen.value) * 86400000).toISOString();
  if (f.min.value !== "") a.balance_min = Number(f.min.value);
  if (f.max.value !== "") a.balance_max = Number(f.max.value);
  if (f.paid.value) a.paid = f.paid.value === "yes";
  return a;
}

// messageOf - the message the form's fields give (null: none, for a gift alone)
function messageOf(f) {
  if (!f.text.value.trim()) return null;
  const m = { text: f.text.value };
  if (f.mode.value) m.parse_mode = f.mode.value;
  if (f.button.value && f.url.value) m.reply_markup = { inline_keyboard: [[{ text: f.button.value, url: f.url.value }]] };
  return m;
}

export async function campaignsPage(main, { me, live }) {
  const canManage = me.role === "admin" || me.role === "owner";
  // the page's three lists are asked for at once
  const first = { list: get("/v1/campaigns?limit=100"), presets: get("/v1/campaign-presets") };
  for (const p of Object.values(first)) p.catch(() => {}); // awaited below
  const { bots } = await get("/v1/bots");
  const list = h("div", { id: "campaign-list" });
  const detail = h("section", { id: "campaign-detail", "aria-live": "polite" });
  const presets = h("div", { id: "campaign-presets" });
  let open = null; // the id shown in detail
  let openState = null; // its state, as GET /v1/campaigns/{id} counts it

  // stateOf - a campaign's state in the list (the open one's as its detail shows it)
  const stateOf = (c) => {
    const st = c.id === open && openState ? openState : c.state;
    return h("span", { class: "state", "data-state": st }, st);
  };
  let timer = null;

  async function loadList(asked) {
    const { campaigns } = await (asked || get("/v1/campaigns?limit=100"));
    replace(list, campaigns.length ? table([
      { title: "Campaign", get: (c) => h("button", { type: "button", class: "link", onclick: () => show(c.id) }, c.name || `#${c.id}`) },
      { title: "State", get: (c) => stateOf(c) },
      { title: "Recipients", get: (c) => c.recipients },
      { title: "Bots", get: (c) => c.bot_ids.join(", ") },
      { title: "Created", get: (c) => when(c.created_at) },
    ], campaigns, { rowAttrs: (c) => ({ "data-id": c.id }) }) : h("p", { class: "muted" }, "No campaigns yet."));
  }

  async function loadPresets(asked) {
    const ps = await (asked || get("/v1/campaign-presets"));
    replace(presets, ps.length ? table([
      { title: "Preset", get: (p) => p.name },
      { title: "Message", get: (p) => (p.message && (p.message.text || p.message.caption)) || "" },
      { title: "", get: (p) => canManage ? h("button", { type: "button", onclick: async () => {
        try { const c = await post("/v1/campaigns", { preset_id: p.id }); await loadList(); await show(c.id); } catch (e) { toast(e.message, "error"); }
      } }, "New campaign from it") : "" },
    ], ps) : h("p", { class: "muted" }, "No presets."));
  }

  async function act(id, what) {
    try {
      if (what === "retry") {
        const c = await post(`/v1/campaigns/${id}/retry`);
        toast(`Draft #${c.id} sends again to those that failed`);
        await loadList();
        await show(c.id);
        return;
      }
      await post(`/v1/campaigns/${id}/${what}`);
      await loadList();
      await show(id);
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function preview(id, into) {
    try {
      const p = await get(`/v1/campaigns/${id}/preview?limit=5`);
      replace(into, h("p", { id: "cp-count", "data-n": p.recipients }, `${p.recipients} recipients now, about ${p.estimated_seconds} s at the bots' rates.`),
        table([
          { title: "User", get: (x) => [x.first_name, x.last_name].filter(Boolean).join(" ") || x.user_id },
          { title: "Bot", get: (x) => x.bot_id },
          { title: "They get", get: (x) => h("span", { class: "msg-text" }, x.params.text || x.params.caption || "") },
        ], p.first));
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function show(id) {
    if (open !== id) openState = null;
    open = id;
    const c = await get(`/v1/campaigns/${id}`);
    if (open !== id) return;
    // the list has stored states; the campaign's own answer knows when it is done
    openState = c.state;
    const row = list.querySelector(`tr[data-id="${id}"] .state`);
    if (row) { row.dataset.state = c.state; text(row, c.state); }
    const pr = c.progress || {};
    const previewBox = h("div", { id: "cp-preview" });
    const actions = canManage ? (STATE_ACTIONS[c.state] || []).map((a) =>
      h("button", { type: "button", "data-action": a, onclick: () => act(id, a) }, a[0].toUpperCase() + a.slice(1))) : [];
    replace(detail,
      h("h2", {}, `${c.name || "Campaign"} #${c.id}`),
      h("p", {}, "State: ", h("strong", { id: "cp-state", "data-state": c.state }, c.state),
        c.start_at ? ` · starts ${when(c.start_at)}` : "", c.gift ? ` · gift ${c.gift} credits` : "",
        ` · ${c.recipients} recipients`),
      h("p", { class: "msg-text" }, (c.message && (c.message.text || c.message.caption)) || ""),
      h("dl", { class: "counts", id: "cp-counts" }, COUNTS.map((k) => h("div", {}, h("dt", {}, k), h("dd", { "data-count": k }, pr[k] ?? 0)))),
      pr.failed_by_reason && pr.failed_by_reason.length ? h("ul", { class: "reasons" }, pr.failed_by_reason.map((r) => h("li", {}, `${r.count} × ${r.reason}`))) : null,
      h("div", { class: "actions" }, actions,
        c.state === "draft" ? h("button", { type: "button", id: "cp-preview-btn", onclick: () => preview(id, previewBox) }, "Preview") : null,
        c.state !== "draft" ? h("a", { href: `/v1/campaigns/${id}/report.csv`, id: "cp-report", download: `campaign-${id}.csv` }, "Report (CSV)") : null,
        canManage ? h("button", { type: "button", onclick: async () => {
          const name = c.name || `campaign ${c.id}`;
          try {
            await post("/v1/campaign-presets", { name, bot_ids: c.bot_ids, audience: c.audience, message: c.message, ...(c.gift ? { gift: c.gift } : {}) });
            toast("Saved as a preset");
            await loadPresets();
          } catch (e) { toast(e.message, "error"); }
        } }, "Save as preset") : null),
      previewBox);
  }

  // live: a message event of the open campaign refreshes it (at most once a second)
  const onMessage = (e) => {
    if (open === null || e.detail.campaign_id !== open || timer) return;
    timer = setTimeout(async () => { timer = null; if (open !== null) await Promise.all([show(open), loadList()]).catch(() => {}); }, 1000);
  };
  live.addEventListener("message", onMessage);

  const f = {
    name: h("input", { id: "c-name", maxlength: 200 }),
    langs: h("input", { id: "c-langs", placeholder: "en, de" }),
    seen: h("input", { id: "c-seen", type: "number", min: 1 }),
    min: h("input", { id: "c-min", type: "number", min: 0 }),
    max: h("input", { id: "c-max", type: "number", min: 0 }),
    paid: h("select", { id: "c-paid" }, h("option", { value: "" }, "anyone"), h("option", { value: "yes" }, "paid"), h("option", { value: "no" }, "never paid")),
    text: h("textarea", { id: "c-text", rows: 4, placeholder: "Hello {first_name}! You have {credits} credits." }),
    mode: h("select", { id: "c-mode" }, h("option", { value: "" }, "plain text"), h("option", { value: "HTML" }, "HTML"), h("option", { value: "MarkdownV2" }, "MarkdownV2")),
    button: h("input", { id: "c-button", placeholder: "Open the shop" }),
    url: h("input", { id: "c-url", type: "url", placeholder: "https://…" }),
    gift: h("input", { id: "c-gift", type: "number", min: 1 }),
    at: h("input", { id: "c-at", type: "datetime-local" }),
  };
  const botBoxes = bots.map((b) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "c-bot", value: b.id, checked: bots.length === 1 }), ` ${b.name || "bot " + b.id}`));
  const form = canManage ? h("form", { class: "card", id: "campaign-form", onsubmit: async (e) => {
    e.preventDefault();
    const ids = [...form.querySelectorAll("input[name=c-bot]:checked")].map((x) => Number(x.value));
    const body = { bot_ids: ids, audience: audienceOf(f) };
    if (f.name.value) body.name = f.name.value;
    const m = messageOf(f);
    if (m) body.message = m;
    if (f.gift.value) body.gift = Number(f.gift.value);
    if (f.at.value) body.start_at = new Date(f.at.value).toISOString();
    try {
      const c = await post("/v1/campaigns", body);
      toast(`Draft #${c.id} made: preview it, then start it`);
      await loadList();
      await show(c.id);
    } catch (err) {
      toast(err.message, "error");
    }
  } }, h("h2", {}, "New campaign"),
  field("c-name", "Name", f.name),
  h("fieldset", {}, h("legend", {}, "Bots"), botBoxes),
  h("fieldset", {}, h("legend", {}, "Audience (banned and blocked users are left out)"),
    field("c-langs", "Languages", f.langs), field("c-seen", "Seen in the last … days", f.seen),
    field("c-min", "Credits at least", f.min), field("c-max", "Credits at most", f.max), field("c-paid", "Payments", f.paid)),
  h("fieldset", {}, h("legend", {}, "Message: {first_name}, {last_name}, {username}, {credits}, {gift}"),
    field("c-text", "Text", f.text), field("c-mode", "Format", f.mode),
    field("c-button", "Button text", f.button), field("c-url", "Button link", f.url)),
  field("c-gift", "Gift credits to each (optional)", f.gift),
  field("c-at", "Start at (optional)", f.at),
  h("button", { type: "submit" }, "Make draft")) : null;

  replace(main, h("h1", {}, "Campaigns"), form, h("h2", {}, "Campaigns"), list, detail,
    h("h2", {}, "Presets"), presets);
  await Promise.all([loadList(first.list), loadPresets(first.presets)]);
  return () => { live.removeEventListener("message", onMessage); clearTimeout(timer); open = null; };
}

