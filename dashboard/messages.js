// messages.js - the tenant's messages: filter by bot, chat, status and time; a
// message's whole history; cancel a waiting one, send a failed one again, send a test
// message. Statuses change live from the event stream.
import { get, post, query } from "./api.js";
import { h, replace, table, text, toast, when } from "./dom.js";

const STATUSES = ["", "queued", "sending", "retrying", "sent", "failed", "expired", "canceled"];
const WAITING = new Set(["queued", "retrying"]);
const AGAIN = new Set(["failed", "expired", "canceled"]);

function select(id, options, value) {
  return h("select", { id, name: id }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

export async function messagesPage(main, { me, live }) {
  const first = { at: performance.now(), list: get("/v1/messages" + query({ limit: 100 })) };
  first.list.catch(() => {}); // asked for with the bots, awaited by the first load
  const { bots } = await get("/v1/bots");
  const botName = new Map(bots.map((b) => [b.id, b.name || `bot ${b.id}`]));
  const canSend = me.role !== "viewer";
  const statusCells = new Map(); // message id -> status element
  const heard = new Map(); // message id -> {status, at}: live news a list may not show yet
  let loadedAt = 0;
  const listBox = h("div", { id: "message-list" });
  const detailBox = h("section", { id: "message-detail", "aria-live": "polite" });

  const fBot = select("f-bot", [["", "all bots"], ...bots.map((b) => [String(b.id), botName.get(b.id)])], "");
  const fChat = h("input", { id: "f-chat", name: "chat", placeholder: "chat id", inputmode: "text" });
  const fStatus = select("f-status", STATUSES.map((s) => [s, s || "any status"]), "");
  const fSince = h("input", { id: "f-since", name: "since", type: "datetime-local" });

  function statusEl(m) {
    const news = heard.get(m.id);
    const status = news && news.at >= loadedAt ? news.status : m.status; // came while loading
    const el = h("span", { class: `status s-${status}`, "data-status": status }, status);
    statusCells.set(m.id, el);
    return el;
  }

  // load - the list as the filters say (asked: the unfiltered list, already asked for)
  async function load(asked) {
    statusCells.clear();
    const since = fSince.value ? new Date(fSince.value).toISOString() : "";
    loadedAt = asked ? asked.at : performance.now();
    const r = await (asked ? asked.list : get("/v1/messages" + query({ bot_id: fBot.value, chat_id: fChat.value.trim(), status: fStatus.value, since, limit: 100 })));
    replace(listBox, r.messages.length ? table([
      { title: "Id", get: (m) => h("button", { type: "button", class: "link", onclick: () => show(m.id) }, `#${m.id}`) },
      { title: "Bot", get: (m) => botName.get(m.bot_id) || m.bot_id },
      { title: "Chat", get: (m) => m.chat_id },
      { title: "Text", get: (m) => h("span", { class: "clip msg-text" }, m.text ?? `(${m.method})`) },
      { title: "Status", get: (m) => statusEl(m) },
      { title: "Created", get: (m) => when(m.created_at) },
    ], r.messages, { rowAttrs: (m) => ({ "data-id": m.id }) }) : h("p", { class: "muted" }, "No messages match."));
  }

  async function act(path, done) {
    try {
      const r = await post(path);
      toast(done(r));
      await load();
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async function show(id) {
    const m = await get(`/v1/messages/${id}`);
    const actions = [];
    if (canSend && WAITING.has(m.status)) actions.push(h("button", { type: "button", onclick: () => act(`/v1/messages/${id}/cancel`, () => `Message #${id} canceled`).then(() => show(id)) }, "Cancel"));
    if (canSend && AGAIN.has(m.status)) actions.push(h("button", { type: "button", onclick: () => act(`/v1/messages/${id}/resend`, (r) => `Sent again as message #${r.id}`) }, "Send again"));
    replace(detailBox,
      h("h2", {}, `Message #${m.id}`),
      h("dl", { class: "facts" },
        h("dt", {}, "Bot"), h("dd", {}, botName.get(m.bot_id) || m.bot_id),
        h("dt", {}, "Chat"), h("dd", {}, m.chat_id),
        h("dt", {}, "Text"), h("dd", { class: "msg-text" }, m.text ?? ""),
        h("dt", {}, "Status"), h("dd", {}, m.status),
        h("dt", {}, "Attempts"), h("dd", {}, m.attempts),
        h("dt", {}, "Last error"), h("dd", {}, m.last_error || "–")),
      h("h3", {}, "History"),
      h("ol", { class: "history" }, (m.events || []).map((e) => h("li", {}, h("strong", {}, e.status), " ", when(e.at), e.detail ? ` – ${e.detail}` : ""))),
      h("div", { class: "actions" }, actions));
    detailBox.querySelector("h2").setAttribute("tabindex", "-1");
    detailBox.querySelector("h2").focus();
  }

  const tBot = select("t-bot", bots.map((b) => [String(b.id), botName.get(b.id)]), bots[0] ? String(bots[0].id) : "");
  const tChat = h("input", { id: "t-chat", name: "chat", required: true, placeholder: "1001" });
  const tText = h("textarea", { id: "t-text", name: "text", required: true, rows: 2 });
  const sendForm = canSend && bots.length ? h("form", { class: "card", id: "send-form", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const chat = tChat.value.trim();
      const r = await post("/v1/messages", { bot_id: Number(tBot.value), chat_id: /^-?\d+$/.test(chat) ? Number(chat) : chat, text: tText.value });
      toast(`Message #${r.id} accepted`);
      tText.value = "";
      await load();
    } catch (err) {
      toast(err.message, "error");
    }
  } },
  h("h2", {}, "Send a test message"),
  h("label", { for: "t-bot" }, "Bot"), tBot,
  h("label", { for: "t-chat" }, "Chat id"), tChat,
  h("label", { for: "t-text" }, "Text"), tText,
  h("button", { type: "submit" }, "Send")) : null;

  const filters = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(); } },
    h("label", { for: "f-bot" }, "Bot"), fBot,
    h("label", { for: "f-chat" }, "Chat"), fChat,
    h("label", { for: "f-status" }, "Status"), fStatus,
    h("label", { for: "f-since" }, "Since"), fSince,
    h("button", { type: "submit" }, "Filter"),
    h("a", { href: "#", id: "export", download: "messages.csv", onclick: (e) => {
      e.currentTarget.href = "/v1/exports/messages.csv" + query({ bot_id: fBot.value, status: fStatus.value });
    } }, "Export CSV"));

  const onMessage = (e) => {
    heard.set(e.detail.message_id, { status: e.detail.status, at: performance.now() });
    if (heard.size > 2000) heard.delete(heard.keys().next().value);
    const el = statusCells.get(e.detail.message_id);
    if (!el) return;
    el.className = `status s-${e.detail.status}`;
    el.dataset.status = e.detail.status;
    text(el, e.detail.status);
  };
  live.addEventListener("message", onMessage);
  replace(main, h("h1", {}, "Messages"), sendForm, filters, listBox, detailBox);
  try {
    await load(first);
  } catch (e) {
    live.removeEventListener("message", onMessage);
    throw e;
  }

  return () => live.removeEventListener("message", onMessage);
}
