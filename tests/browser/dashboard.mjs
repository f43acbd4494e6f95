// dashboard.mjs - drive the dashboard in Debian's Chromium (headless) through
// playwright-core, for tests/integration/test_dashboard.py.
//
//   node dashboard.mjs SCENARIO CONFIG_JSON
//
// CONFIG_JSON: {base, email, password, shots (a directory), cookie?, chat?, text?, bot?}.
// Prints one JSON object (the scenario's findings) on stdout; exits 1 on a failure,
// with the reason on stderr. Screenshots go to shots/<scenario>-<page>.png.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [scenario, configText] = process.argv.slice(2);
const cfg = JSON.parse(configText);
const TIMEOUT = 20000;

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function withBrowser(viewport, fn) {
  const profile = mkdtempSync(join(tmpdir(), "tgm-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", args: ARGS, headless: true, viewport,
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = { dialogs: [], pageErrors: [], consoleErrors: [], failed: [] };
  page.on("response", (r) => { if (r.status() >= 400) problems.failed.push(`${r.request().method()} ${r.url()} ${r.status()}`); });
  page.on("dialog", async (d) => { problems.dialogs.push(d.message()); await d.dismiss(); });
  page.on("pageerror", (e) => problems.pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") problems.consoleErrors.push(m.text()); });
  try {
    return await fn(page, context, problems);
  } catch (e) {
    await shot(page, "failure").catch(() => {});
    const toast = await page.locator("#toast").textContent().catch(() => "");
    throw new Error(`${e.message}\ntoast: ${toast}\nproblems: ${JSON.stringify(problems)}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(cfg.shots, `${scenario}-${name}.png`), fullPage: true });
}

// region - a screenshot of the page from `above` px over the top of `from` to the bottom
// of `to`, the page's width, once no toast covers it (shots/<scenario>-<name>.png)
async function region(page, from, to, name, above) {
  await page.waitForFunction(() => !document.getElementById("toast").textContent, null, { timeout: 10000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const a = await page.locator(from).boundingBox(), b = await page.locator(to).boundingBox();
  const y = Math.max(0, a.y - above);
  await page.screenshot({ path: join(cfg.shots, `${scenario}-${name}.png`), fullPage: true,
    clip: { x: 0, y, width: page.viewportSize().width, height: b.y + b.height + 16 - y } });
}

async function login(page) {
  await page.goto(cfg.base + "/");
  await page.locator("#email").fill(cfg.email);
  await page.locator("#password").fill(cfg.password);
  await shot(page, "login");
  await page.locator("#password").press("Enter"); // by keyboard
  await page.locator("#nav").waitFor();
  await page.locator("h1", { hasText: "Overview" }).waitFor();
}

const scenarios = {
  // log in, send a message from the Messages page, watch it turn sent without a reload
  async send(page, context, problems) {
    await login(page);
    await page.locator("#h-daemons + div table").waitFor(); // heartbeats, live
    await shot(page, "overview");
    const alerts = await page.locator("#alerts li").allTextContents();
    await page.evaluate(() => { window.__noReload = true; });
    await page.locator("#nav a[href='#/messages']").click();
    await page.locator("#t-chat").fill(String(cfg.chat));
    await page.locator("#t-text").fill(cfg.text);
    await page.locator("#send-form button[type=submit]").click();
    const row = page.locator("#message-list tbody tr").first();
    await row.locator(".status").waitFor();
    const id = Number(await row.getAttribute("data-id"));
    await row.locator(".status[data-status='sent']").waitFor({ timeout: 30000 });
    const shownText = await row.locator(".msg-text").textContent();
    const noReload = await page.evaluate(() => window.__noReload === true);
    const imgs = await page.locator("main img").count();
    await row.locator("button.link").click();
    await page.locator("#message-detail .history li").first().waitFor();
    const history = await page.locator("#message-detail .history li strong").allTextContents();
    await shot(page, "messages");
    for (const name of ["keys", "bots", "system"]) {
      await page.locator(`#nav a[href='#/${name}']`).click();
      await page.locator("main h1").waitFor();
      await page.waitForLoadState("networkidle").catch(() => {});
      await shot(page, name);
    }
    await page.locator("#nav a[href='#/analytics']").click();
    await page.locator("#a-chart canvas").waitFor();
    const charted = Number(await page.locator("#a-chart").getAttribute("data-sent"));
    const legend = await page.locator("#a-chart .u-legend").textContent();
    await shot(page, "analytics");
    return { id, shownText, noReload, imgs, history, charted, legend, alerts, ...problems };
  },

  // the Overview's alerts, live: a send whose token Telegram refuses disables the bot,
  // and its alert appears without a reload, its text shown as text
  async alerts(page, context, problems) {
    await login(page);
    await page.locator("#h-daemons + div table").waitFor();
    const before = await page.locator("#alerts li").allTextContents();
    await page.evaluate(() => { window.__noReload = true; });
    const sent = await page.evaluate(async ({ bot, chat }) => {
      const r = await fetch("/v1/messages", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ bot_id: bot, chat_id: chat, text: "hello" }),
      });
      return r.status;
    }, { bot: cfg.bot, chat: cfg.chat });
    await page.locator("#alerts li[data-kind=bot_disabled]").waitFor();
    await shot(page, "overview");
    return {
      before, sent,
      alerts: await page.locator("#alerts li").allTextContents(),
      markup: await page.locator("#alerts li *").count(),
      noReload: await page.evaluate(() => window.__noReload === true),
      ...problems,
    };
  },

  // the Analytics page: heatmaps, active users, revenue and credits; every CSV export
  async analytics(page) {
    await login(page);
    await page.locator("#nav a[href='#/analytics']").click();
    await page.locator("#a-period").selectOption("7d");
    await page.locator("#a-spent canvas").waitFor();
    await page.locator("#a-spent[data-credits='" + cfg.credits + "']").waitFor();
    const botOptions = await page.locator("#a-bot option").evaluateAll((os) => os.map((o) => o.value));
    const cells = async (id) => page.locator(`#${id} .heat-c:not(.zero)`).evaluateAll(
      (els) => els.map((e) => [Number(e.dataset.dow), Number(e.dataset.hour), Number(e.dataset.n)]));
    const heatIn = await cells("a-heat-in"), heatOut = await cells("a-heat-out");
    const users = await page.locator("#a-users td").allTextContents();
    const revenue = await page.locator("#a-revenue tbody tr").allInnerTexts();
    const imgs = await page.locator("main img").count();
    const csvs = {};
    for (const id of ["a-csv", "a-heat-csv", "a-users-csv", "a-revenue-csv", "a-credits-csv"]) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.locator(`#${id}`).click()]);
      csvs[id] = readFileSync(await download.path(), "utf8");
    }
    await shot(page, "analytics");
    return { botOptions, heatIn, heatOut, users, revenue, imgs, csvs, credits: Number(await page.locator("#a-spent").getAttribute("data-credits")) };
  },

  // a password given by someone else is changed at the first login
  async first(page) {
    await page.goto(cfg.base + "/");
    await page.locator("#email").fill(cfg.email);
    await page.locator("#password").fill(cfg.password);
    await page.locator("#password").press("Enter");
    await page.locator("#password-form").waitFor();
    await shot(page, "password");
    await page.locator("#pw-current").fill(cfg.password);
    await page.locator("#pw-new").fill(cfg.fresh);
    await page.locator("#pw-new").press("Enter");
    await page.locator("h1", { hasText: "Overview" }).waitFor();
    return { h1: await page.locator("main h1").textContent() };
  },

  // add a bot by its token, change a setting in the generated form, disable the bot
  async bots(page) {
    await login(page);
    await page.locator("#nav a[href='#/bots']").click();
    await page.locator("#b-token").fill(cfg.token);
    await page.locator("#bot-form button[type=submit]").click();
    const row = page.locator("#bot-list tbody tr").first();
    await row.waitFor();
    await row.locator("button", { hasText: "Settings" }).click();
    await page.locator("#set-per_second").fill("25");
    await page.locator("#set-updates").selectOption("off");
    await shot(page, "settings");
    await page.locator("#bot-settings button[type=submit]").click();
    await page.locator("#toast", { hasText: "Settings saved" }).waitFor();
    await page.locator("#bot-list tbody tr").first().locator("button", { hasText: "Disable" }).click();
    await page.locator("#bot-list tbody tr").first().locator("button", { hasText: "Enable" }).waitFor();
    return { fields: await page.locator("#bot-settings [data-setting]").count() };
  },

  // a bot's auto-reply rules: a bad regex refused, rules added, moved, turned off, deleted
  async autoreplies(page) {
    await login(page);
    await page.locator("#nav a[href='#/bots']").click();
    await page.locator("#bot-list tbody tr").first().locator("button", { hasText: "Auto-replies" }).click();
    await page.locator("#bot-autoreplies h2").waitFor();
    const rows = page.locator("#ar-list tbody tr");
    if (!cfg.manage) {
      await rows.first().waitFor();
      return { rows: await rows.count(), forms: await page.locator("#ar-form").count(), buttons: await page.locator("#ar-list button").count() };
    }
    await page.locator("#ar-kind").selectOption("keyword");
    await page.locator("#ar-match").selectOption("regex");
    await page.locator("#ar-pattern").fill("(unclosed");
    await page.locator("#ar-text").fill(cfg.text);
    await page.locator("#ar-form button[type=submit]").click();
    const refused = await page.locator("#toast.error").textContent();
    await page.locator("#ar-pattern").fill("^price$");
    await page.locator("#ar-form button[type=submit]").click();
    await rows.first().waitFor();
    await page.locator("#ar-kind").selectOption("hours");
    await page.locator("#ar-tz").fill("Europe/Berlin");
    await page.locator("#ar-text").fill("We are away");
    await page.locator("#ar-form button[type=submit]").click();
    await rows.nth(1).waitFor();
    await page.locator("#ar-kind").selectOption("greeting");
    await page.locator("#ar-text").fill("Hello!");
    await page.locator("#ar-form button[type=submit]").click();
    await rows.nth(2).waitFor();
    await rows.nth(2).locator("button", { hasText: "Up" }).click();
    await page.locator("#ar-list tbody tr:nth-child(2)", { hasText: "Hello!" }).waitFor();
    await rows.nth(0).locator("button", { hasText: "Turn off" }).click();
    await rows.nth(0).locator("button", { hasText: "Turn on" }).waitFor();
    await rows.nth(2).locator("button", { hasText: "Delete" }).click();
    await page.locator("#toast", { hasText: "Rule deleted" }).waitFor();
    await shot(page, "autoreplies");
    return { refused, rows: await rows.allInnerTexts(), imgs: await page.locator("main img").count() };
  },

  // a bot's admins on the Bots page: a bad id refused, two added, one removed; then the
  // audit log below, filtered by source; a viewer sees neither
  async admins(page) {
    await login(page);
    await page.locator("#nav a[href='#/bots']").click();
    const first = page.locator("#bot-list tbody tr").first();
    await first.waitFor();
    if (!cfg.manage) {
      await page.locator("#bot-list tbody tr button", { hasText: "Settings" }).first().waitFor();
      return { admins: await page.locator("#bot-list button", { hasText: "Admins" }).count(), audit: await page.locator("#audit h2").count() };
    }
    await first.locator("button", { hasText: "Admins" }).click();
    await page.locator("#bot-admins h2").waitFor();
    const heading = await page.locator("#bot-admins h2").textContent();
    await page.locator("#adm-user").fill("abc");
    await page.locator("#adm-form button[type=submit]").click();
    const refused = await page.locator("#toast.error").textContent();
    await page.locator("#adm-user").fill("1234");
    await page.locator("#adm-role").selectOption("owner");
    await page.locator("#adm-form button[type=submit]").click();
    await page.locator("#adm-list tbody tr", { hasText: "1234" }).waitFor();
    await page.locator("#adm-user").fill("555");
    await page.locator("#adm-role").selectOption("agent");
    await page.locator("#adm-form button[type=submit]").click();
    const agent = page.locator("#adm-list tbody tr", { hasText: "555" });
    await agent.waitFor();
    await agent.locator("button", { hasText: "Remove" }).click();
    await page.locator("#toast", { hasText: "Admin removed" }).waitFor();
    await agent.waitFor({ state: "detached" });
    const admins = await page.locator("#adm-list tbody tr").allInnerTexts();
    await page.locator("#aud-source").selectOption("dashboard");
    await page.locator("#aud-form button[type=submit]").click();
    await page.locator("#aud-list tbody tr", { hasText: "admin.remove" }).waitFor();
    const dashboard = await page.locator("#aud-list tbody tr").allInnerTexts();
    await page.locator("#aud-source").selectOption("api");
    await page.locator("#aud-form button[type=submit]").click();
    await page.locator("#aud-list tbody tr", { hasText: "product.create" }).waitFor();
    const api = await page.locator("#aud-list tbody tr").allInnerTexts();
    await shot(page, "admins");
    return { heading, refused, admins, dashboard, api, imgs: await page.locator("main img").count() };
  },

  // create a product on the Billing page, then deactivate it; the payments shown
  async billing(page) {
    await login(page);
    await page.locator("#nav a[href='#/billing']").click();
    await page.locator("#pr-label").fill(cfg.label);
    await page.locator("#product-form button[type=submit]").click();
    const row = page.locator("#bl-products tbody tr", { hasText: cfg.label });
    await row.waitFor();
    await row.locator("button", { hasText: "Deactivate" }).click();
    await page.locator("#bl-products tbody tr", { hasText: "inactive" }).waitFor();
    await shot(page, "billing");
    const payments = await page.locator("#bl-payments tbody tr").allInnerTexts();
    const disputed = await page.locator("#bl-payments tbody tr.disputed").count();
    return { rows: await page.locator("#bl-products tbody tr").count(), payments, disputed, imgs: await page.locator("main img").count() };
  },

  // a campaign made on the Campaigns page: previewed (names rendered as text), started,
  // and followed live until done
  async campaign(page, context, problems) {
    await login(page);
    await page.locator("#nav a[href='#/campaigns']").click();
    await page.locator("#campaign-form").waitFor();
    await page.evaluate(() => { window.__noReload = true; });
    await page.locator(`input[name=c-bot][value='${cfg.bot}']`).check();
    await page.locator("#c-name").fill("spring");
    await page.locator("#c-langs").fill("en");
    await page.locator("#c-text").fill(cfg.text);
    await page.locator("#c-button").fill("Shop");
    await page.locator("#c-url").fill("https://shop.example/");
    await page.locator("#campaign-form button[type=submit]").click();
    await page.locator("#cp-state[data-state=draft]").waitFor();
    await page.locator("#cp-preview-btn").click();
    await page.locator("#cp-count").waitFor();
    const previewed = Number(await page.locator("#cp-count").getAttribute("data-n"));
    const rendered = await page.locator("#cp-preview .msg-text").allTextContents();
    await shot(page, "campaign-draft");
    await page.locator("button[data-action=start]").click();
    await page.locator("#cp-state[data-state=done]").waitFor({ timeout: 60000 });
    const sent = Number(await page.locator("#cp-counts dd[data-count=sent]").textContent());
    const report = await page.locator("#cp-report").getAttribute("href");
    await shot(page, "campaigns");
    return { previewed, rendered, sent, report, imgs: await page.locator("main img").count(),
      noReload: await page.evaluate(() => window.__noReload === true),
      rows: await page.locator("#campaign-list tbody tr").count(), ...problems };
  },

  // a viewer's key creation is refused by the server (the form and a direct request)
  async viewer(page) {
    await login(page);
    await page.locator("#nav a[href='#/keys']").click();
    await page.locator("#k-name").fill("should not exist");
    await page.locator("#key-form button[type=submit]").click();
    const toast = page.locator("#toast.error");
    await toast.waitFor();
    const toastText = await toast.textContent();
    await shot(page, "keys");
    const direct = await page.evaluate(async () => {
      const r = await fetch("/v1/keys", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ scope: "admin" }) });
      return { status: r.status, body: await r.json() };
    });
    const secret = await page.locator("#key-secret").count();
    return { toastText, direct, secret };
  },

  // an ended session sends the browser to the login page
  async expired(page, context) {
    const url = new URL(cfg.base);
    await context.addCookies([{ name: "tgm_session", value: cfg.cookie, domain: url.hostname, path: "/", httpOnly: true, sameSite: "Strict" }]);
    await page.goto(cfg.base + "/#/keys");
    await page.locator("form.login #email").waitFor();
    await shot(page, "login");
    return { hash: await page.evaluate(() => location.hash), nav: await page.locator("#top").isVisible() };
  },

  // the Inbox: a user's message (HTML typed in Telegram) shown as text, a quick reply
  // sent and turning sent live, state, assignee, tag and note; then a new message of
  // the user (posted to webhookd here) appears without a reload
  async inbox(page, context, problems) {
    await login(page);
    await page.evaluate(() => { window.__noReload = true; });
    await page.locator("#nav a[href='#/inbox']").click();
    const conv = page.locator("#conv-list li[data-id] button.conv").first();
    await conv.waitFor();
    const listName = await conv.locator(".conv-name").textContent();
    await conv.click();
    const inbound = page.locator("#timeline li.in .msg-text").first();
    await inbound.waitFor();
    const shownText = await inbound.textContent();
    await page.locator("#reply-quick").selectOption({ label: cfg.quick });
    const filled = await page.locator("#reply-text").inputValue();
    await page.locator("#reply-form button[type=submit]").click();
    await page.locator("#timeline li.out .status[data-status='sent']").waitFor({ timeout: 30000 });
    const stats = await page.locator("#conv-stats").textContent();
    await page.locator("#reply-text").fill("the file");
    await page.locator("#reply-file").setInputFiles({ name: "a.png", mimeType: "image/png",
      buffer: Buffer.from("89504e470d0a1a0a0000", "hex") });
    await page.locator("#reply-form button[type=submit]").click();
    await page.locator("#timeline li.out", { hasText: "the file" }).locator(".status[data-status='sent']").waitFor({ timeout: 30000 });
    await page.locator("#c-state").selectOption("pending");
    await page.locator("#c-assignee").selectOption({ label: cfg.email });
    await page.locator("#conv-detail p.muted", { hasText: `assigned to ${cfg.email}` }).waitFor();
    await page.locator("#c-tag").selectOption({ label: cfg.tag });
    await page.locator(`#conv-detail .tag`, { hasText: cfg.tag }).waitFor();
    await page.locator("#note-text").fill(cfg.note);
    await page.locator("#note-form button[type=submit]").click();
    await page.locator("#timeline li.note", { hasText: cfg.note }).waitFor();
    const r = await fetch(cfg.intake, { method: "POST", body: JSON.stringify(cfg.update),
      headers: { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": cfg.secret } });
    await page.locator("#timeline li.in .msg-text", { hasText: cfg.update.message.text }).waitFor({ timeout: 30000 });
    await shot(page, "inbox");
    await page.locator("details:has(#agent-stats) summary").click();
    await page.locator("#agent-stats tbody tr").first().waitFor();
    const agentRows = await page.locator("#agent-stats tbody tr").allInnerTexts();
    await page.locator("#i-q").fill(cfg.search);
    await page.locator("#inbox-filters button[type=submit]").click();
    await page.locator("#conv-list li[data-id]").first().waitFor();
    return {
      listName, shownText, filled, stats, agentRows, intake: r.status,
      state: await page.locator("#c-state").inputValue(),
      found: await page.locator("#conv-list li[data-id]").count(),
      imgs: await page.locator("main img").count(),
      noReload: await page.evaluate(() => window.__noReload === true),
      ...problems,
    };
  },

  // the sandbox (test_sandbox_walk.py), an agent's turn: a tag made on the page; a
  // user writes at the sandbox Telegram and the conversation appears without a reload;
  // the agent opens it, replies (sent, live), tags it, adds a note and closes it
  async "sandbox-agent"(page, context, problems) {
    await login(page);
    await page.evaluate(() => { window.__noReload = true; });
    await page.locator("#nav a[href='#/inbox']").click();
    await page.locator("#conv-list li").first().waitFor();
    await page.locator("details:has(#tag-form) summary").click();
    await page.locator("#tag-name").fill(cfg.tag);
    await page.locator("#tag-form button[type=submit]").click();
    await page.locator("#toast", { hasText: "Tag made" }).waitFor();
    const before = await page.locator("#conv-list li[data-id]").count();
    const said = await (await fetch(`${cfg.tg}/sandbox/say`, { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: cfg.user, text: cfg.text, wait: 1 }) })).json();
    const conv = page.locator("#conv-list li[data-id]", { hasText: cfg.text });
    await conv.waitFor({ timeout: 30000 }); // live: no reload, no click
    const listed = await conv.innerText();
    await conv.locator("button.conv").click();
    const inbound = page.locator("#timeline li.in .msg-text", { hasText: cfg.text });
    await inbound.waitFor();
    const shownText = await inbound.textContent();
    await page.locator("#reply-text").fill(cfg.reply);
    await page.locator("#reply-form button[type=submit]").click();
    const out = page.locator("#timeline li.out", { hasText: cfg.reply });
    await out.waitFor();
    const firstStatus = await out.locator(".status").getAttribute("data-status");
    await out.locator(".status[data-status='sent']").waitFor({ timeout: 30000 });
    const got = await (await fetch(`${cfg.tg}/sandbox/chat/${cfg.user}?wait_for=${encodeURIComponent(cfg.reply)}`)).json();
    await page.locator("#c-tag").selectOption({ label: cfg.tag });
    await page.locator("#conv-detail .tag", { hasText: cfg.tag }).waitFor();
    await page.locator("#note-text").fill(cfg.note);
    await page.locator("#note-form button[type=submit]").click();
    await page.locator("#timeline li.note", { hasText: cfg.note }).waitFor();
    await page.locator("#c-state").selectOption("closed");
    await page.locator("#timeline li.event", { hasText: "set it closed" }).waitFor();
    await page.locator("#conv-list li[data-id]", { hasText: "closed" }).waitFor();
    await shot(page, "inbox");
    await page.locator("details:has(#tag-form) summary").click(); // closed again, for
    await region(page, "div.inbox", "#timeline", "conversation", 8); // docs/dashboard-inbox.png
    return {
      before, said, listed, shownText, firstStatus, received: got.map((m) => m.text),
      timeline: await page.locator("#timeline li").evaluateAll((els) => els.map((e) => e.className.replace("item ", "") + ": " + e.querySelector(".msg-text, em").textContent)),
      tags: await page.locator("#conv-detail .tag").allTextContents(),
      state: await page.locator("#c-state").inputValue(),
      noReload: await page.evaluate(() => window.__noReload === true),
      ...problems,
    };
  },

  // the sandbox, the owner's turn: the printed password changed at the first login; the
  // Overview live; a keyword auto-reply made on the Bots page answers a user at the
  // sandbox Telegram and shows in the conversation; a campaign to the bot's users made,
  // previewed, started, followed to done, and its report downloaded
  async "sandbox-owner"(page, context, problems) {
    await page.goto(cfg.base + "/");
    await page.locator("#email").fill(cfg.email);
    await page.locator("#password").fill(cfg.password);
    await page.locator("#password").press("Enter");
    await page.locator("#password-form").waitFor();
    await page.locator("#pw-current").fill(cfg.password);
    await page.locator("#pw-new").fill(cfg.fresh);
    await page.locator("#pw-new").press("Enter");
    await page.locator("h1", { hasText: "Overview" }).waitFor();
    await page.evaluate(() => { window.__noReload = true; });
    await page.locator("#h-daemons + div table").waitFor(); // heartbeats, live
    const bots = await page.locator("table.bots tbody tr").allInnerTexts();
    const daemons = await page.locator("#h-daemons + div table tbody tr td:first-child").allTextContents();
    await shot(page, "overview");

    await page.locator("#nav a[href='#/bots']").click();
    await page.locator("#bot-list tbody tr").first().locator("button", { hasText: "Auto-replies" }).click();
    await page.locator("#ar-form").waitFor();
    await page.locator("#ar-kind").selectOption("keyword");
    await page.locator("#ar-match").selectOption("contains");
    await page.locator("#ar-pattern").fill(cfg.keyword);
    await page.locator("#ar-text").fill(cfg.answer);
    await page.locator("#ar-form button[type=submit]").click();
    await page.locator("#ar-list tbody tr", { hasText: cfg.keyword }).waitFor();
    const rules = await page.locator("#ar-list tbody tr").allInnerTexts();
    await shot(page, "autoreplies");
    const asked = await (await fetch(`${cfg.tg}/sandbox/say`, { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: cfg.asker, text: cfg.question }) })).json();

    await page.locator("#nav a[href='#/inbox']").click();
    const conv = page.locator("#conv-list li[data-id]", { hasText: cfg.question });
    await conv.waitFor({ timeout: 30000 });
    await conv.locator("button.conv").click();
    const fired = page.locator("#timeline li.out[data-autoreply]");
    await fired.locator(".status[data-status='sent']").waitFor({ timeout: 30000 });
    const firing = await fired.innerText();

    await page.locator("#nav a[href='#/campaigns']").click();
    await page.locator("#campaign-form").waitFor();
    await page.locator(`input[name=c-bot][value='${cfg.bot}']`).check();
    await page.locator("#c-name").fill(cfg.campaign);
    await page.locator("#c-text").fill(cfg.broadcast);
    await page.locator("#campaign-form button[type=submit]").click();
    await page.locator("#cp-state[data-state=draft]").waitFor();
    await page.locator("#cp-preview-btn").click();
    await page.locator("#cp-count").waitFor();
    const previewed = Number(await page.locator("#cp-count").getAttribute("data-n"));
    await page.locator("button[data-action=start]").click();
    await page.locator("#cp-state[data-state=done]").waitFor({ timeout: 60000 });
    const counts = Object.fromEntries(await page.locator("#cp-counts dd").evaluateAll((els) => els.map((e) => [e.dataset.count, Number(e.textContent)])));
    await shot(page, "campaign");
    await region(page, "#campaign-list", "#cp-report", "report", 48); // docs/dashboard-campaign.png
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#cp-report").click()]);
    const report = readFileSync(await download.path(), "utf8");
    return {
      bots, daemons, rules, asked, firing, previewed, counts, report,
      reportName: download.suggestedFilename(),
      listed: await page.locator("#campaign-list tbody tr").allInnerTexts(),
      noReload: await page.evaluate(() => window.__noReload === true),
      ...problems,
    };
  },

  // a 375-px-wide phone: every page, no horizontal scroll
  async phone(page) {
    await login(page);
    const widths = {};
    for (const name of ["overview", "messages", "inbox", "keys", "bots", "analytics", "billing", "campaigns", "system"]) {
      await page.locator(`#nav a[href='#/${name}']`).click();
      await page.locator("main h1").waitFor();
      await page.waitForLoadState("networkidle").catch(() => {});
      await page.waitForTimeout(300);
      widths[name] = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      await shot(page, name);
    }
    return { widths };
  },
};

const viewport = scenario === "phone" ? { width: 375, height: 812 } : { width: 1280, height: 900 };
try {
  const result = await withBrowser(viewport, scenarios[scenario]);
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (e) {
  process.stderr.write(`${scenario}: ${e.stack || e}\n`);
  process.exit(1);
}
