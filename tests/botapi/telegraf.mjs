// telegraf.mjs - Telegraf pointed at gatewayd (telegram.apiRoot) sends a text and a
// photo uploaded from a buffer to one chat; prints both results as one JSON line.
// usage: node telegraf.mjs <apiRoot> <token> <chat> <photo file>
import { readFileSync } from "node:fs";
import { Telegraf, Input } from "telegraf";

const [apiRoot, token, chat, photo] = process.argv.slice(2);
const bot = new Telegraf(token, { telegram: { apiRoot } });
const text = await bot.telegram.sendMessage(chat, "hello from Telegraf");
const pic = await bot.telegram.sendPhoto(chat, Input.fromBuffer(readFileSync(photo), "t.jpg"),
					 { caption: "telegraf photo" });
console.log(JSON.stringify({ text, photo: pic }));
