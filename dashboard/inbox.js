// inbox.js - the Inbox page: the tenant's conversations (filters and search), one
// conversation's timeline, and working it: reply (with quick replies, or answering one
// message), state, snooze, assignee, pin, tags and private notes. Outbound statuses
// change live from the event stream; new messages come in by a light poll. Every text
// a user or an agent wrote is put in the page as text, never as markup (dom.js).
import { del, get, patch, post, query } from "./api.js";
import { h, replace, table, text, toast, when } from "./dom.js";

const STATES = ["open", "pending", "snoozed", "closed"];
const POLL_MS = 15000;

function select(id, options, value) {
  return h("select", { id, name: id }, options.map(([v, label]) =>
    h("option", { value: v, selected: String(v) === String(value) }, label)));
}

function contactName(c) {
  const k = c.contact || {};
  const name = [k.first_name, k.last_name].filter(Boolean).join(" ");
  return name || (k.username ? `@${k.username}` : `chat ${c.chat_id}`);
}

function tagChip(t, onRemove) {
  const dot = h("span", { class: "dot" });
  dot.style.backgroundColor = /^#[0-9a-f]{6}$/.test(t.color) ? t.color : "#888888"; // CSSOM: CSP allows it
  return h("span", { class: "tag", "data-tag": t.id }, dot, t.name,
    onRemove ? h("button", { type: "button", class: "link", "aria-label": `remove tag ${t.name}`, onclick: onRemove }, "×") : null);
}

