// getme.mjs - grammY pointed at gatewayd (client.apiRoot) calls getMe with the token
// given, and prints the result or the GrammyError's error_code and description as JSON.
// usage: node getme.mjs <apiRoot> <token>
import { Bot, GrammyError } from "grammy";

const [apiRoot, token] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
try {
	const me = await bot.api.getMe();
	console.log(JSON.stringify({ ok: true, result: me }));
} catch (e) {
	if (!(e instanceof GrammyError))
		throw e;
	console.log(JSON.stringify({ ok: false, error_code: e.error_code,
				     description: e.description }));
}
