-- inbox_record.sql - an update of a private chat in the inbox (webhookd/inbox.c calls it
-- for each update it processes): the conversation of (bot, chat) is made on first
-- contact (with a "joined" event) and its contact names kept; a message becomes an item
-- (text or caption, media kind, file_id and file_unique_id, the message it replies to)
-- that counts as unread and reopens a closed or snoozed conversation; an edit changes its item in
-- place; my_chat_member becomes a "blocked" or "unblocked" event. Processing the same
-- update again changes nothing. The conversation's id, or NULL when the update is
-- not of a private chat. A first contact's conversation is made with its message
-- already counted (one statement fewer and no second version of the new row).
CREATE OR REPLACE FUNCTION inbox_record(p_bot bigint, p_seq bigint, p_update jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    msg jsonb := coalesce(p_update->'message', p_update->'edited_message');
    member jsonb := p_update->'my_chat_member';
    chat jsonb := coalesce(msg->'chat', member->'chat');
    who jsonb := coalesce(msg->'from', member->'from');
    names text := concat_ws(' ', nullif(who->>'first_name', ''), nullif(who->>'last_name', ''),
                            '@' || nullif(who->>'username', ''));
    conv conversations%ROWTYPE;
    status text := member->'new_chat_member'->>'status';
    ev text;
    item bigint;
    fresh boolean := false; -- the conversation was made here, its message counted
BEGIN
    IF chat IS NULL OR chat->>'type' IS DISTINCT FROM 'private' OR (who->>'is_bot')::boolean
       OR (msg IS NULL AND member IS NULL) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO conv FROM conversations c
     WHERE c.bot_id = p_bot AND c.chat_id = (chat->>'id')::bigint;
    IF NOT FOUND THEN
        -- made with its first message counted: that message's item follows
        INSERT INTO conversations AS c (tenant_id, bot_id, chat_id, contact, unread,
                                        last_inbound_at, last_text)
        SELECT b.tenant_id, b.id, (chat->>'id')::bigint, names,
               CASE WHEN member IS NULL THEN 1 ELSE 0 END,
               CASE WHEN member IS NULL THEN now() END,
               CASE WHEN member IS NULL THEN left(coalesce(msg #>> '{text}', msg->>'caption'), 200) END
          FROM bots b WHERE b.id = p_bot
        ON CONFLICT (bot_id, chat_id) DO NOTHING
        RETURNING * INTO conv;
        fresh := FOUND;
        IF NOT fresh THEN
            SELECT * INTO conv FROM conversations c
             WHERE c.bot_id = p_bot AND c.chat_id = (chat->>'id')::bigint;
        END IF;
        INSERT INTO conversation_items (conversation_id, tenant_id, kind, update_seq, event)
        VALUES (conv.id, conv.tenant_id, 'event', p_seq, 'joined') ON CONFLICT DO NOTHING;
    ELSIF conv.contact IS DISTINCT FROM names THEN
        UPDATE conversations SET contact = names WHERE id = conv.id;
    END IF;
    IF member IS NOT NULL THEN
        ev := CASE WHEN status IN ('kicked', 'left') THEN 'blocked' ELSE 'unblocked' END;
        INSERT INTO conversation_items (conversation_id, tenant_id, kind, update_seq, event)
        VALUES (conv.id, conv.tenant_id, 'event', p_seq, ev) ON CONFLICT DO NOTHING
        RETURNING id INTO item;
        IF item IS NOT NULL THEN
            UPDATE conversations SET last_activity_at = now() WHERE id = conv.id;
        END IF;
        RETURN conv.id;
    END IF;
    IF p_update ? 'edited_message' THEN
        UPDATE conversation_items i
           SET text = coalesce(msg #>> '{text}', msg->>'caption'), edits = i.edits + 1,
               edit_seq = p_seq, edited_at = now()
         WHERE i.conversation_id = conv.id AND i.kind = 'message'
           AND i.telegram_message_id = (msg->>'message_id')::bigint
           AND (i.edit_seq IS NULL OR i.edit_seq < p_seq)
           AND coalesce(i.update_seq, 0) <> p_seq;
        IF FOUND OR EXISTS (SELECT 1 FROM conversation_items i WHERE i.conversation_id = conv.id
                            AND i.kind = 'message'
                            AND i.telegram_message_id = (msg->>'message_id')::bigint) THEN
            RETURN conv.id;
        END IF;
    END IF;
    INSERT INTO conversation_items (conversation_id, tenant_id, kind, update_seq,
                                    telegram_message_id, reply_to, text, media_kind, file_id,
                                    file_unique_id, edits, edit_seq, edited_at)
    SELECT conv.id, conv.tenant_id, 'message', p_seq, (msg->>'message_id')::bigint,
           (msg->'reply_to_message'->>'message_id')::bigint,
           coalesce(msg #>> '{text}', msg->>'caption'), m.kind,
           coalesce(msg->'photo'->-1->>'file_id', msg->m.kind->>'file_id'),
           coalesce(msg->'photo'->-1->>'file_unique_id', msg->m.kind->>'file_unique_id'),
           e.n, CASE WHEN e.n > 0 THEN p_seq END, CASE WHEN e.n > 0 THEN now() END
      FROM (SELECT (SELECT k FROM unnest(ARRAY['photo', 'video', 'animation', 'document',
                   'audio', 'voice', 'video_note', 'sticker', 'location', 'venue', 'contact',
                   'poll', 'dice']) k WHERE msg ? k LIMIT 1) AS kind) m,
           (SELECT CASE WHEN p_update ? 'edited_message' THEN 1 ELSE 0 END AS n) e
    ON CONFLICT (conversation_id, telegram_message_id) WHERE kind = 'message' DO NOTHING
    RETURNING id INTO item;
    IF item IS NOT NULL AND NOT fresh THEN
        UPDATE conversations c
           SET unread = c.unread + 1, last_activity_at = now(), last_inbound_at = now(),
               last_text = left(coalesce(msg #>> '{text}', msg->>'caption'), 200),
               state = CASE WHEN c.state IN ('closed', 'snoozed') THEN 'open' ELSE c.state END,
               snoozed_until = NULL
         WHERE c.id = conv.id;
    END IF;
    RETURN conv.id;
END $$;
