-- bd_product_args.sql - a product as a notice's arguments: what billingd needs to name
-- it, price it and sell it (id, label, credits, pass_seconds, price, currency,
-- stars_price)
CREATE OR REPLACE FUNCTION bd_product_args(pr products) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', pr.id, 'label', pr.label, 'credits', pr.credits,
                              'pass_seconds', pr.pass_seconds, 'price', pr.price,
                              'currency', pr.currency, 'stars_price', pr.stars_price)
$$;
