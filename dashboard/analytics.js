// analytics.js - for a bot or all, over a chosen period: accepted, sent and failed per
// bucket (a uPlot chart), totals, success rate and latency (GET /v1/stats); inbound and
// outbound traffic by weekday and hour, active users, revenue and credits spent per day
// (GET /v1/stats/activity). Every chart exports the answer it drew as CSV.
import { get, query } from "./api.js";
import { h, replace, table } from "./dom.js";
import uPlot from "./uPlot.esm.js";

const PERIODS = [["1h", 3600, "minute"], ["24h", 86400, "hour"], ["7d", 7 * 86400, "day"], ["30d", 30 * 86400, "day"]];

function csv(rows) {
  const cell = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(s) || /^[=+\-@\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function csvButton(id, name, rows) {
  return h("button", { type: "button", id, class: "csv", onclick: () => {
    const r = rows();
    if (r) download(name(), csv(r));
  } }, "Export CSV");
}

// heatmap - a weekday-by-hour grid of one key of the API's cells (Monday first, UTC)
function heatmap(id, cells, key) {
  const n = new Map(cells.map((c) => [`${c.dow}-${c.hour}`, c[key]]));
  const max = Math.max(1, ...cells.map((c) => c[key]));
  const grid = h("div", { id, class: "heat", role: "table", "aria-label": `${key} by weekday and hour (UTC)` },
    h("span", { class: "heat-h" }, ""),
    Array.from({ length: 24 }, (_, hr) => h("span", { class: "heat-h" }, hr % 3 === 0 ? String(hr) : "")));
  DAYS.forEach((day, i) => {
    grid.append(h("span", { class: "heat-d" }, day));
    for (let hr = 0; hr < 24; hr++) {
      const v = n.get(`${i + 1}-${hr}`) || 0;
      const cell = h("span", { class: "heat-c", title: `${day} ${hr}:00 UTC: ${v}`, dataset: { dow: i + 1, hour: hr, n: v } });
      cell.style.opacity = v ? String(0.2 + 0.8 * (v / max)) : "1";
      if (!v) cell.classList.add("zero");
      grid.append(cell);
    }
  });
  return h("div", { class: "heat-wrap" }, grid);
}

export async function analyticsPage(main) {
  const botList = get("/v1/bots"); // asked for alongside the first figures
  const fBot = h("select", { id: "a-bot" }, h("option", { value: "" }, "all bots"));
  const fPeriod = h("select", { id: "a-period" }, PERIODS.map(([p]) => h("option", { value: p, selected: p === "24h" }, p)));
  const totals = h("div", { id: "a-totals" });
  const chartBox = h("div", { id: "a-chart", class: "chart" });
  const activityBox = h("div", { id: "a-activity" });
  let plot = null, data = null, act = null, spentPlot = null;

  async function load() {
    const [, seconds, bucket] = PERIODS.find(([p]) => p === fPeriod.value);
    const to = new Date(), from = new Date(to - seconds * 1000);
    const q = { from: from.toISOString(), to: to.toISOString(), bot_id: fBot.value };
    const stats = get("/v1/stats" + query({ ...q, bucket }));
    const activity = get("/v1/stats/activity" + query(q)); // both asked for at once
    activity.catch(() => {}); // awaited below, after the chart
    data = await stats;
    const t = data.total;
    replace(totals, table([
      { title: "Accepted", get: () => t.accepted }, { title: "Sent", get: () => t.sent },
      { title: "Failed", get: () => t.failed }, { title: "Expired", get: () => t.expired },
      { title: "429s", get: () => t.rate_limited },
      { title: "Success", get: () => (t.success_rate === null ? "–" : `${(t.success_rate * 100).toFixed(1)} %`) },
      { title: "Latency p50 / p95 / p99", get: () => ["p50", "p95", "p99"].map((k) => (t.latency_ms[k] ?? "–")).join(" / ") + " ms" },
    ], [t], { class: "totals" }));
    const s = data.series;
    // every bucket of the period, empty ones as zeros (the API lists those with data)
    const step = { minute: 60, hour: 3600, day: 86400 }[bucket];
    const byT = new Map(s.map((p) => [Math.floor(new Date(p.t).getTime() / 1000 / step) * step, p]));
    const xs = [];
    for (let x = Math.floor(from / 1000 / step) * step; x <= to / 1000; x += step) xs.push(x);
    const pick = (k) => xs.map((x) => (byT.get(x) ? byT.get(x)[k] : 0));
    const series = [xs, pick("accepted"), pick("sent"), pick("failed")];
    if (plot) plot.destroy();
    const width = Math.max(280, Math.min(chartBox.clientWidth || 600, 1100));
    plot = new uPlot({
      width, height: 260,
      series: [{}, { label: "accepted", stroke: "#7a869a" }, { label: "sent", stroke: "#1a7f37" }, { label: "failed", stroke: "#c62828" }],
      axes: [{}, { size: 50 }],
    }, series, chartBox);
    chartBox.dataset.points = String(s.length);
    chartBox.dataset.sent = String(s.reduce((n, p) => n + p.sent, 0));
    act = await activity;
    drawActivity(from, to);
  }

  function drawActivity(from, to) {
    const u = act.active_users;
    const spentBox = h("div", { id: "a-spent", class: "chart" });
    replace(activityBox,
      h("h2", {}, "Traffic by weekday and hour (UTC)", csvButton("a-heat-csv", () => `tgm-traffic-${fPeriod.value}.csv`,
        () => [["weekday", "hour", "inbound", "outbound"], ...act.heatmap.map((c) => [c.dow, c.hour, c.inbound, c.outbound])])),
      h("h3", {}, "Inbound (updates received)"), heatmap("a-heat-in", act.heatmap, "inbound"),
      h("h3", {}, "Outbound (messages accepted)"), heatmap("a-heat-out", act.heatmap, "outbound"),
      h("h2", {}, "Active users", csvButton("a-users-csv", () => "tgm-active-users.csv",
        () => [["to", "day", "week", "month"], [act.to, u.day, u.week, u.month]])),
      h("div", { id: "a-users" }, table([
        { title: "Last day", get: () => u.day }, { title: "Last 7 days", get: () => u.week },
        { title: "Last 30 days", get: () => u.month }], [u], { class: "totals" })),
      h("h2", {}, "Revenue per day", csvButton("a-revenue-csv", () => `tgm-revenue-${fPeriod.value}.csv`,
        () => [["day", "currency", "payments", "amount", "refunded", "net"], ...act.revenue.map((r) => [r.day, r.currency, r.payments, r.amount, r.refunded, r.net])])),
      act.revenue.length ? h("div", { id: "a-revenue" }, table([
        { title: "Day", get: (r) => r.day }, { title: "Currency", get: (r) => r.currency ?? "–" },
        { title: "Payments", get: (r) => r.payments }, { title: "Amount", get: (r) => r.amount ?? "–" },
        { title: "Refunded", get: (r) => r.refunded }, { title: "Net", get: (r) => r.net ?? "–" }], act.revenue, { class: "totals" }))
        : h("p", { id: "a-revenue", class: "muted" }, "No payments in this period."),
      h("h2", {}, "Credits spent per day", csvButton("a-credits-csv", () => `tgm-credits-${fPeriod.value}.csv`,
        () => [["day", "credits"], ...act.credits_spent.map((c) => [c.day, c.credits])])),
      spentBox);
    const byDay = new Map(act.credits_spent.map((c) => [c.day, c.credits]));
    const xs = [];
    for (let d = Math.floor(from / 86400000) * 86400; d <= to / 1000; d += 86400) xs.push(d);
    const ys = xs.map((x) => byDay.get(new Date(x * 1000).toISOString().slice(0, 10)) || 0);
    if (spentPlot) spentPlot.destroy();
    spentPlot = new uPlot({
      width: Math.max(280, Math.min(chartBox.clientWidth || 600, 1100)), height: 180,
      series: [{}, { label: "credits spent", stroke: "#2458d3", fill: "rgba(36,88,211,.12)" }],
      axes: [{}, { size: 50 }],
    }, [xs, ys], spentBox);
    spentBox.dataset.credits = String(ys.reduce((a, b) => a + b, 0));
  }

  const exportButton = h("button", { type: "button", id: "a-csv", onclick: () => {
    if (!data) return;
    download(`tgm-stats-${fPeriod.value}.csv`, csv([["t", "accepted", "sent", "failed"], ...data.series.map((p) => [p.t, p.accepted, p.sent, p.failed])]));
  } }, "Export CSV");

  replace(main, h("h1", {}, "Analytics"),
    h("form", { class: "filters", onchange: load, onsubmit: (e) => { e.preventDefault(); load(); } },
      h("label", { for: "a-bot" }, "Bot"), fBot, h("label", { for: "a-period" }, "Period"), fPeriod, exportButton),
    totals, chartBox, activityBox);
  await Promise.all([load(), botList.then(({ bots }) => fBot.append(...bots.map((b) => h("option", { value: b.id }, b.name || `bot ${b.id}`))))]);
  return () => { if (plot) plot.destroy(); if (spentPlot) spentPlot.destroy(); };
}
