// loop.mjs - a plain grammY loop, without throttler or auto-retry: n sendMessage calls
// to n chats (first, first + 1, ...; all to first with "same") all started at once;
// prints how many succeeded, how many met a 429 (and other errors) and how long the
// whole took, as one JSON line.
// usage: node loop.mjs <apiRoot> <token> <n> <first chat> [text prefix] [same]
import { Bot, GrammyError } from "grammy";

const [apiRoot, token, n, first, prefix = "loop", same] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
const out = { ok: 0, flood: 0, other: 0, errors: [] };
const t0 = performance.now();

await Promise.all(Array.from({ length: +n }, async (_, i) => {
	try {
		await bot.api.sendMessage(same === "same" ? +first : +first + i, `${prefix} ${i}`);
		out.ok++;
	} catch (e) {
		if (!(e instanceof GrammyError))
			throw e;
		if (e.error_code === 429)
			out.flood++;
		else
			out.other++;
		if (out.errors.length < 5)
			out.errors.push(`${e.error_code} ${e.description}`);
	}
}));
out.seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify(out));
