-- 047_tg_updates_todo.sql - webhookd's claim (webhookd/process.c) takes the oldest
-- unprocessed updates from tg_updates_todo (seq) and checks each one's chat for an older
-- unprocessed update in tg_updates_pending (bot_id, chat_id, seq). Both indexes had the
-- same predicate, so the check could be planned on either; when the statistics were taken
-- with nothing queued (the usual state) and a backlog then came, the planner chose todo
-- for the check and walked the whole backlog for every update claimed: a claim of 64 took
-- 0.5-1 s with 20,000 queued instead of about 2 ms. todo's predicate now also says "no
-- outcome yet" (an outcome is only written with processed_at, as the new check constraint
-- keeps), so it indexes the same rows: the claim states it, the chat check does not, and
-- only pending can serve the check. (Not a NOT NULL column's IS NOT NULL: PostgreSQL 17
-- drops such a condition from a query, and the index would no longer match the claim.)
-- Reads the table twice (the constraint, the index): stop webhookd first.
ALTER TABLE tg_updates ADD CONSTRAINT tg_updates_outcome_processed
    CHECK (outcome IS NULL OR processed_at IS NOT NULL);
DROP INDEX tg_updates_todo;
CREATE INDEX tg_updates_todo ON tg_updates (seq) WHERE processed_at IS NULL AND outcome IS NULL;
