"""proto_queue.py - a prototype for bench/pg_cg.sh: the open messages' state in a table of
its own, so that a claim's and a record's updates of a message are HOT (no index entries).

python3 bench/proto_queue.py DIR CLAIM_SQL RECORD_SQL
    writes DIR/schema.sql (the variant), DIR/claim.sql and DIR/record.sql (the statements
    to count instead of senderd's), made from senderd's statements as extracted by
    pg_cg.py (CLAIM_SQL, RECORD_SQL) and sql/functions/sd_due.sql as they are now:

- message_queue holds a row for each open message (id, bot, chat, priority, status,
  not_before), with the indexes the claim reads (messages_due, messages_chat_open,
  messages_sending and messages_later, the same definitions); a statement trigger on
  messages fills it at an insert;
- messages loses every index that names status, not_before or metadata (they stop an
  update from being HOT; the lists of failed messages would need a column of their own),
  and its partitions get fillfactor 50 (a HOT update needs room on its page); its BRIN
  index stays (created_at never changes, so it does not stop HOT);
- sd_due reads message_queue where it read messages; the claim also sets the queue
  row's status, and its next-due and held checks read the queue; the record deletes the
  queue row of a final message and updates it for a retry.

A prototype to count, not a design to ship: gatewayd's cancels, expiries, a bot's
deletion, campaigns and retention do not keep message_queue here.
"""
import re
import sys

SCHEMA = """
CREATE TABLE message_queue (id bigint PRIMARY KEY, bot_id bigint NOT NULL, chat text NOT NULL,
    priority smallint NOT NULL, status text NOT NULL, not_before timestamptz NOT NULL,
    created_at timestamptz NOT NULL);
CREATE INDEX message_queue_due ON message_queue (bot_id, priority, id)
    WHERE status IN ('queued', 'retrying');
CREATE INDEX message_queue_chat_open ON message_queue (bot_id, chat, priority, id);
CREATE INDEX message_queue_sending ON message_queue (bot_id) WHERE status = 'sending';
CREATE INDEX message_queue_later ON message_queue (bot_id, not_before)
    WHERE status IN ('queued', 'retrying') AND not_before > created_at;
CREATE FUNCTION message_queue_insert() RETURNS trigger LANGUAGE plpgsql AS $q$
BEGIN
    INSERT INTO message_queue SELECT n.id, n.bot_id, n.chat, n.priority, n.status,
        n.not_before, n.created_at FROM new_rows n WHERE n.status IN ('queued', 'retrying');
    RETURN NULL;
END $q$;
CREATE TRIGGER message_queue_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION message_queue_insert();
DROP INDEX messages_sending, messages_due, messages_later, messages_rare_tenant,
    messages_rare_bot, messages_chat_open, messages_bridge_failed;
DO $$ DECLARE r record; BEGIN
FOR r IN SELECT inhrelid::regclass AS c FROM pg_inherits WHERE inhparent = 'messages'::regclass
LOOP
    EXECUTE format('ALTER TABLE %s SET (fillfactor = 50)', r.c);
END LOOP; END $$;
"""

QUEUE_SENDING = " q AS (UPDATE message_queue q SET status = 'sending' FROM c WHERE q.id = c.id),"

QUEUE_DONE = (" dq AS (DELETE FROM message_queue q USING u WHERE q.id = u.id"
              " AND u.status IN ('sent', 'failed', 'expired', 'canceled')),"
              " rq AS (UPDATE message_queue q SET status = u.status, not_before = u.not_before"
              " FROM u WHERE q.id = u.id AND u.status IN ('queued', 'retrying')),")


def replace_once(text, old, new):
    """text with its one occurrence of old replaced, or exit naming what moved"""
    if text.count(old) != 1:
        sys.exit(f"proto_queue.py: {old!r} is not in the statement once: it changed")
    return text.replace(old, new)


def claim(text):
    update = " u AS (UPDATE messages m"
    text = replace_once(text, update, QUEUE_SENDING + update)
    return text.replace("FROM messages n WHERE", "FROM message_queue n WHERE")


def record(text):
    text = replace_once(text, " ev AS (INSERT INTO message_events",
                        QUEUE_DONE + " ev AS (INSERT INTO message_events")
    returning = "RETURNING m.id, m.status,"
    return replace_once(text, returning, returning + " m.not_before,")


def sd_due(text):
    body = text[text.index("CREATE OR REPLACE FUNCTION sd_due"):]
    body = re.sub(r"\bFROM messages\b", "FROM message_queue", body)
    return replace_once(body, "JOIN messages l", "JOIN message_queue l")


def main(out, claim_path, record_path):
    with open(f"{out}/schema.sql", "w") as f:
        f.write(SCHEMA + sd_due(open("sql/functions/sd_due.sql").read()))
    with open(f"{out}/claim.sql", "w") as f:
        f.write(claim(open(claim_path).read()))
    with open(f"{out}/record.sql", "w") as f:
        f.write(record(open(record_path).read()))


if len(sys.argv) == 4:
    main(*sys.argv[1:4])
else:
    sys.exit(__doc__)
