// analytics.js - for a bot or all, over a chosen period: accepted, sent and failed per
// bucket (a uPlot chart), totals, success rate and latency; outbound messages by weekday
// and hour in the browser's time zone (heatmap.js); each chart's data as CSV.
import { get, query } from "./api.js";
import { h, replace, table } from "./dom.js";
import uPlot from "./uPlot.esm.js";
import { heatmapGrid, heatmapRows } from "./heatmap.js";

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

export async function analyticsPage(main) {
  const { bots } = await get("/v1/bots");
  const fBot = h("select", { id: "a-bot" }, h("option", { value: "" }, "all bots"), bots.map((b) => h("option", { value: b.id }, b.name || `bot ${b.id}`)));
  const fPeriod = h("select", { id: "a-period" }, PERIODS.map(([p]) => h("option", { value: p, selected: p === "24h" }, p)));
  const totals = h("div", { id: "a-totals" });
  const chartBox = h("div", { id: "a-chart", class: "chart" });
  const heatBox = h("div", { id: "a-heat" });
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  let plot = null, data = null, heat = null;

  async function load() {
    const [, seconds, bucket] = PERIODS.find(([p]) => p === fPeriod.value);
    const to = new Date(), from = new Date(to - seconds * 1000);
    [data, heat] = await Promise.all([
      get("/v1/stats" + query({ from: from.toISOString(), to: to.toISOString(), bucket, bot_id: fBot.value })),
      get("/v1/stats/heatmap" + query({ from: from.toISOString(), to: to.toISOString(), bot_id: fBot.value, tz }))]);
    replace(heatBox, heatmapGrid(heat.cells));
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
  }

  const exportButton = h("button", { type: "button", id: "a-csv", onclick: () => {
    if (!data) return;
    download(`tgm-stats-${fPeriod.value}.csv`, csv([["t", "accepted", "sent", "failed"], ...data.series.map((p) => [p.t, p.accepted, p.sent, p.failed])]));
  } }, "Export CSV");
  const heatButton = h("button", { type: "button", id: "a-heat-csv", "aria-label": "Export the heatmap as CSV", onclick: () => {
    if (heat) download(`tgm-heatmap-${fPeriod.value}.csv`, csv(heatmapRows(heat.cells)));
  } }, "Export CSV");

  replace(main, h("h1", {}, "Analytics"),
    h("form", { class: "filters", onchange: load, onsubmit: (e) => { e.preventDefault(); load(); } },
      h("label", { for: "a-bot" }, "Bot"), fBot, h("label", { for: "a-period" }, "Period"), fPeriod, exportButton),
    totals, chartBox,
    h("section", { "aria-labelledby": "h-heat" },
      h("h2", { id: "h-heat" }, `Outbound by weekday and hour (${tz})`, " ", heatButton), heatBox));
  await load();
  return () => { if (plot) plot.destroy(); };
}
