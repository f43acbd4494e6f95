-- wh_finish_many.sql - wh_finish for many updates in one statement (webhookd/group.c: the
-- updates of a processing connection done in one turn of its loop): update p_seqs[i], if
-- not processed yet, is marked with p_outcomes[i] (handed to billingd when p_billing[i])
-- and its replies p_replies->(i-1) (a JSON array as wh_finish's) are queued at high
-- priority, in the order given; an update already processed changes nothing. The messages
-- run through their counter triggers once for all. The replies queued, per bot.
--
-- The updates are found by their key alone (o), and whether each is processed is read
-- from the locked row, never asked of the table's scan: "processed_at IS NULL" lets the
-- planner use the partial indexes of unprocessed updates, and with statistics taken
-- while nothing was queued it believed them empty and hashed a scan of the whole
-- backlog for every call (20,000 rows read to finish 16: 0.1-0.15 s a call, most of
-- processing's time once a backlog was a few rounds old).
CREATE OR REPLACE FUNCTION wh_finish_many(p_seqs bigint[], p_outcomes text[],
                                          p_billing boolean[], p_replies jsonb)
RETURNS TABLE (bot_id bigint, queued bigint) LANGUAGE sql AS $$
    WITH x AS (SELECT x.seq, x.outcome, x.billing, p_replies->(x.i::int - 1) AS replies, x.i
                 FROM unnest(p_seqs, p_outcomes, p_billing) WITH ORDINALITY
                      AS x(seq, outcome, billing, i)),
         o AS MATERIALIZED (SELECT t.seq, t.processed_at FROM tg_updates t
                 WHERE t.seq = ANY (p_seqs) FOR UPDATE),
         u AS (UPDATE tg_updates t SET processed_at = now(), outcome = x.outcome,
                      claimed_until = NULL, billing_at = CASE WHEN x.billing THEN now() END
                 FROM x, o WHERE o.seq = x.seq AND o.processed_at IS NULL AND t.seq = o.seq
               RETURNING t.seq, t.bot_id, x.replies, x.i),
         m AS (INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority, metadata)
               SELECT b.tenant_id, b.id, r.r->>'chat', r.r->>'method', r.r->'params', 0::smallint,
                      jsonb_build_object('source', 'webhookd', 'update', u.seq)
                      || coalesce(r.r->'meta', '{}'::jsonb)
                 FROM u JOIN bots b ON b.id = u.bot_id,
                      jsonb_array_elements(coalesce(u.replies, '[]')) WITH ORDINALITY r(r, k)
                ORDER BY u.i, r.k
               RETURNING messages.bot_id)
    SELECT m.bot_id, count(*) FROM m GROUP BY m.bot_id
$$;
