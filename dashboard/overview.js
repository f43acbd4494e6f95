// overview.js - the alerts (GET /v1/alerts, fetched again as live events come); every
// bot with its queue depth (live), send rate against its limit, sent and failed in the
// last hour and its last error; the daemons with their version, uptime and last
// heartbeat (live).
import { get } from "./api.js";
import { h, replace, table, text, when } from "./dom.js";

function uptime(since) {
  const s = Math.max(0, Math.round((Date.now() - new Date(since)) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function daemonsTable(list) {
  return table([
    { title: "Daemon", get: (d) => d.instance ? `${d.name} (${d.instance})` : d.name },
    { title: "Host", get: (d) => d.host },
    { title: "Version", get: (d) => d.version },
    { title: "Up", get: (d) => d.stopped_at ? "stopped" : uptime(d.started_at) },
    { title: "Heartbeat", get: (d) => when(d.seen_at) },
  ], list, { class: "daemons" });
}

const ALERTS_EVERY_MS = 5000; // at most one alerts fetch per this, unless a bot changed

// alertItem - one alert: its detail as text, with since as a tooltip
function alertItem(a) {
  return h("li", { "data-kind": a.kind, title: a.since ? `since ${when(a.since)}` : null }, a.detail);
}

// alertsBox - the list and refresh(now): fetch again, at most one at a time and, unless
// now, once per ALERTS_EVERY_MS
function alertsBox(first) {
  const box = h("ul", { class: "alerts", id: "alerts", "aria-live": "polite" });
  const show = (list) => { replace(box, list.map(alertItem)); box.hidden = list.length === 0; };
  let busy = false, last = Date.now(), again = false, timer = null, stopped = false;
  const refresh = async (now) => {
    if (stopped) return;
    if (busy) { again = again || now; return; }
    if (!now && Date.now() - last < ALERTS_EVERY_MS) {
      if (!timer) timer = setTimeout(() => { timer = null; refresh(true); }, ALERTS_EVERY_MS);
      return;
    }
    busy = true;
    last = Date.now();
    try { show((await get("/v1/alerts")).alerts); } catch { /* kept until the next one */ }
    busy = false;
    if (again) { again = false; refresh(true); }
  };
  const stop = () => { stopped = true; if (timer) clearTimeout(timer); timer = null; };
  show(first);
  return { box, refresh, stop };
}

export async function overviewPage(main, { live }) {
  const [{ bots }, { alerts }] = await Promise.all([get("/v1/bots"), get("/v1/alerts")]);
  const cells = new Map(); // bot id -> {queue, sending, state}
  const botRows = bots.map((b) => {
    const c = {
      queue: h("span", { class: "num" }, b.queue_depth),
      state: h("span", { class: b.enabled ? "ok" : "bad" }, b.enabled ? "enabled" : `disabled${b.disabled_reason ? ": " + b.disabled_reason : ""}`),
    };
    cells.set(b.id, c);
    return { b, c };
  });
  const limit = (b) => (b.settings && b.settings.per_second ? b.settings.per_second * 60 : null);
  const botsTable = bots.length ? table([
    { title: "Bot", get: ({ b }) => h("span", {}, b.name || "", h("br"), h("small", { class: "muted" }, b.username ? "@" + b.username : "")) },
    { title: "State", get: ({ c }) => c.state },
    { title: "Queue", get: ({ c }) => c.queue },
    { title: "Sent / min (limit)", get: ({ b }) => `${b.sent_last_minute} / ${limit(b) ?? "–"}` },
    { title: "Sent 1 h", get: ({ b }) => b.sent_last_hour },
    { title: "Failed 1 h", get: ({ b }) => h("span", { class: b.failed_last_hour ? "bad" : "" }, b.failed_last_hour) },
    { title: "Last error", get: ({ b }) => h("span", { class: "clip" }, b.last_error || "–") },
  ], botRows, { class: "bots" }) : h("p", { class: "muted" }, "No bots yet: add one on the Bots page.");

  const alertList = alertsBox(alerts);

  const daemonsBox = h("div", {}, live.last.daemons ? daemonsTable(live.last.daemons) : h("p", { class: "muted" }, "Waiting for heartbeats…"));
  replace(main,
    h("h1", {}, "Overview"), alertList.box,
    h("section", { "aria-labelledby": "h-bots" }, h("h2", { id: "h-bots" }, "Bots"), botsTable),
    h("section", { "aria-labelledby": "h-daemons" }, h("h2", { id: "h-daemons" }, "Daemons"), daemonsBox));

  const onQueue = (e) => {
    for (const q of e.detail.bots) {
      const c = cells.get(q.bot_id);
      if (c) text(c.queue, q.queued + q.sending);
    }
    alertList.refresh(false);
  };
  const onBot = (e) => {
    alertList.refresh(true);
    const c = cells.get(e.detail.bot_id);
    if (!c) return;
    c.state.className = e.detail.enabled ? "ok" : "bad";
    text(c.state, e.detail.enabled ? "enabled" : `disabled${e.detail.disabled_reason ? ": " + e.detail.disabled_reason : ""}`);
  };
  const onDaemons = (e) => { replace(daemonsBox, daemonsTable(e.detail)); alertList.refresh(false); };
  live.addEventListener("queue", onQueue);
  live.addEventListener("bot", onBot);
  live.addEventListener("daemons", onDaemons);
  return () => {
    alertList.stop();
    live.removeEventListener("queue", onQueue);
    live.removeEventListener("bot", onBot);
    live.removeEventListener("daemons", onDaemons);
  };
}
