-- post.lua - wrk script: POST /v1/messages with a Bearer key, spreading messages
-- over many chats so per-chat order does not serialize anything.
-- Environment: TGM_BENCH_KEY (the API key), TGM_BENCH_BOT (bot id; set and empty:
-- no bot_id, gatewayd chooses), TGM_BENCH_CHATS (chats 100000 + 0..N-1, default 5000).
local key = os.getenv("TGM_BENCH_KEY") or ""
local bot = os.getenv("TGM_BENCH_BOT") or "1"
local chats = tonumber(os.getenv("TGM_BENCH_CHATS") or "5000")
local bot_field = bot == "" and "" or (',"bot_id":' .. bot)
local n = 0

request = function()
   n = n + 1
   local body = string.format('{"chat_id":%d,"text":"bench message %d"%s}',
                              100000 + n % chats, n, bot_field)
   return wrk.format("POST", "/v1/messages", {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
   }, body)
end

done = function(summary, latency, requests)
   local non2xx = summary.errors.status
   io.write(string.format("BENCH requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      non2xx + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
