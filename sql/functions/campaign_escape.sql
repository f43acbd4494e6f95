-- campaign_escape.sql - a user's value (a name) made safe to put in a text of the parse
-- mode: HTML's &, < and > as entities, a backslash before Markdown's and MarkdownV2's
-- special characters; as is without a parse mode.
CREATE OR REPLACE FUNCTION campaign_escape(p_value text, p_mode text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_mode
        WHEN 'HTML' THEN replace(replace(replace(p_value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
        WHEN 'MarkdownV2' THEN regexp_replace(p_value, '([_*\[\]()~`>#+\-=|{}.!\\])', '\\\1', 'g')
        WHEN 'Markdown' THEN regexp_replace(p_value, '([_*`\[])', '\\\1', 'g')
        ELSE p_value END
$$;
