"""gatewayd's accept groups overlapping ([gatewayd] accept_connections above 1: the next
group inserts while the last one commits): every 202 only after its COMMIT, ids in the
order of acceptance for each caller, idempotency keys under concurrent duplicates, and
no 202 for a group whose connection was lost before its COMMIT.
"""

import threading
import time

import pytest

from api_helpers import World, msg, parallel


@pytest.fixture
def oworld(tgm_env):
    w = World(tgm_env, overrides={("gatewayd", "accept_connections"): 3,
                                ("gatewayd", "key_rate"): 100000, ("gatewayd", "key_burst"): 100000})
    try:
        yield w
    finally:
        w.close()


def test_overlapping_groups_keep_order_and_commit_first(oworld):
    api = oworld.api("acme")
    bot = api.new_bot()

    def sender(t):
        conn = oworld.env.connect()  # its own: read right when each 202 is read
        ids = []
        try:
            for i in range(8):
                r = api.send(msg(chat_id=777, bot_id=bot["id"], text=f"{t}-{i}"))
                assert r.status_code == 202, r.text
                mid = r.json()["id"]
                with conn.cursor() as cur:
                    cur.execute("SELECT params->>'text' FROM messages WHERE id = %s", (mid,))
                    assert cur.fetchall() == [(f"{t}-{i}",)], (t, i)
                conn.rollback()
                ids.append(mid)
        finally:
            conn.close()
        return ids

    for ids in parallel(12, sender):
        assert ids == sorted(ids)  # each caller's messages to the chat in its order
    assert oworld.query("SELECT count(*), count(DISTINCT id) FROM messages") == [(96, 96)]


def test_overlapping_groups_idempotency(oworld):
    api = oworld.api("acme")
    bot = api.new_bot()
    res = parallel(16, lambda i: api.send(msg(chat_id=5, bot_id=bot["id"], text="once"),
                                          headers={"Idempotency-Key": f"k{i % 4}"}))
    assert all(r.status_code == 202 for r in res), [r.text for r in res]
    by_key = {}
    for i, r in enumerate(res):
        by_key.setdefault(i % 4, set()).add(r.json()["id"])
    assert all(len(ids) == 1 for ids in by_key.values()), by_key
    assert oworld.query("SELECT count(*) FROM messages") == [(4,)]


def test_no_202_for_a_lost_group(oworld):
    """Accept connections are killed while requests flow: every 202 has its row."""
    api = oworld.api("acme")
    bot = api.new_bot()
    env = oworld.env
    stop = time.monotonic() + 4

    def sender(t):
        ok, codes = [], set()
        i = 0
        while time.monotonic() < stop:
            r = api.send(msg(chat_id=1000 + t, bot_id=bot["id"], text=f"{t}-{i}"))
            codes.add(r.status_code)
            if r.status_code == 202:
                ok.append(r.json()["id"])
            i += 1
        return ok, codes

    def killer():
        while time.monotonic() < stop:
            env.pg.query("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = %s AND application_name = 'gatewayd-accept'",
                         (env.db,))
            time.sleep(0.3)

    k = threading.Thread(target=killer)
    k.start()
    res = parallel(8, sender)
    k.join()
    accepted = [mid for ok, _ in res for mid in ok]
    assert accepted, "nothing was accepted"
    assert all(codes <= {202, 503} for _, codes in res), [c for _, c in res]
    have = {mid for (mid,) in oworld.query("SELECT id FROM messages WHERE id = ANY(%s)",
                                           (accepted,))}
    assert have == set(accepted)
    assert "database connection lost" in oworld.daemon.log()
