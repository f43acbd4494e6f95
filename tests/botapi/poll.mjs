// poll.mjs - grammY pointed at gatewayd (client.apiRoot) runs bot.start(), which long
// polls getUpdates; the first message it receives is printed as JSON and the bot stops
// (confirming it). Prints {"started":true} once polling has begun.
// usage: node poll.mjs <apiRoot> <token>
import { Bot } from "grammy";

const [apiRoot, token] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
bot.on("message", async (ctx) => {
	console.log(JSON.stringify({ update_id: ctx.update.update_id, text: ctx.message.text }));
	setTimeout(() => bot.stop(), 0);
});
bot.catch((e) => {
	console.error(e);
	process.exit(1);
});
await bot.start({
	timeout: 30,
	onStart: () => console.log(JSON.stringify({ started: true })),
});
