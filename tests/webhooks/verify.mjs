// tests/webhooks/verify.mjs - check delivery callbacks with the standardwebhooks package
// (the Standard Webhooks reference library, not tgm's code).
//
// Reads one JSON object per line on stdin: {"secret": "whsec_...", "headers": {...},
// "body": "..."}; prints one line per input: {"ok": true, "payload": ...} or
// {"ok": false, "error": "..."}.
import { Webhook } from 'standardwebhooks';
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { secret, headers, body } = JSON.parse(line);
  try {
    const payload = new Webhook(secret.replace(/^whsec_/, '')).verify(body, headers);
    console.log(JSON.stringify({ ok: true, payload }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e.message || e) }));
  }
}
