// coldload.mjs - part of `make bench` (bench/coldload.sh): how long each dashboard page
// takes to be usable from a cold load. Debian's Chromium, headless, through playwright-core
// (tests/node_modules, as the browser tests use it).
//
//   node bench/coldload.mjs BASE COOKIE ROUNDS
//
// Each round opens every page in a fresh browser context (empty cache, no service
// worker, nothing kept from the round before) holding a logged-in session cookie: from
// the navigation's start (performance.timeOrigin) until the page shows its data (the
// page's marks below, all present in the DOM, seen by a MutationObserver). Prints, per
// page, the median and range over the rounds, and each round's figures; the goal is
// under one second.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("../tests/node_modules/playwright-core");

const [base, cookie, roundsText] = process.argv.slice(2);
const rounds = Number(roundsText || 5);
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// what "usable" means on each page: its data is on screen
const PAGES = {
  overview: ["table.bots tbody tr"],
  messages: ["#message-list tbody tr"],
  inbox: ["#conv-list li[data-id]"],
  keys: ["#key-list tbody tr"],
  bots: ["#bot-list tbody tr"],
  analytics: ["#a-chart canvas", "#a-spent canvas"],
  billing: ["#bl-users tbody tr", "#bl-payments tbody tr"],
  campaigns: ["#campaign-list > *", "#campaign-presets > *"],
  system: ["main .table-wrap table"],
};

// watch - in the page, before its scripts: window.__usable becomes the time (ms since
// the navigation started) at which every mark is in the DOM
function watch(marks) {
  const done = () => marks.every((m) => document.querySelector(m));
  const check = (obs) => {
    if (window.__usable === undefined && done()) {
      window.__usable = performance.now();
      if (obs) obs.disconnect();
    }
  };
  const obs = new MutationObserver(() => check(obs));
  obs.observe(document, { childList: true, subtree: true, attributes: true });
}

// once - one cold load of a page: ms until usable, and the requests it made
async function once(browser, name) {
  const url = new URL(base);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addCookies([{ name: "tgm_session", value: cookie, domain: url.hostname,
      path: "/", httpOnly: true, sameSite: "Strict" }]);
    const page = await context.newPage();
    let requests = 0, failed = 0;
    page.on("request", () => { requests++; });
    page.on("response", (r) => { if (r.status() >= 400) failed++; });
    await page.addInitScript(watch, PAGES[name]);
    await page.goto(`${base}/#/${name}`, { waitUntil: "commit" });
    await page.waitForFunction(() => window.__usable !== undefined, null, { timeout: 30000 });
    const { ms, assets, api } = await page.evaluate(() => {
      const done = (want) => Math.max(0, ...performance.getEntriesByType("resource")
        .filter((e) => want(new URL(e.name).pathname) && e.responseEnd > 0 && e.responseEnd <= window.__usable)
        .map((e) => e.responseEnd));
      return { ms: window.__usable, assets: done((p) => p === "/" || p.startsWith("/ui/")),
        api: done((p) => p.startsWith("/v1/") && p !== "/v1/events") };
    });
    const hash = await page.evaluate(() => location.hash);
    if (!hash.startsWith(`#/${name}`)) throw new Error(`${name}: ended at ${hash}`);
    return { ms, assets, api, requests, failed };
  } finally {
    await context.close();
  }
}

// floor - a fresh context loading a tiny document from the same gatewayd (GET /healthz):
// ms from the navigation's start until its content is parsed, what any page pays first
// (a renderer for the context, the navigation) before its own files and answers
async function floor(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(`${base}/healthz`, { waitUntil: "domcontentloaded" });
    return await page.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
  } finally {
    await context.close();
  }
}

// summary - the median, least and most of a list of ms
function summary(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1] };
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS, headless: true });
try {
  await once(browser, "overview"); // Chromium's own first start, not counted
  const times = Object.fromEntries(Object.keys(PAGES).map((p) => [p, []]));
  const floors = [];
  let failed = 0;
  for (let r = 0; r < rounds; r++) {
    // each round in another order, so no page always follows the same one
    const names = Object.keys(PAGES);
    const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
    for (const name of order) {
      const got = await once(browser, name);
      times[name].push(got);
      failed += got.failed;
    }
    floors.push(await floor(browser));
  }
  const fl = summary(floors);
  console.log(`${"page".padEnd(10)} ${"usable_ms".padStart(9)} ${"range".padStart(11)} ${"files_ms".padStart(8)}` +
    ` ${"api_ms".padStart(6)} ${"requests".padStart(8)}  usable when`);
  let worst = 0;
  for (const [name, got] of Object.entries(times)) {
    const s = summary(got.map((g) => g.ms));
    const f = summary(got.map((g) => g.assets)), a = summary(got.map((g) => g.api));
    worst = Math.max(worst, s.median);
    console.log(`${name.padEnd(10)} ${s.median.toFixed(0).padStart(9)} ${`${s.min.toFixed(0)}-${s.max.toFixed(0)}`.padStart(11)}` +
      ` ${f.median.toFixed(0).padStart(8)} ${a.median.toFixed(0).padStart(6)} ${String(got[0].requests).padStart(8)}  ${PAGES[name].join(", ")}`);
  }
  console.log("(files_ms: the last of the page's files arrived; api_ms: the last /v1 answer it waited for;" +
    " medians, ms since the navigation started)");
  console.log(`floor: a fresh context shows GET /healthz in ${fl.median.toFixed(0)} ms` +
    ` (range ${fl.min.toFixed(0)}-${fl.max.toFixed(0)}): the browser's own part of every figure above`);
  console.log(`cold load: every page usable within ${worst.toFixed(0)} ms at the median of ${rounds} rounds` +
    ` (the slowest page's median; ${(worst - fl.median).toFixed(0)} ms over the floor); goal < 1000` +
    `${failed ? `; ${failed} answers were 400 or more` : ""}`);
} finally {
  await browser.close();
}
