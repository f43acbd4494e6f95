// app.js - the dashboard's shell: who is logged in, the pages by #/hash, and one live
// event stream (GET /v1/events) that the pages listen to.
import { get, del, whenUnauthorized } from "./api.js";
import { h, replace, text, toast } from "./dom.js";
import { loginPage, passwordPage } from "./login.js";

// the pages, each module fetched when first opened (a cold load fetches only its own page,
// while it asks who is logged in)
const pages = {
  overview: () => import("./overview.js").then((m) => m.overviewPage),
  messages: () => import("./messages.js").then((m) => m.messagesPage),
  inbox: () => import("./inbox.js").then((m) => m.inboxPage),
  keys: () => import("./keys.js").then((m) => m.keysPage),
  bots: () => import("./bots.js").then((m) => m.botsPage),
  analytics: () => import("./analytics.js").then((m) => m.analyticsPage),
  billing: () => import("./billing.js").then((m) => m.billingPage),
  campaigns: () => import("./campaigns.js").then((m) => m.campaignsPage),
  system: () => import("./system.js").then((m) => m.systemPage),
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
  const name = (location.hash.replace(/^#\//, "").split("?")[0]) || "overview";
  const loading = (pages[name] || pages.overview)();
  loading.catch(() => {}); // a failure is shown below, once the session is known
  if (!me && !(await checkSession())) return;
  const main = document.getElementById("main");
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
    const page = await loading;
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
