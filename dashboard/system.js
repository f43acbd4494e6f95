// system.js - lanes per senderd instance with their queues, the daemons, the schema
// version and database size, and the latest message errors (GET /v1/system).
import { get } from "./api.js";
import { h, replace, table, when } from "./dom.js";

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export async function systemPage(main) {
  const s = await get("/v1/system");
  replace(main, h("h1", {}, "System"),
    h("p", {}, `Schema version ${s.schema_version}, database ${bytes(s.database_size_bytes)}.`),
    h("h2", {}, "Lanes"),
    s.lanes.length ? table([
      { title: "Bot", get: (l) => l.bot || `bot ${l.bot_id}` },
      { title: "senderd", get: (l) => l.owner || "–" },
      { title: "Held", get: (l) => h("span", { class: l.held ? "ok" : "bad" }, l.held ? "yes" : "no") },
      { title: "Until", get: (l) => when(l.expires_at) },
      { title: "Queued", get: (l) => l.queued },
    ], s.lanes) : h("p", { class: "muted" }, "No bots."),
    h("h2", {}, "Daemons"),
    table([
      { title: "Daemon", get: (d) => d.instance ? `${d.name} (${d.instance})` : d.name },
      { title: "Host", get: (d) => d.host },
      { title: "Version", get: (d) => d.version },
      { title: "Started", get: (d) => when(d.started_at) },
      { title: "Heartbeat", get: (d) => when(d.seen_at) },
      { title: "Stopped", get: (d) => when(d.stopped_at) },
    ], s.daemons),
    h("h2", {}, "Latest errors"),
    s.recent_errors.length ? table([
      { title: "Message", get: (e) => `#${e.message_id}` },
      { title: "Status", get: (e) => e.status },
      { title: "Error", get: (e) => h("span", { class: "clip" }, e.error) },
      { title: "At", get: (e) => when(e.at) },
    ], s.recent_errors) : h("p", { class: "muted" }, "None."));
}
