-- wh_record.sql - what an update tells about its chat and user: the chat is recorded (a
-- message from it clears its blocked mark; my_chat_member sets or clears it; a group
-- that moved to a supergroup keeps a pointer to its new id), and a user writing in a
-- private chat, pressing a button there or paying is recorded with its names (and when it
-- was seen before, prev_seen_at; came_back marks a user who unblocked the bot, for the
-- welcome back of onboard.c). Returns the
-- user (NULL when none) as it is now. p_count: count a message in bot_users.messages
-- (false when the update is processed again).
-- (first created by 006_webhookd.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION wh_record(p_bot bigint, p_update jsonb, p_count boolean DEFAULT true)
RETURNS TABLE (user_id bigint, new_user boolean, credits bigint, pass_active boolean,
               banned boolean)
LANGUAGE plpgsql AS $$
DECLARE
    msg jsonb := coalesce(p_update->'message', p_update->'edited_message',
                          p_update->'channel_post', p_update->'callback_query'->'message');
    member jsonb := p_update->'my_chat_member';
    chat jsonb := coalesce(msg->'chat', member->'chat');
    who jsonb := coalesce(p_update->'message'->'from', p_update->'edited_message'->'from',
                          p_update->'callback_query'->'from', member->'from',
                          p_update->'pre_checkout_query'->'from');
    v_chat bigint := (chat->>'id')::bigint;
    status text := member->'new_chat_member'->>'status';
    inserted boolean;
    v_user bigint;
    v_credits bigint;
    v_pass boolean;
    v_banned boolean;
BEGIN
    IF v_chat IS NOT NULL AND chat->>'type' IN ('private', 'group', 'supergroup', 'channel')
    THEN
        INSERT INTO chats AS c (bot_id, chat_id, type, title, username)
        VALUES (p_bot, v_chat, chat->>'type', chat->>'title', chat->>'username')
        ON CONFLICT (bot_id, chat_id) DO UPDATE
           SET type = EXCLUDED.type, title = EXCLUDED.title, username = EXCLUDED.username,
               last_seen_at = now();
        IF member IS NOT NULL AND status IN ('kicked', 'left') THEN
            UPDATE chats c SET blocked_at = now(),
                   blocked_reason = CASE WHEN chat->>'type' = 'private'
                       THEN 'Forbidden: bot was blocked by the user'
                       ELSE 'Forbidden: bot was removed from the chat' END
             WHERE c.bot_id = p_bot AND c.chat_id = v_chat;
        ELSIF member IS NOT NULL OR p_update ? 'message' THEN
            UPDATE chats c SET blocked_at = NULL, blocked_reason = NULL
             WHERE c.bot_id = p_bot AND c.chat_id = v_chat
               AND c.blocked_at IS NOT NULL;
            IF FOUND AND chat->>'type' = 'private' THEN -- a user back after blocking the bot
                UPDATE bot_users u SET came_back = true
                 WHERE u.bot_id = p_bot AND u.user_id = v_chat;
            END IF;
        END IF;
        IF msg ? 'migrate_to_chat_id' THEN
            UPDATE chats c SET migrated_to = (msg->>'migrate_to_chat_id')::bigint
             WHERE c.bot_id = p_bot AND c.chat_id = v_chat;
        END IF;
    END IF;
    IF who IS NULL OR (who->>'is_bot')::boolean
       OR (chat IS NOT NULL AND chat->>'type' <> 'private') THEN
        RETURN;
    END IF;
    INSERT INTO bot_users AS u (bot_id, user_id, first_name, last_name, username,
                                language_code, messages)
    VALUES (p_bot, (who->>'id')::bigint, coalesce(who->>'first_name', ''),
            who->>'last_name', who->>'username', who->>'language_code',
            CASE WHEN p_count AND p_update ? 'message' THEN 1 ELSE 0 END)
    ON CONFLICT ON CONSTRAINT bot_users_pkey DO UPDATE
       SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
           username = EXCLUDED.username, language_code = EXCLUDED.language_code,
           prev_seen_at = u.last_seen_at, last_seen_at = now(),
           messages = u.messages + CASE WHEN p_count AND p_update ? 'message' THEN 1 ELSE 0 END
    RETURNING u.user_id, (xmax = 0), u.credits, coalesce(u.pass_until > now(), false),
              u.banned_at IS NOT NULL
         INTO v_user, inserted, v_credits, v_pass, v_banned;
    RETURN QUERY SELECT v_user, inserted, v_credits, v_pass, v_banned;
END $$;
