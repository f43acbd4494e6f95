// heatmap.js - the Analytics page's hour-by-weekday heatmap of outbound messages
// (GET /v1/stats/heatmap): a CSS grid of 7 weekdays by 24 hours (so it fits a phone),
// each cell shaded by its share of the busiest one, its figures in its label and title;
// and the same cells, all 168 of them, as CSV rows.
import { h } from "./dom.js";

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LEVELS = 5; // shades, 0: none

// all168 - every weekday and hour, each {weekday, hour, accepted, sent}, zeros included
function all168(cells) {
  const byKey = new Map(cells.map((c) => [`${c.weekday}.${c.hour}`, c]));
  const out = [];
  for (let d = 1; d <= 7; d++) {
    for (let hr = 0; hr < 24; hr++) out.push(byKey.get(`${d}.${hr}`) || { weekday: d, hour: hr, accepted: 0, sent: 0 });
  }
  return out;
}

const hh = (hr) => `${String(hr).padStart(2, "0")}:00`;

// heatmapGrid - the grid of the API's cells
export function heatmapGrid(cells) {
  const every = all168(cells);
  const max = Math.max(0, ...every.map((c) => c.accepted));
  const level = (n) => (n && max ? Math.max(1, Math.round((n / max) * (LEVELS - 1))) : 0);
  const head = h("div", { role: "row", class: "heat-row" }, h("span", { role: "columnheader" }),
    Array.from({ length: 24 }, (_, hr) => h("span", { role: "columnheader", class: "heat-hour", "aria-label": hh(hr) }, hr % 3 ? "" : String(hr))));
  const rows = WEEKDAYS.map((day, i) => h("div", { role: "row", class: "heat-row" },
    h("span", { role: "rowheader", class: "heat-day" }, day),
    every.slice(i * 24, i * 24 + 24).map((c) => {
      const label = `${day} ${hh(c.hour)}: ${c.accepted} accepted, ${c.sent} sent`;
      return h("span", { role: "cell", class: `heat h${level(c.accepted)}`, title: label, "aria-label": label });
    })));
  return h("div", {
    role: "table", class: "heatmap", "aria-label": "Outbound messages by weekday and hour",
    dataset: { accepted: String(every.reduce((n, c) => n + c.accepted, 0)), sent: String(every.reduce((n, c) => n + c.sent, 0)) },
  }, head, rows);
}

// heatmapRows - the CSV rows: a header, then every weekday and hour
export function heatmapRows(cells) {
  return [["weekday", "hour", "accepted", "sent"],
    ...all168(cells).map((c) => [WEEKDAYS[c.weekday - 1], c.hour, c.accepted, c.sent])];
}
