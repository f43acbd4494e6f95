import time, json
from api_helpers import *

def test_probe(world, api):
    t=time.monotonic()
    bot = api.new_bot()
    print("bot", bot)
    r = api.send(msg(bot_id=bot["id"]))
    print(r.status_code, r.headers, r.text)
    for st in ["2026-+1-+1T+1:+2:+3Z", "2026-01-01T00:00:00+-1:00", "2026- 1- 1T 1: 2: 3Z"]:
        r = api.send(msg(bot_id=bot["id"], send_at=st))
        print(st, r.status_code, r.text)
    r = api.get("/v1/stats", params={"from": "2026-+1-+1T+1:+2:+3Z"})
    print(r.status_code, r.text)
    r = api.post("/v1/messages", data="x"*2000000, headers={"Content-Type":"application/json"})
    print(r.status_code, r.headers, r.text[:300])
    r = api.post("/v1/messages", body=msg(), headers={"Content-Type":"text/plain"})
    print(r.status_code, r.headers, r.text[:300])
    print(world.daemon.log()[-3000:])
