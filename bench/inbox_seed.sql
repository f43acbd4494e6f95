-- inbox_seed.sql - bench/inbox.sh's data: :nconv conversations over 10 bots of tenant
-- :'tenant' (each with its bot user and chat), :nitems inbound messages of five to
-- eight words spread over them and a week, and a tenth as many outbound messages.
-- All with generate_series; texts mix common words with a random token each.
CREATE TEMP TABLE w AS SELECT ARRAY['hello', 'parcel', 'refund', 'order', 'payment',
  'delivery', 'broken', 'thanks', 'please', 'where', 'when', 'account', 'password',
  'invoice', 'shipping', 'address', 'discount', 'coupon', 'subscription', 'cancel',
  'question', 'problem', 'support', 'manager', 'tomorrow', 'today', 'yesterday', 'money',
  'card', 'bank', 'transfer', 'status', 'tracking', 'number', 'help', 'urgent'] AS a;
INSERT INTO bots (tenant_id, telegram_id, username, token_sealed, token_hash)
SELECT t.id, 900000 + g, 'inboxbot' || g, 'v1.unused', decode(md5('inbox' || g), 'hex')
FROM tenants t, generate_series(1, 10) g WHERE t.name = :'tenant';
CREATE TEMP TABLE b AS SELECT id, tenant_id, row_number() OVER (ORDER BY id) - 1 AS k
FROM bots WHERE tenant_id = (SELECT id FROM tenants WHERE name = :'tenant');
INSERT INTO bot_users (bot_id, user_id, first_name, last_name, username)
SELECT b.id, 1000000 + g, 'Name' || (g % 5000), 'Family' || (g % 777), 'user' || g
FROM generate_series(1, :nconv) g JOIN b ON b.k = g % 10;
INSERT INTO chats (bot_id, chat_id) SELECT bot_id, user_id FROM bot_users
WHERE bot_id IN (SELECT id FROM b);
INSERT INTO conversations (tenant_id, bot_id, chat_id, contact, state, unread, pinned,
                           last_activity_at, last_inbound_at, last_text, created_at)
SELECT b.tenant_id, b.id, 1000000 + g,
       'Name' || (g % 5000) || ' Family' || (g % 777) || ' @user' || g,
       (ARRAY['open', 'open', 'pending', 'closed'])[1 + g % 4], g % 3, g % 97 = 0,
       now() - interval '7 days' * random(), now() - interval '7 days' * random(), 'hello',
       now() - interval '8 days'
FROM generate_series(1, :nconv) g JOIN b ON b.k = g % 10;
CREATE TEMP TABLE c AS SELECT id, tenant_id, bot_id, chat_id,
  row_number() OVER (ORDER BY id) - 1 AS k FROM conversations
WHERE tenant_id = (SELECT id FROM tenants WHERE name = :'tenant');
INSERT INTO conversation_items (conversation_id, tenant_id, kind, telegram_message_id, text, at)
SELECT c.id, c.tenant_id, 'message', g,
       array_to_string(ARRAY(SELECT w.a[1 + floor(random() * 36)::int]
                             FROM generate_series(1, 5 + g % 4) x WHERE x > 0 * g), ' ')
       || ' ' || substr(md5(g::text), 1, 8),
       now() - interval '7 days' * random()
FROM generate_series(1, :nitems) g, w JOIN c ON true WHERE c.k = g % :nconv;
INSERT INTO messages (tenant_id, bot_id, chat, params, priority, status, created_at)
SELECT c.tenant_id, c.bot_id, c.chat_id::text,
       jsonb_build_object('chat_id', c.chat_id, 'text', 'answer ' || g), 0, 'sent',
       now() - interval '7 days' * random()
FROM generate_series(1, :nitems / 10) g JOIN c ON c.k = g % :nconv;
