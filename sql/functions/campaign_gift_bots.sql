-- campaign_gift_bots.sql - what campaign_gift_params needs of each bot of p_bots, read
-- once for a campaign's start: {"<bot id>": {"language": ..., "texts": {"<lang>":
-- {"campaign_gift": ...}}}}, the bot's setting language and its own campaign_gift texts.
CREATE OR REPLACE FUNCTION campaign_gift_bots(p_bots bigint[])
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(b.id, jsonb_build_object(
               'language', b.settings->>'language',
               'texts', (SELECT jsonb_object_agg(t.key, jsonb_build_object(
                                    'campaign_gift', t.value->'campaign_gift'))
                           FROM jsonb_each(CASE WHEN jsonb_typeof(b.settings->'texts')
                                                     = 'object'
                                                THEN b.settings->'texts' ELSE '{}' END) t
                          WHERE jsonb_typeof(t.value) = 'object'
                            AND t.value ? 'campaign_gift'))),
           '{}')
      FROM bots b WHERE b.id = ANY (p_bots)
$$;
