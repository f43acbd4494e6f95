-- wh_finish_many.sql - wh_finish for many updates in one statement (webhookd/group.c: the
-- updates of a processing connection done in one turn of its loop): update p_seqs[i], if
-- not processed yet, is marked with p_outcomes[i] (handed to billingd when p_billing[i])
-- and its replies p_replies->(i-1) (a JSON array as wh_finish's) are queued at high
-- priority, in the order given; an update already processed changes nothing. The messages
-- run through their counter triggers once for all. The replies queued, per bot.
CREATE OR REPLACE FUNCTION wh_finish_many(p_seqs bigint[], p_outcomes text[],
                                          p_billing boolean[], p_replies jsonb)
RETURNS TABLE (bot_id bigint, queued bigint) LANGUAGE sql AS $$
    WITH x AS (SELECT x.seq, x.outcome, x.billing, p_replies->(x.i::int - 1) AS replies, x.i
                 FROM unnest(p_seqs, p_outcomes, p_billing) WITH ORDINALITY
                      AS x(seq, outcome, billing, i)),
         u AS (UPDATE tg_updates t SET processed_at = now(), outcome = x.outcome,
                      claimed_until = NULL, billing_at = CASE WHEN x.billing THEN now() END
                 FROM x WHERE t.seq = x.seq AND t.processed_at IS NULL
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
