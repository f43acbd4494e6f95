-- intake.lua - wrk script: POST /telegram/<bot> with one /start Update per request, each
-- from a new user (so each opens its own chat: per-chat order serializes nothing).
-- Environment: TGM_BENCH_SECRET (the bot's webhook secret_token), TGM_BENCH_BOT (bot id),
-- TGM_BENCH_ROUND (1, 2, ...: each round's ids are new, so no round replays another's updates
-- as cheap duplicates).
local secret = os.getenv("TGM_BENCH_SECRET") or ""
local bot = os.getenv("TGM_BENCH_BOT") or "1"
local n = 0
local threads = 0
local round = tonumber(os.getenv("TGM_BENCH_ROUND") or "1")
base = 0 -- each thread's own range of ids, set by setup

setup = function(thread)
   threads = threads + 1
   thread:set("base", ((round - 1) * 8 + threads) * 10000000)
end

request = function()
   n = n + 1
   local id = base + n
   local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":1,' ..
      '"from":{"id":%d,"is_bot":false,"first_name":"Bench"},' ..
      '"chat":{"id":%d,"type":"private","first_name":"Bench"},"text":"/start"}}',
      id, id, id, id)
   return wrk.format("POST", "/telegram/" .. bot, {
      ["X-Telegram-Bot-Api-Secret-Token"] = secret,
      ["Content-Type"] = "application/json",
   }, body)
end

done = function(summary, latency, requests)
   local bad = summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout
   io.write(string.format("BENCH requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
