-- post.lua - wrk script: POST /v1/messages with a Bearer key, spreading messages
-- over many chats so per-chat order does not serialize anything.
-- Environment: TGM_BENCH_KEY (the API key), TGM_BENCH_BOT (bot id; set and empty:
-- no bot_id, gatewayd chooses), TGM_BENCH_CHATS (chats 100000 + 0..N-1, default 5000),
-- TGM_BENCH_SPREAD (a file of lines "chat bot bot ...": each message names the next of
-- its chat's bots in turn, the spread gatewayd's choice makes, without the choice).
local key = os.getenv("TGM_BENCH_KEY") or ""
local bot = os.getenv("TGM_BENCH_BOT") or "1"
local chats = tonumber(os.getenv("TGM_BENCH_CHATS") or "5000")
local spread_file = os.getenv("TGM_BENCH_SPREAD") or ""
local bot_field = bot == "" and "" or (',"bot_id":' .. bot)
local n = 0
local spread, turn = nil, {}

if spread_file ~= "" then
   spread = {}
   for line in io.lines(spread_file) do
      local chat, bots = nil, {}
      for word in line:gmatch("%S+") do
         if chat == nil then chat = tonumber(word) else bots[#bots + 1] = word end
      end
      if chat and #bots > 0 then spread[chat] = bots end
   end
end

request = function()
   n = n + 1
   local chat = 100000 + n % chats
   local field = bot_field
   local bots = spread and spread[chat]
   if bots then
      turn[chat] = ((turn[chat] or 0) % #bots) + 1
      field = ',"bot_id":' .. bots[turn[chat]]
   end
   local body = string.format('{"chat_id":%d,"text":"bench message %d"%s}', chat, n, field)
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
