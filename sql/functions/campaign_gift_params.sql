-- campaign_gift_params.sql - a campaign's params as sent to one recipient: a gift's
-- catalog text (gatewayd/campaignbody.c keeps it in every language of the catalog under
-- tgm_texts) in the language the recipient is spoken to in, as common/text.c picks it:
-- their Telegram language_code (p_lang, its primary subtag), else the bot's setting
-- language, else English, the bot's own campaign_gift text (settings.texts) first at
-- each step (a choice among texts made in C or by the owner: no words are made here);
-- p_bot is the bot's settings (or campaign_gift_bots' part of them). tgm_texts itself
-- is never sent. Params without it are as they are.
CREATE OR REPLACE FUNCTION campaign_gift_params(p_params jsonb, p_lang text, p_bot jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_params ? 'tgm_texts'
                THEN jsonb_set(p_params - 'tgm_texts', '{text}', to_jsonb(coalesce(
                     p_bot->'texts'->lower(split_part(p_lang, '-', 1))->>'campaign_gift',
                     p_params->'tgm_texts'->>lower(split_part(p_lang, '-', 1)),
                     p_bot->'texts'->(p_bot->>'language')->>'campaign_gift',
                     p_params->'tgm_texts'->>(p_bot->>'language'),
                     p_bot->'texts'->'en'->>'campaign_gift', p_params->'tgm_texts'->>'en')))
                ELSE p_params END
$$;
