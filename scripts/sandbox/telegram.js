// scripts/sandbox/telegram.js - the sandbox's Telegram: telegram-test-api (npm) with what
// tgm calls and it lacks, plus two endpoints for a person trying tgm by hand.
//
// Usage: node scripts/sandbox/telegram.js PORT   (from the repository; needs tests/node_modules)
//
// Added to the Bot API side (/bot<token>/<method>):
//   getUpdates        waits up to `timeout` seconds for an update, as Telegram does (the
//                     emulator answers at once, which would make webhookd poll in a loop);
//   createForumTopic  a topic id per call;
//   other setters     (setMyCommands, ...) answer true; an unknown method answers 404 the
//                     way Telegram does, not the emulator's HTML-less 500.
// For people:
//   POST /sandbox/say   {"user_id":42,"text":"/start"}: user 42 writes to the sandbox bot;
//                       the answer is the bot's replies within `wait` seconds (default 30);
//   GET  /sandbox/chat/<chat_id>: what the bots sent to that chat, oldest first, each as
//                       {message_id, text, buttons: [{text, url|callback_data}]}; with
//                       ?wait_for=TEXT, once a message holding that text is there (30 s at
//                       most: a text edited in the banner's first command still matches).
'use strict';
const path = require('path');
const TelegramServer = require(path.join(__dirname, '../../tests/node_modules/telegram-test-api'));

const port = Number(process.argv[2] || process.env.PORT || 8090);
const server = new TelegramServer({ host: '127.0.0.1', port, storeTimeout: 24 * 3600 });
const app = server.webServer;
let topicId = 1000;
let token = process.env.TGM_SANDBOX_TOKEN || '';

const OK_TRUE = new Set(['setmycommands', 'deletemycommands', 'setmydescription',
  'setmyshortdescription', 'setchatmenubutton', 'answerprecheckoutquery', 'sendchataction',
  'closeforumtopic', 'reopenforumtopic', 'editforumtopic', 'setmessagereaction']);

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function params(req) { return Object.assign({}, req.query, req.body); }

// getUpdates: long poll, as Telegram does
async function getUpdates(req, res) {
  const p = params(req);
  const until = Date.now() + Math.min(Number(p.timeout || 0), 50) * 1000;
  let got = server.getUpdates(req.params.token);
  while (got.length === 0 && Date.now() < until) {
    await sleep(100);
    got = server.getUpdates(req.params.token);
  }
  res.json({ ok: true, result: got });
}

// the added methods, then a Telegram-shaped answer for the unknown ones
function extra(req, res, next) {
  const method = req.params.method.toLowerCase();
  if (method === 'getupdates') return void getUpdates(req, res);
  if (method === 'createforumtopic') {
    const p = params(req);
    return void res.json({ ok: true, result: { message_thread_id: ++topicId, name: p.name, icon_color: 7322096 } });
  }
  if (OK_TRUE.has(method)) return void res.json({ ok: true, result: true });
  return next();
}

function known(req, res, next) {
  const known = ['getme', 'sendmessage', 'setwebhook', 'deletewebhook', 'editmessagetext',
    'editmessagereplymarkup', 'deletemessage', 'answercallbackquery'];
  if (known.includes(req.params.method.toLowerCase())) return next();
  res.status(404).json({ ok: false, error_code: 404, description: 'Not Found: method not found' });
}

// what the bots sent to one chat
function chat(chatId) {
  return server.storage.botMessages
    .filter((m) => String(m.message.chat_id) === String(chatId))
    .map((m) => {
      const shown = { message_id: m.messageId, text: m.message.text };
      const b = buttons(m.message.reply_markup);
      if (b.length) shown.buttons = b;
      return shown;
    });
}

// the inline buttons of a message, flat: [{text, url}] or [{text, callback_data}]
function buttons(markup) {
  let m = markup;
  if (typeof m === 'string') {
    try { m = JSON.parse(m); } catch (e) { return []; }
  }
  return ((m && m.inline_keyboard) || []).flat().map((k) => {
    const { text, url, callback_data: data } = k;
    return url ? { text, url } : { text, callback_data: data };
  });
}

// GET /sandbox/chat/<id>[?wait_for=TEXT]: the chat, once a message holds TEXT (30 s at most)
async function showChat(req, res) {
  const want = req.query.wait_for;
  const until = Date.now() + 30000;
  while (want && !chat(req.params.id).some((m) => (m.text || '').includes(want)) && Date.now() < until) {
    await sleep(100);
  }
  res.json(chat(req.params.id));
}

// POST /sandbox/say: a user writes to the bot; answer with the bot's replies
async function say(req, res) {
  const p = params(req);
  const user = Number(p.user_id || 42);
  const text = String(p.text || '/start');
  if (!token) return void res.status(409).json({ error: 'no sandbox bot yet' });
  const before = chat(user).length;
  const message = {
    botToken: token, text, date: Math.floor(Date.now() / 1000),
    from: { id: user, is_bot: false, first_name: 'Sandbox', username: `user${user}` },
    chat: { id: user, type: 'private', first_name: 'Sandbox' },
  };
  if (text.startsWith('/')) {
    message.entities = [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0].length }];
  }
  await server.addUserMessage(message);
  const until = Date.now() + Math.min(Number(p.wait || 30), 60) * 1000;
  while (chat(user).length === before && Date.now() < until) await sleep(100);
  await sleep(300); // a reply may come in a few messages
  res.json({ you_wrote: text, bot_replied: chat(user).slice(before) });
}

app.post('/sandbox/token', (req, res) => { token = String(params(req).token || ''); res.json({ ok: true }); });
app.post('/sandbox/say', (req, res) => { say(req, res).catch((e) => res.status(500).json({ error: String(e) })); });
app.get('/sandbox/chat/:id', (req, res) => { showChat(req, res).catch((e) => res.status(500).json({ error: String(e) })); });
app.all('/bot:token/:method', extra, known);

// Our routes go before the emulator's own (registered in its constructor).
const stack = app._router.stack;
const ours = stack.splice(stack.length - 4, 4);
const first = stack.findIndex((l) => l.route);
stack.splice(first, 0, ...ours);

server.start().then(() => console.log(`sandbox Telegram listening on http://127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.stop().then(() => process.exit(0)));
