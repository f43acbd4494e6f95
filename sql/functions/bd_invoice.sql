-- bd_invoice.sql - queue a Stars invoice (sendInvoice in XTR) for a product
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_invoice(p_bot bigint, p_user bigint, pr products) RETURNS bigint
LANGUAGE sql AS $$
    SELECT queue_message(p_bot, p_user::text, 'sendInvoice', jsonb_build_object(
        'chat_id', p_user, 'title', left(pr.label, 32),
        'description', left(bd_what(pr.credits, pr.pass_seconds), 255),
        'payload', format('tgm:%s:%s', pr.id, p_user), 'provider_token', '',
        'currency', 'XTR',
        'prices', jsonb_build_array(jsonb_build_object('label', left(pr.label, 32),
                                                       'amount', pr.stars_price))),
        0::smallint, '{"source": "billingd"}'::jsonb)
$$;
