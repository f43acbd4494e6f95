-- campaign_json.sql - a campaign as the API shows it; with p_progress, its progress read
-- from its recipients' messages (or the outcome kept on the recipient once its message
-- was pruned: campaign_freeze.sql): how many are queued (held ones too), sending, sent,
-- failed (and of those, blocked: their chat is marked blocked now; and the ten most
-- frequent errors), expired and canceled, and the gifts granted. A running campaign
-- shows as scheduled before its start_at and as done once none of its messages is open.
CREATE OR REPLACE FUNCTION campaign_json(c campaigns, p_progress boolean)
RETURNS json LANGUAGE sql STABLE AS $$
    WITH m AS (SELECT coalesce(m.status, r.status) AS status,
                      coalesce(m.last_error, r.last_error) AS last_error, m.not_before,
                      coalesce(m.sent_at, r.sent_at) AS sent_at, m.updated_at,
                      h.blocked_at IS NOT NULL AS blocked, r.ledger_id
                 FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id
                 LEFT JOIN chats h ON h.bot_id = r.bot_id AND h.chat_id = r.user_id
                WHERE p_progress AND r.campaign_id = c.id
                  AND (m.id IS NOT NULL OR r.status IS NOT NULL)),
         p AS (SELECT count(*) FILTER (WHERE status IN ('queued', 'retrying')) AS queued,
                      count(*) FILTER (WHERE status = 'queued'
                                       AND not_before >= '9999-12-31 00:00+00') AS held,
                      count(*) FILTER (WHERE status = 'sending') AS sending,
                      count(*) FILTER (WHERE status = 'sent') AS sent,
                      count(*) FILTER (WHERE status = 'failed') AS failed,
                      count(*) FILTER (WHERE status = 'failed' AND blocked) AS blocked,
                      count(*) FILTER (WHERE status = 'expired') AS expired,
                      count(*) FILTER (WHERE status = 'canceled') AS canceled,
                      count(ledger_id) AS gifted,
                      max(coalesce(sent_at, updated_at)) AS last_at FROM m),
         f AS (SELECT coalesce(last_error, '') AS reason, count(*) AS n FROM m
                WHERE status = 'failed' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10)
    SELECT json_build_object('id', c.id, 'name', c.name, 'bot_ids', c.bot_ids,
        'audience', c.audience, 'message', c.message, 'gift', c.gift,
        'start_at', c.start_at,
        'state', CASE WHEN c.state <> 'running' OR NOT p_progress THEN c.state
                      WHEN p.queued + p.sending = 0 THEN 'done'
                      WHEN c.start_at > now() THEN 'scheduled' ELSE c.state END,
        'retry_of', c.retry_of, 'recipients', c.recipients, 'created_at', c.created_at,
        'started_at', c.started_at, 'paused_at', c.paused_at, 'canceled_at', c.canceled_at,
        'finished_at', CASE WHEN c.state = 'running' AND p.queued + p.sending = 0
                            THEN p.last_at END,
        'progress', CASE WHEN p_progress THEN json_build_object('queued', p.queued,
            'held', p.held, 'sending', p.sending, 'sent', p.sent, 'failed', p.failed,
            'blocked', p.blocked, 'expired', p.expired, 'canceled', p.canceled,
            'gifted', p.gifted, 'failed_by_reason', (SELECT coalesce(json_agg(
                json_build_object('reason', f.reason, 'count', f.n) ORDER BY f.n DESC,
                f.reason), '[]') FROM f)) END)
      FROM p
$$;
