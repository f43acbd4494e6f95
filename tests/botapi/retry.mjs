// retry.mjs - grammY sends one text; on a 429 it waits the retry_after it was given
// (at most max_wait seconds) and sends again, as a bot would. Prints the error codes
// it met and the final result as one JSON line.
// usage: node retry.mjs <apiRoot> <token> <chat> <text> <max_wait>
import { Bot, GrammyError } from "grammy";

const [apiRoot, token, chat, text, maxWait] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
const met = [];

for (;;) {
	try {
		const result = await bot.api.sendMessage(chat, text);
		console.log(JSON.stringify({ met, result }));
		break;
	} catch (e) {
		if (!(e instanceof GrammyError) || e.error_code !== 429)
			throw e;
		met.push({ error_code: e.error_code, retry_after: e.parameters.retry_after });
		const s = Math.min(e.parameters.retry_after, +maxWait);
		await new Promise((ok) => setTimeout(ok, s * 1000));
	}
}
