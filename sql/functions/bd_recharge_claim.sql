-- bd_recharge_claim.sql - one pending recharge, leased for 60 s, with what billingd needs
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_recharge_claim(OUT id bigint, OUT bot bigint, OUT usr bigint,
                                  OUT product bigint, OUT price bigint, OUT currency text,
                                  OUT customer text, OUT payment_method text,
                                  OUT username text, OUT label text,
                                  OUT stripe_price text, OUT attempts integer)
LANGUAGE sql AS $$
    WITH c AS (SELECT r.id FROM recharges r WHERE r.status = 'pending'
                 AND (r.claimed_until IS NULL OR r.claimed_until < now())
               ORDER BY r.id LIMIT 1 FOR UPDATE SKIP LOCKED),
         u AS (UPDATE recharges r SET claimed_until = now() + interval '60 seconds',
                      attempts = r.attempts + 1
                 FROM c WHERE r.id = c.id RETURNING r.*)
    SELECT u.id, u.bot_id, u.user_id, p.id, p.price, p.currency, s.customer_id,
           s.payment_method, b.username, p.label, p.stripe_price_id, u.attempts
      FROM u JOIN products p ON p.id = u.product_id JOIN bots b ON b.id = u.bot_id
      LEFT JOIN stripe_customers s ON s.bot_id = u.bot_id AND s.user_id = u.user_id
$$;