export async function inboxPage(main, { me, live }) {
  const canWork = me.role !== "viewer";
  const firstList = get("/v1/conversations" + query({ limit: 100 })); // with the four below
  firstList.catch(() => {}); // awaited by the first loadList
  const [{ bots }, { tags }, { quick_replies: quick }, { agents }] = await Promise.all([
    get("/v1/bots"), get("/v1/tags"), get("/v1/quick-replies"), get("/v1/agents")]);
  const botName = new Map(bots.map((b) => [b.id, b.name || `bot ${b.id}`]));
  const agentName = new Map(agents.map((a) => [a.id, a.email]));
  let current = null; // the open conversation
  let replyTo = null; // the user's message a reply answers
  let stopped = false;
  const statusEls = new Map(); // outbound message id -> its status element

  const fQ = h("input", { id: "i-q", name: "q", type: "search", placeholder: "search messages and names" });
  const fBot = select("i-bot", [["", "all bots"], ...bots.map((b) => [b.id, botName.get(b.id)])], "");
  const fState = select("i-state", [["", "any state"], ...STATES.map((s) => [s, s])], "");
  const fAssignee = select("i-assignee", [["", "anyone"], ["me", "me"], ["none", "unassigned"],
    ...agents.map((a) => [a.id, a.email])], "");
  const fTag = select("i-tag", [["", "any tag"], ...tags.map((t) => [t.id, t.name])], "");
  const fUnread = h("input", { id: "i-unread", type: "checkbox" });
  const listBox = h("ul", { id: "conv-list", class: "conv-list" });
  const detail = h("section", { id: "conv-detail", class: "conv-detail", "aria-live": "polite" },
    h("p", { class: "muted" }, "Choose a conversation."));

  // loadList - the list as the filters say (asked: the unfiltered list, already asked for)
  async function loadList(asked) {
    const q = fQ.value.trim();
    const r = await (asked || get("/v1/conversations" + query({
      q: q.length >= 2 ? q : "", bot_id: fBot.value, state: fState.value,
      assignee: fAssignee.value, tag_id: fTag.value,
      unread: fUnread.checked ? "true" : "", limit: 100 })));
    replace(listBox, r.conversations.length ? r.conversations.map((c) =>
      h("li", { "data-id": c.id, class: current && current.id === c.id ? "on" : "" },
        h("button", { type: "button", class: "conv", onclick: () => open(c.id) },
          h("span", { class: "conv-top" },
            h("strong", { class: "conv-name" }, contactName(c)),
            c.pinned ? h("span", { class: "muted", title: "pinned" }, " 📌") : null,
            c.unread ? h("span", { class: "badge", "aria-label": `${c.unread} unread` }, c.unread) : null),
          h("span", { class: "muted conv-meta" }, `${botName.get(c.bot_id) || c.bot_id} · ${c.state} · ${when(c.last_activity_at)}`),
          h("span", { class: "clip conv-last" }, c.last_text ?? ""),
          h("span", { class: "tags" }, c.tags.map((t) => tagChip(t)))))) :
      [h("li", { class: "muted" }, "No conversations match.")]);
  }

  // media - a photo's preview, or a link to the file (fetched from Telegram on demand)
  function media(i) {
    const url = `/v1/conversations/${current.id}/items/${i.id}/media`;
    if (i.media_kind === "photo" || i.media_kind === "sticker")
      return h("a", { href: url, target: "_blank", rel: "noopener" },
        h("img", { src: url, alt: i.text || i.media_kind, loading: "lazy", class: "preview" }));
    return h("a", { href: url, target: "_blank", rel: "noopener" }, `open the ${i.media_kind}`);
  }

  // eventText - an event of the timeline in words (its code is the API's)
  function eventText(i) {
    const by = i.account_email || "an API key";
    const user = { joined: "the user started the chat", blocked: "the user blocked the bot",
      unblocked: "the user unblocked the bot", topic_closed: "an admin closed it in the forum topic",
      topic_reopened: "an admin reopened it in the forum topic" }[i.event];
    if (user) return user;
    if (i.event.startsWith("state_")) return `${by} set it ${i.event.slice(6)}`;
    return i.event === "assigned" ? `${by} assigned it` : i.event === "unassigned" ? `${by} unassigned it` : i.event;
  }

  function itemEl(i) {
    const who = i.type === "note" ? `note by ${i.account_email || "an API key"}` :
      i.direction === "out" ? (i.account_email ? `${i.account_email} (inbox)` : i.autoreply ? `auto-reply (rule ${i.autoreply})` :
        i.source === "topic" ? "an admin (topic)" : i.source || "the bot") :
      i.type === "event" ? "" : "user";
    const body = i.type === "event" ? h("em", {}, eventText(i))
      : h("div", { class: "msg-text" }, i.text ?? (i.media_kind ? `[${i.media_kind}]` : `(${i.method || "message"})`));
    const status = i.direction === "out" ? h("span", { class: `status s-${i.status}`, "data-status": i.status }, i.status) : null;
    if (status) statusEls.set(i.id, status);
    return h("li", { class: `item ${i.type === "message" ? i.direction : i.type}`, "data-type": i.type, "data-id": i.id, "data-autoreply": i.autoreply },
      h("div", { class: "muted item-meta" }, who, who ? " · " : "", when(i.at),
        i.edits ? " · edited" : "", i.reply_to ? ` · answers #${i.reply_to}` : "", status ? " · " : "", status),
      body,
      i.media_kind && i.text ? h("div", { class: "muted" }, `[${i.media_kind}]`) : null,
      i.file_id && i.direction === "in" ? media(i) : null,
      canWork && i.direction === "in" && i.telegram_message_id ? h("button", { type: "button", class: "link", onclick: () => {
        replyTo = i.telegram_message_id;
        text(detail.querySelector("#reply-to"), `answering: ${(i.text || "").slice(0, 60)}`);
        detail.querySelector("#reply-text").focus();
      } }, "Reply") : null);
  }

  async function loadTimeline(list, after) {
    const r = await get(`/v1/conversations/${current.id}/timeline` + query({ after, limit: 50 }));
    const items = r.items.slice().reverse();
    if (!after) { statusEls.clear(); replace(list); }
    list.prepend(...items.map(itemEl));
    const more = detail.querySelector("#older");
    if (more) {
      more.hidden = !r.next_cursor;
      more.onclick = () => loadTimeline(list, r.next_cursor);
    }
    if (!after) list.lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  async function change(body) {
    try {
      current = await patch(`/v1/conversations/${current.id}`, body);
      await loadTimeline(render());
      await loadList();
    } catch (e) { toast(e.message, "error"); }
  }

  function controls() {
    const c = current;
    const state = select("c-state", STATES.map((s) => [s, s]), c.state);
    const until = h("input", { id: "c-until", type: "datetime-local", hidden: c.state !== "snoozed" });
    state.onchange = () => {
      until.hidden = state.value !== "snoozed";
      if (state.value !== "snoozed") change({ state: state.value });
    };
    until.onchange = () => until.value && change({ state: "snoozed", snoozed_until: new Date(until.value).toISOString() });
    const assignee = select("c-assignee", [["", "unassigned"], ...agents.map((a) => [a.id, a.email])], c.assignee_id ?? "");
    assignee.onchange = () => change({ assignee_id: assignee.value ? Number(assignee.value) : null });
    const addTag = select("c-tag", [["", "add a tag…"], ...tags.filter((t) => !c.tags.some((x) => x.id === t.id)).map((t) => [t.id, t.name])], "");
    addTag.onchange = async () => {
      if (!addTag.value) return;
      try { await post(`/v1/conversations/${c.id}/tags`, { tag_id: Number(addTag.value) }); await open(c.id); } catch (e) { toast(e.message, "error"); }
    };
    return h("div", { class: "filters conv-controls" },
      h("label", { for: "c-state" }, "State"), state, until,
      h("label", { for: "c-assignee" }, "Assignee"), assignee,
      h("button", { type: "button", id: "c-pin", onclick: () => change({ pinned: !c.pinned }) }, c.pinned ? "Unpin" : "Pin"),
      h("label", { for: "c-tag" }, "Tags"), addTag);
  }

  function replyForm() {
    const quickSel = select("reply-quick", [["", "quick reply…"], ...quick.map((q) => [q.id, `${q.category ? q.category + ": " : ""}${q.title}`])], "");
    const area = h("textarea", { id: "reply-text", name: "text", rows: 3, placeholder: "Write a reply" });
    quickSel.onchange = () => {
      const q = quick.find((x) => String(x.id) === quickSel.value);
      const k = current.contact || {};
      if (q) area.value = q.text.replace(/\{(first_name|last_name|username|name)\}/g, (_, v) =>
        (v === "name" ? [k.first_name, k.last_name].filter(Boolean).join(" ") : k[v]) || "");
    };
    const file = h("input", { id: "reply-file", type: "file", name: "file" });
    return h("form", { class: "card", id: "reply-form", onsubmit: async (e) => {
      e.preventDefault();
      if (file.files.length) return sendFile(file, area);
      const q = quick.find((x) => String(x.id) === quickSel.value);
      const body = q && area.value === "" ? { quick_reply_id: q.id } : { text: area.value };
      if (replyTo) body.reply_to_message_id = replyTo;
      try {
        const r = await post(`/v1/conversations/${current.id}/messages`, body);
        toast(`Reply #${r.id} queued`);
        area.value = ""; quickSel.value = ""; replyTo = null;
        text(detail.querySelector("#reply-to"), "");
        await loadTimeline(detail.querySelector("#timeline"));
      } catch (err) { toast(err.message, "error"); }
    } },
    h("label", { for: "reply-text" }, "Reply"), h("div", { id: "reply-to", class: "muted" }), area,
    h("div", { class: "actions" }, quickSel, file, h("button", { type: "submit" }, "Send")));
  }

  // sendFile - the chosen file (and the text as its caption) as multipart/form-data
  async function sendFile(input, area) {
    const form = new FormData();
    form.append("file", input.files[0]);
    if (area.value) form.append("caption", area.value);
    if (replyTo) form.append("reply_to_message_id", String(replyTo));
    const r = await fetch(`/v1/conversations/${current.id}/media`, { method: "POST", body: form, credentials: "same-origin" });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { toast(body.detail || `HTTP ${r.status}`, "error"); return; }
    toast(`File #${body.id} queued (${body.method})`);
    input.value = ""; area.value = ""; replyTo = null;
    text(detail.querySelector("#reply-to"), "");
    await loadTimeline(detail.querySelector("#timeline"));
  }

  function noteForm() {
    const area = h("textarea", { id: "note-text", name: "note", rows: 2, placeholder: "Only agents see notes" });
    return h("form", { class: "card", id: "note-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await post(`/v1/conversations/${current.id}/notes`, { text: area.value });
        area.value = "";
        await loadTimeline(detail.querySelector("#timeline"));
      } catch (err) { toast(err.message, "error"); }
    } }, h("label", { for: "note-text" }, "Private note"), area, h("button", { type: "submit" }, "Add note"));
  }

  function render() {
    const c = current;
    const k = c.contact || {};
    const list = h("ol", { id: "timeline", class: "timeline" });
    replace(detail,
      h("h2", { tabindex: "-1" }, contactName(c)),
      h("p", { class: "muted" }, [k.username ? `@${k.username}` : null, `user ${k.user_id}`, botName.get(c.bot_id),
        c.blocked ? "blocked the bot" : null, c.assignee_id ? `assigned to ${agentName.get(c.assignee_id) || c.assignee_id}` : null]
        .filter(Boolean).join(" · ")),
      h("div", { class: "tags" }, c.tags.map((t) => tagChip(t, canWork ? async () => {
        try { await del(`/v1/conversations/${c.id}/tags/${t.id}`); await open(c.id); } catch (e) { toast(e.message, "error"); }
      } : null))),
      canWork ? controls() : null,
      h("p", { id: "conv-stats", class: "muted" }),
      h("button", { type: "button", id: "older", class: "link", hidden: true }, "Older messages"),
      list,
      canWork ? replyForm() : null,
      canWork ? noteForm() : null);
    return list;
  }

  function seconds(s) {
    if (s === null || s === undefined) return "–";
    return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
  }

  async function showStats(id) {
    const st = await get(`/v1/conversations/${id}/stats`);
    const el = detail.querySelector("#conv-stats");
    if (el) text(el, `${st.messages_in} in · ${st.messages_out} out · first response ${seconds(st.first_response_seconds)} · average ${seconds(st.average_response_seconds)}`);
  }

  async function open(id) {
    current = await get(`/v1/conversations/${id}`);
    replyTo = null;
    if (canWork && current.unread) current = await post(`/v1/conversations/${id}/read`);
    const list = render();
    for (const li of listBox.children) li.classList.toggle("on", li.dataset.id === String(id));
    await loadTimeline(list);
    showStats(id).catch(() => {});
    detail.querySelector("h2").focus({ preventScroll: true });
  }

  function manage() {
    if (!canWork) return null;
    const tName = h("input", { id: "tag-name", required: true, maxlength: 64 });
    const tColor = h("input", { id: "tag-color", type: "color", value: "#2458d3" });
    const qTitle = h("input", { id: "qr-title", required: true, maxlength: 100 });
    const qCat = h("input", { id: "qr-category", maxlength: 64 });
    const qText = h("textarea", { id: "qr-text", required: true, rows: 2, placeholder: "Hello {first_name}!" });
    return h("details", { class: "card" }, h("summary", {}, "Tags and quick replies"),
      h("form", { id: "tag-form", onsubmit: async (e) => {
        e.preventDefault();
        try { tags.push(await post("/v1/tags", { name: tName.value, color: tColor.value })); tName.value = ""; toast("Tag made"); } catch (err) { toast(err.message, "error"); }
      } }, h("label", { for: "tag-name" }, "New tag"), tName, h("label", { for: "tag-color" }, "Colour"), tColor, h("button", { type: "submit" }, "Make tag")),
      h("form", { id: "qr-form", onsubmit: async (e) => {
        e.preventDefault();
        try { quick.push(await post("/v1/quick-replies", { title: qTitle.value, category: qCat.value, text: qText.value })); qTitle.value = qText.value = ""; toast("Quick reply saved"); } catch (err) { toast(err.message, "error"); }
      } }, h("label", { for: "qr-title" }, "New quick reply"), qTitle, h("label", { for: "qr-category" }, "Category"), qCat,
      h("label", { for: "qr-text" }, "Text ({first_name}, {last_name}, {username}, {name})"), qText, h("button", { type: "submit" }, "Save")));
  }

  // agentStats - response times per agent over the last 7 days, read when opened
  function agentStats() {
    const box = h("div", { id: "agent-stats" });
    return h("details", { class: "card", ontoggle: async (e) => {
      if (!e.currentTarget.open) return;
      try {
        const r = await get("/v1/stats/agents");
        replace(box, r.agents.length ? table([
          { title: "Agent", get: (a) => a.email || "API keys and topic answers" },
          { title: "Responses", get: (a) => a.responses },
          { title: "Conversations", get: (a) => a.conversations },
          { title: "Average response", get: (a) => seconds(a.average_response_seconds) },
          { title: "First responses", get: (a) => a.first_responses },
          { title: "Average first response", get: (a) => seconds(a.average_first_response_seconds) },
        ], r.agents) : h("p", { class: "muted" }, "No responses in the last 7 days."));
      } catch (err) { toast(err.message, "error"); }
    } }, h("summary", {}, "Response times (7 days)"), box);
  }

  const filters = h("form", { class: "filters", id: "inbox-filters", onsubmit: (e) => { e.preventDefault(); loadList().catch((err) => toast(err.message, "error")); } },
    h("label", { for: "i-q" }, "Search"), fQ,
    h("label", { for: "i-bot" }, "Bot"), fBot,
    h("label", { for: "i-state" }, "State"), fState,
    h("label", { for: "i-assignee" }, "Assignee"), fAssignee,
    h("label", { for: "i-tag" }, "Tag"), fTag,
    h("label", { for: "i-unread" }, "Unread"), fUnread,
    h("button", { type: "submit" }, "Filter"),
    h("a", { href: "/v1/exports/contacts.csv", id: "export-contacts", download: "contacts.csv" }, "Contacts CSV"),
    h("a", { href: "#", id: "export-history", download: "conversation-messages.csv", onclick: (e) => {
      e.currentTarget.href = "/v1/exports/conversation-messages.csv" + query({ bot_id: fBot.value });
    } }, "Messages CSV"));

  const onMessage = (e) => {
    const el = statusEls.get(e.detail.message_id);
    if (el) {
      el.className = `status s-${e.detail.status}`;
      el.dataset.status = e.detail.status;
      text(el, e.detail.status);
    } else if (current && e.detail.bot_id === current.bot_id && e.detail.chat === String(current.chat_id)) {
      loadTimeline(detail.querySelector("#timeline")).catch(() => {});
    }
  };
  live.addEventListener("message", onMessage);

  // a conversation got new items: the list, and the open conversation's timeline
  let refreshing = null;
  const onConversation = (e) => {
    if (refreshing) return;
    refreshing = (async () => {
      try {
        if (current && e.detail.conversation_id === current.id) await reopen();
        await loadList();
      } catch { /* the poll tries again */ }
      refreshing = null;
    })();
  };
  live.addEventListener("conversation", onConversation);

  // reopen - the open conversation read again (and marked read) with its timeline
  async function reopen() {
    const fresh = await get(`/v1/conversations/${current.id}`);
    current = canWork && fresh.unread ? await post(`/v1/conversations/${current.id}/read`) : fresh;
    await loadTimeline(detail.querySelector("#timeline"));
  }

  // poll - in case the stream missed a "conversation" event
  let lastSeen = null;
  async function poll() {
    if (stopped) return;
    try {
      const top = await get("/v1/conversations" + query({ limit: 1 }));
      const mark = top.conversations[0] ? `${top.conversations[0].id}@${top.conversations[0].last_activity_at}` : "";
      if (lastSeen !== null && mark !== lastSeen) {
        if (current) await reopen();
        await loadList();
      }
      lastSeen = mark;
    } catch { /* the next poll tries again */ }
    if (!stopped) setTimeout(poll, POLL_MS);
  }

  replace(main, h("h1", {}, "Inbox"), filters, manage(), agentStats(),
    h("div", { class: "inbox" }, listBox, detail));
  try {
    await loadList(firstList);
  } catch (e) {
    live.removeEventListener("message", onMessage);
    live.removeEventListener("conversation", onConversation);
    throw e;
  }
  poll();
  return () => {
    stopped = true;
    live.removeEventListener("message", onMessage);
    live.removeEventListener("conversation", onConversation);
  };
}
