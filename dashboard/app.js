// app.js - the dashboard's shell: who is logged in, the pages by #/hash, and one live
// event stream (GET /v1/events) that the pages listen to.
import { get, del, whenUnauthorized } from "./api.js";
import { h, replace, text, toast } from "./dom.js";
import { loginPage, passwordPage } from "./login.js";
import { overviewPage } from "./overview.js";
import { messagesPage } from "./messages.js";
import { inboxPage } from "./inbox.js";
import { keysPage } from "./keys.js";
import { botsPage } from "./bots.js";
import { analyticsPage } from "./analytics.js";
import { systemPage } from "./system.js";
import { billingPage } from "./billing.js";
import { campaignsPage } from "./campaigns.js";

const pages = {
  overview: overviewPage,
  messages: messagesPage,
  inbox: inboxPage,
  keys: keysPage,
  bots: botsPage,
  analytics: analyticsPage,
  billing: billingPage,
  campaigns: campaignsPage,
  system: systemPage,
};

// live - the tenant's events, re-dispatched to whichever page listens
export const live = new EventTarget();
live.last = {}; // the last event of each type, for a page that opens later
let source = null;
let me = null;
let stopPage = null;

function openStream() {
  if (source) return;
  source = new EventSource("/v1/events");
  const dot = document.getElementById("live");
  for (const type of ["message", "queue", "bot", "daemons", "reset", "conversation"]) {
    source.addEventListener(type, (e) => {
      let data = null;
      try { data = JSON.parse(e.data); } catch { return; }
      live.last[type] = data;
      live.dispatchEvent(new CustomEvent(type, { detail: data }));
    });
  }
  source.onopen = () => dot.classList.add("on");
  source.onerror = async () => {
    dot.classList.remove("on");
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      await checkSession(); // refused: the session may have ended
      setTimeout(() => { if (me) openStream(); }, 2000);
    }
  };
}

function closeStream() {
  if (source) source.close();
  source = null;
}

async function checkSession() {
  try {
    const s = await get("/v1/session");
    me = s.kind === "session" ? s.account : null;
  } catch {
    me = null;
  }
  if (!me) showLogin();
  return me;
}

function showLogin() {
  me = null;
  closeStream();
  if (stopPage) stopPage();
  stopPage = null;
  document.getElementById("top").hidden = true;
  if (!location.hash.startsWith("#/login")) {
    const back = location.hash && location.hash !== "#/" ? location.hash : "";
    history.replaceState(null, "", `#/login${back ? "?next=" + encodeURIComponent(back) : ""}`);
  }
  loginPage(document.getElementById("main"), async (account) => {
    me = account;
    const next = new URLSearchParams(location.hash.split("?")[1] || "").get("next");
    location.hash = next || "#/overview";
    await route();
  });
}

async function route() {
  if (!me && !(await checkSession())) return;
  const main = document.getElementById("main");
  const name = (location.hash.replace(/^#\//, "").split("?")[0]) || "overview";
  const page = pages[name] || pages.overview;
  document.getElementById("top").hidden = false;
  text(document.getElementById("who"), `${me.email} (${me.role})`);
  if (me.must_change_password) {
    closeStream();
    passwordPage(main, (account) => { me = account; route(); });
    return;
  }
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  openStream();
  if (stopPage) stopPage();
  stopPage = null;
  replace(main, h("p", { class: "muted" }, "Loading…"));
  try {
    stopPage = (await page(main, { me, live })) || null;
  } catch (e) {
    if (e.status !== 401) replace(main, h("p", { class: "error" }, e.message));
  }
  main.focus({ preventScroll: true });
}

whenUnauthorized(() => showLogin());

document.getElementById("logout").addEventListener("click", async () => {
  try { await del("/v1/session"); } catch (e) { toast(e.message, "error"); }
  showLogin();
});

window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#/login")) return;
  route();
});

route();
