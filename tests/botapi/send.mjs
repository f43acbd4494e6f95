// send.mjs - grammY pointed at gatewayd (client.apiRoot) sends to one chat: a text, a
// photo uploaded with InputFile (the bytes of the file given), a media group of two
// uploaded photos, and a text the fake refuses; prints what came back as one JSON line.
// usage: node send.mjs <apiRoot> <token> <chat> <photo file> <refused text>
import { readFileSync } from "node:fs";
import { Bot, GrammyError, InputFile } from "grammy";

const [apiRoot, token, chat, photo, refused] = process.argv.slice(2);
const bot = new Bot(token, { client: { apiRoot } });
const bytes = readFileSync(photo);
const out = {};

out.text = await bot.api.sendMessage(chat, "hello from grammY");
out.photo = await bot.api.sendPhoto(chat, new InputFile(bytes, "photo.jpg"),
				    { caption: "a photo" });
out.group = await bot.api.sendMediaGroup(chat, [
	{ type: "photo", media: new InputFile(bytes, "one.jpg") },
	{ type: "photo", media: new InputFile(bytes, "two.jpg"), caption: "two" },
]);
try {
	await bot.api.sendMessage(chat, refused);
	out.refused = { ok: true };
} catch (e) {
	if (!(e instanceof GrammyError))
		throw e;
	out.refused = { ok: false, error_code: e.error_code, description: e.description };
}
console.log(JSON.stringify(out));
