"""The inbox's media previews, cached (issue 16): a user's file fetched once through
getFile is kept in PostgreSQL by its file_unique_id, so the next preview is answered
without a call to Telegram (the fake's own request log says so), still only to the
file's tenant and still sandboxed; a file over media_cache_file_max is streamed every
time and never kept; the cache holds at most media_cache_max bytes (the oldest go); an
item recorded without a file_unique_id learns it from getFile.

Real webhookd and gatewayd against the fake Telegram.
"""

import pytest

from api_helpers import problem
from conftest import wait_for
from fake_http import Reply
from test_inbox_api import Inbox
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import PUBLIC


class Cached(Inbox):
    def start(self, **gatewayd):
        settings = {("telegram", "api_url"): self.tg.url, ("telegram", "timeout"): "5",
                    ("webhookd", "public_url"): PUBLIC}
        for k, v in gatewayd.items():
            settings[("gatewayd", k)] = str(v)
        conf = self.env.write_config(settings, name="inbox-media.conf")
        self.env.conf = conf
        self.webhookd_proc = self.env.daemon("webhookd", conf=conf)
        self.env.daemon("gatewayd", conf=conf)
        self.base = self.env.http()
        return self


@pytest.fixture
def w(tgm_env, tg):
    return Cached(tgm_env, tg)


def photo(w, bot, api, file_id, unique_id, data, path):
    """a photo of the user with its file at the fake; the conversation and item ids"""
    size = {"file_id": file_id, "width": 9, "height": 9}
    if unique_id:
        size["file_unique_id"] = unique_id
    w.say(bot, None, photo=[size])
    if not hasattr(w, "files"):
        w.files = {}
        w.tg.rule("getFile", lambda call: w.files[call.request.query["file_id"][0]],
                  method="getFile")
    w.files[file_id] = Reply.tg_ok({"file_id": file_id, "file_unique_id": unique_id or
                                    f"u-{file_id}", "file_size": len(data),
                                    "file_path": path})
    w.tg.add_file(bot.token, path, data)
    cid = w.conv(api, bot)["id"]
    items = api.get(f"/v1/conversations/{cid}/timeline").json()["items"]
    return cid, next(i for i in items if i.get("media_kind") == "photo")["id"]


def get_files(w, bot):
    return len(w.tg.calls(token=bot.token, method="getFile"))


def downloads(w, bot):
    return len(w.tg.http.requests_for(f"/file/bot{bot.token}/*"))


def test_a_file_is_fetched_from_telegram_once_then_from_the_cache(w):
    w.start()
    api = w.key()
    bot = w.new_bot()
    data = bytes(range(256)) * 16
    cid, item = photo(w, bot, api, "AgAD-1", "uniq-1", data, "photos/file_1.jpg")
    url = f"/v1/conversations/{cid}/items/{item}/media"
    first = api.get(url)
    assert first.status_code == 200 and first.content == data, first.text
    assert (get_files(w, bot), downloads(w, bot)) == (1, 1)
    wait_for(lambda: w.query("SELECT size FROM media_cache WHERE file_unique_id = 'uniq-1'")
             == [(len(data),)], 10, what="the file kept")
    again = api.get(url)
    assert again.status_code == 200 and again.content == data
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert "sandbox" in again.headers["Content-Security-Policy"]
    assert again.headers["X-Content-Type-Options"] == "nosniff"
    assert (get_files(w, bot), downloads(w, bot)) == (1, 1)  # Telegram not asked again
    # the cache is behind the tenant check
    problem(w.key("globex").get(url), 404, "media_not_found")
    # Telegram down: the cached file still answers
    w.tg.clear_rules()
    w.tg.rule("gone", Reply.tg_error(400, "Bad Request: wrong file_id"), method="getFile")
    assert api.get(url).content == data


def test_a_big_file_is_streamed_each_time_and_the_cache_keeps_its_cap(w):
    w.start(media_cache_file_max=3000, media_cache_max=5000)
    api = w.key()
    bot = w.new_bot()
    big = b"B" * 4000
    cid, item = photo(w, bot, api, "AgAD-big", "uniq-big", big, "photos/big.jpg")
    for n in (1, 2):
        assert api.get(f"/v1/conversations/{cid}/items/{item}/media").content == big
        assert get_files(w, bot) == n
    assert w.query("SELECT count(*) FROM media_cache")[0][0] == 0
    # two files of 2000 fit; the third pushes out the oldest
    kept = []
    for k in (1, 2, 3):
        data = bytes([k]) * 2000
        cid, item = photo(w, bot, api, f"AgAD-{k}", f"uniq-{k}", data, f"photos/{k}.jpg")
        assert api.get(f"/v1/conversations/{cid}/items/{item}/media").content == data
        kept.append(f"uniq-{k}")
        wait_for(lambda: w.query("SELECT 1 FROM media_cache WHERE file_unique_id = %s",
                                 (kept[-1],)), 10, what="the file kept")
    assert [r[0] for r in w.query("SELECT file_unique_id FROM media_cache ORDER BY 1")] == [
        "uniq-2", "uniq-3"]
    assert w.query("SELECT sum(size) FROM media_cache")[0][0] <= 5000


def test_an_item_without_a_unique_id_learns_it_from_getfile(w):
    w.start()
    api = w.key()
    bot = w.new_bot()
    data = b"old file"
    cid, item = photo(w, bot, api, "AgAD-old", None, data, "photos/old.jpg")
    assert w.one("SELECT file_unique_id FROM conversation_items WHERE id = %s",
                 (item,))[0] is None
    url = f"/v1/conversations/{cid}/items/{item}/media"
    assert api.get(url).content == data
    wait_for(lambda: w.one("SELECT file_unique_id FROM conversation_items WHERE id = %s",
                           (item,))[0] == "u-AgAD-old", 10, what="the unique id written")
    assert api.get(url).content == data
    assert get_files(w, bot) == 1
