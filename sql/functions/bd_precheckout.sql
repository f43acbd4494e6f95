-- bd_precheckout.sql - is a Stars pre-checkout query for something still on sale at that
-- price? (billingd words the error when not)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_precheckout(p_seq bigint, OUT query_id text, OUT ok boolean)
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    q jsonb;
    part text[];
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    q := u.payload->'pre_checkout_query';
    query_id := q->>'id';
    part := string_to_array(coalesce(q->>'invoice_payload', ''), ':');
    IF part[1] = 'tgm' AND part[2] ~ '^[0-9]{1,18}$' THEN
        SELECT * INTO pr FROM bd_product(u.bot, 'id:' || part[2]);
    END IF;
    ok := pr.id IS NOT NULL AND q->>'currency' = 'XTR'
          AND (q->>'total_amount')::bigint = pr.stars_price;
END $$;
