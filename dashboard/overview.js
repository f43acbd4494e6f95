// overview.js - every bot with its queue depth (live), send rate against its limit,
// sent and failed in the last hour and its last error; the daemons with their version,
// uptime and last heartbeat (live); the alerts of GET /v1/alerts.
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

export async function overviewPage(main, { live }) {
  const { bots } = await get("/v1/bots");
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

  // alerts: what needs someone now (GET /v1/alerts; the daemons' staleness also live)
  const { alerts: found } = await get("/v1/alerts");
  const daemonName = (d) => `${d.name}${d.instance ? " (" + d.instance + ")" : ""} on ${d.host}: no heartbeat since ${when(d.seen_at)}`;
  const words = {
    bot_disabled: (a) => `${a.bot || "bot " + a.bot_id} is disabled: ${a.reason}`,
    lane_not_held: (a) => `${a.bot || "bot " + a.bot_id}: ${a.queued} waiting and no senderd holds its lane`,
    callback_backlog: (a) => `${a.pending} delivery callbacks overdue since ${when(a.oldest_due_at)}`,
    daemon_stale: daemonName,
  };
  const alerts = found.filter((a) => a.kind !== "daemon_stale").map((a) => (words[a.kind] || ((x) => x.kind))(a));
  for (const b of bots) {
    if (b.failed_last_hour) alerts.push(`${b.name || `bot ${b.id}`}: ${b.failed_last_hour} failed in the last hour`);
  }
  const stale = (list) => (list ? list.filter((d) => !d.stopped_at && Date.now() - new Date(d.seen_at) > 30000)
    : found.filter((a) => a.kind === "daemon_stale")).map(daemonName);
  const alertBox = h("ul", { class: "alerts", id: "alerts" });
  const showAlerts = (daemons) => {
    const all = [...alerts, ...stale(daemons)];
    replace(alertBox, all.map((a) => h("li", {}, a)));
    alertBox.hidden = all.length === 0;
  };
  showAlerts(live.last.daemons);

  const daemonsBox = h("div", {}, live.last.daemons ? daemonsTable(live.last.daemons) : h("p", { class: "muted" }, "Waiting for heartbeats…"));
  replace(main,
    h("h1", {}, "Overview"), alertBox,
    h("section", { "aria-labelledby": "h-bots" }, h("h2", { id: "h-bots" }, "Bots"), botsTable),
    h("section", { "aria-labelledby": "h-daemons" }, h("h2", { id: "h-daemons" }, "Daemons"), daemonsBox));

  const onQueue = (e) => {
    for (const q of e.detail.bots) {
      const c = cells.get(q.bot_id);
      if (c) text(c.queue, q.queued + q.sending);
    }
  };
  const onBot = (e) => {
    const c = cells.get(e.detail.bot_id);
    if (!c) return;
    c.state.className = e.detail.enabled ? "ok" : "bad";
    text(c.state, e.detail.enabled ? "enabled" : `disabled${e.detail.disabled_reason ? ": " + e.detail.disabled_reason : ""}`);
  };
  const onDaemons = (e) => { replace(daemonsBox, daemonsTable(e.detail)); showAlerts(e.detail); };
  live.addEventListener("queue", onQueue);
  live.addEventListener("bot", onBot);
  live.addEventListener("daemons", onDaemons);
  return () => {
    live.removeEventListener("queue", onQueue);
    live.removeEventListener("bot", onBot);
    live.removeEventListener("daemons", onDaemons);
  };
}
