// webhook.mjs - grammY's webhookCallback on a small node http server; the bot sets
// that server as its webhook through gatewayd (client.apiRoot) with a secret_token,
// prints {"url": ...} and then one JSON line for each message it receives; after
// <count> messages it exits.
// usage: node webhook.mjs <apiRoot> <token> <secret> <count>
import http from "node:http";
import { Bot, webhookCallback } from "grammy";

const [apiRoot, token, secretToken, count] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
let seen = 0;
bot.on("message", (ctx) => {
	console.log(JSON.stringify({ update_id: ctx.update.update_id, text: ctx.message.text }));
	if (++seen >= Number(count))
		setTimeout(() => process.exit(0), 100);
});
const server = http.createServer(webhookCallback(bot, "http", { secretToken }));
server.listen(0, "127.0.0.1", async () => {
	const url = `http://127.0.0.1:${server.address().port}/hook`;
	await bot.api.setWebhook(url, { secret_token: secretToken });
	console.log(JSON.stringify({ url }));
});
