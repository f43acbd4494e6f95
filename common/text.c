/*
 * text.c - the catalog of texts bots send to people (see text.h): one table of
 * entries, each a name, a language, the bot setting that overrides it (if any) and
 * the text. English and Russian are complete (a unit test checks every entry has
 * both); a bot's own texts (settings.texts) and the language chosen for a user come
 * first (docs/texts.md).
 */
#include "common/text.h"
#include "common/json.h"
#include "common/log.h"
#include "common/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct entry {
	const char *name, *lang, *setting, *text;
};

static const struct entry entries[] = {
	/* /start, /help, /balance (webhookd/commands.c) */
	{ "welcome", "en", "welcome", TGM_TEXT_WELCOME },
	{ "free_credits", "en", NULL, "You got {credits}." },
	{ "free_credits_one", "en", NULL, "{n} free credit" },
	{ "free_credits_other", "en", NULL, "{n} free credits" },
	{ "button_products", "en", NULL, "See products" },
	{ "help", "en", "help", "Commands:" },
	{ "unknown_command", "en", NULL, "Unknown command." },
	{ "help_start", "en", NULL, "start over" },
	{ "help_help", "en", NULL, "this list" },
	{ "help_balance", "en", NULL, "your credits and time pass" },
	{ "help_buy", "en", NULL, "buy credits or a time pass (/buy10 buys 10 credits)" },
	{ "help_billing", "en", NULL, "your payment details" },
	{ "help_history", "en", NULL, "your last purchases and spending" },
	{ "help_autorecharge", "en", NULL,
	  "top up automatically: /autorecharge on <credits> <below>, off" },
	{ "balance", "en", NULL, "Credits: {credits}" },
	{ "balance_bar", "en", NULL, "Credits: {credits}/{full} [{bar}] {percent}%" },
	{ "balance_pass", "en", NULL, "Time pass: active until {until}" },
	{ "balance_low_hint", "en", NULL, "⚠️ Your balance is low: /buy to top up." },
	/* charging user messages (webhookd/relay.c) */
	{ "low_balance", "en", NULL,
	  "⚠️ Your balance is low: {credits} left. /buy to top up." },
	{ "no_credit", "en", "no_credit_text", TGM_TEXT_NO_CREDIT },
	{ "button_buy", "en", NULL, "Buy credits" },
	{ "gift_received", "en", NULL, "🎁 You received a gift. Balance: {credits}." },
	/* onboarding (webhookd/onboard.c): the tutorial offered on the first /start, a
	 * returning user's welcome */
	{ "tutorial_offer", "en", NULL, "Want a short tour? Three steps, and {bonus} at the end." },
	{ "tutorial_offer_plain", "en", NULL, "Want a short tour? Three steps." },
	{ "button_tutorial", "en", NULL, "Show me around" },
	{ "button_tutorial_skip", "en", NULL, "No, thanks" },
	{ "tutorial_1", "en", NULL,
	  "1/3 · Write here: every message goes to our team, and the"
	  " answer comes back in this chat." },
	{ "tutorial_2", "en", NULL,
	  "2/3 · /balance shows your credits. A message may cost credits,"
	  " unless you have a time pass." },
	{ "tutorial_3", "en", NULL,
	  "3/3 · /buy tops you up, by card or with Telegram Stars. /help"
	  " lists every command." },
	{ "button_next", "en", NULL, "Next ▶️" },
	{ "button_finish", "en", NULL, "Finish ✅" },
	{ "tutorial_done", "en", NULL, "🎉 That's all! You got {credits}." },
	{ "tutorial_done_plain", "en", NULL, "🎉 That's all! Write whenever you like." },
	{ "tutorial_skipped", "en", NULL, "OK! /help lists the commands." },
	{ "welcome_return", "en", NULL, "👋 Welcome back, {first_name}! Your balance: {credits}." },
	{ "balance_after", "en", NULL, "Charged {cost}. Balance: {credits}." },
	/* the admin group's topics (webhookd/topic.c, admin.c, repair.c) */
	{ "gift_sent", "en", NULL, "🎁 Gift sent. Balance: {credits}." },
	{ "gift_failed", "en", NULL, "The gift failed." },
	{ "gift_how", "en", NULL, "Write /gift N in the topic to gift N credits." },
	{ "no_such_user", "en", NULL, "No such user." },
	{ "user_banned", "en", NULL, "🚫 User banned: their messages are no longer relayed." },
	{ "user_unbanned", "en", NULL, "✅ User unbanned." },
	{ "admin_help", "en", NULL,
	  "Admin commands: /info, /ban, /unban, /gift N, /close, /reopen" },
	{ "topic_not_users", "en", NULL, "This topic is not this user's." },
	/* who may act as an admin (webhookd/role.c, docs/admins.md) */
	{ "not_allowed", "en", NULL, "Not allowed" },
	{ "role_refused", "en", NULL,
	  "⛔ Not allowed: this needs the {role} role for this bot. Its owner adds admins with"
	  " /admins or in the dashboard." },
	/* /admins, the owner's (webhookd/admins.c) */
	{ "admins_list", "en", NULL, "Admins of this bot (Telegram user id, role):" },
	{ "admins_none", "en", NULL, "This bot has no admins yet." },
	{ "admins_usage", "en", NULL,
	  "/admins - this list\n/admins add <user_id> <owner|admin|agent> - add an admin or change"
	  " their role\n/admins remove <user_id> - remove an admin" },
	{ "admins_bad_role", "en", NULL, "Unknown role: use owner, admin or agent." },
	{ "admins_added", "en", NULL, "✅ {user_id} is now {role} of this bot." },
	{ "admins_removed", "en", NULL, "✅ {user_id} is no longer an admin of this bot." },
	{ "admins_not_admin", "en", NULL, "{user_id} is not an admin of this bot." },
	{ "admins_last_owner", "en", NULL,
	  "The bot keeps at least one owner: make someone else owner first." },
	/* the admin menu (webhookd/menu*.c, docs/admin-centre.md) */
	{ "menu_title", "en", NULL, "🛠 Admin centre of @{bot}. Choose a category." },
	{ "menu_conversations", "en", NULL, "💬 Conversations" },
	{ "menu_dashboard", "en", NULL, "📊 Dashboard" },
	{ "menu_analytics", "en", NULL, "📈 Analytics" },
	{ "menu_users", "en", NULL, "👥 Users" },
	{ "menu_products", "en", NULL, "🛒 Products" },
	{ "menu_billing", "en", NULL, "💳 Billing" },
	{ "menu_broadcast", "en", NULL, "📣 Broadcast" },
	{ "menu_gift", "en", NULL, "🎁 Mass gift" },
	{ "menu_settings", "en", NULL, "⚙️ Settings" },
	{ "menu_system", "en", NULL, "🖥 System" },
	{ "menu_quick", "en", NULL, "⚡ Quick replies" },
	{ "menu_search", "en", NULL, "🔍 Search" },
	{ "menu_back", "en", NULL, "« Back" },
	{ "menu_prev", "en", NULL, "‹ Prev" },
	{ "menu_next", "en", NULL, "Next ›" },
	{ "menu_refresh", "en", NULL, "🔄 Refresh" },
	{ "menu_none", "en", NULL, "none" },
	{ "menu_on", "en", NULL, "on" },
	{ "menu_off", "en", NULL, "off" },
	{ "menu_saved", "en", NULL, "Saved" },
	{ "menu_nothing", "en", NULL, "Nothing here: it is gone, or not this bot's." },
	{ "menu_stale", "en", NULL, "This button is out of date: send /admin again." },
	{ "menu_users_title", "en", NULL, "👥 Users, last seen first. Pick one, or search." },
	{ "menu_users_none", "en", NULL, "👥 No users found." },
	{ "menu_users_ask", "en", NULL,
	  "🔍 Reply to this message with a name, @username or user id to search for." },
	{ "menu_user_card", "en", NULL,
	  "👤 {name} @{username}\nID: {id}\nBalance: {credits}\nSpent: {spent}\nPaid: {paid}\n"
	  "Messages: {messages}\nLast seen: {seen} UTC{banned}" },
	{ "menu_user_banned", "en", NULL, "\n🚫 Banned" },
	{ "menu_gift_one", "en", NULL, "🎁 Gift" },
	{ "menu_take", "en", NULL, "➖ Take back" },
	{ "menu_ban", "en", NULL, "🚫 Ban" },
	{ "menu_unban", "en", NULL, "✅ Unban" },
	{ "menu_banned", "en", NULL, "Banned" },
	{ "menu_unbanned", "en", NULL, "Unbanned" },
	{ "menu_gift_ask", "en", NULL,
	  "🎁 Reply to this message with the number of credits to give." },
	{ "menu_take_ask", "en", NULL,
	  "➖ Reply to this message with the number of credits to take back." },
	{ "menu_gift_done", "en", NULL, "🎁 Gift sent." },
	{ "menu_take_done", "en", NULL, "➖ Credits taken back." },
	{ "menu_take_refused", "en", NULL,
	  "⚠️ The user has fewer credits than that: nothing taken." },
	{ "menu_billing_title", "en", NULL,
	  "💳 Revenue, net of refunds\nToday: {day}\nThis week: {week}\nThis month: {month}\n\n"
	  "Payments, newest first:" },
	{ "menu_failed_title", "en", NULL, "💳 Failed and expired payments, newest first:" },
	{ "menu_payments_failed", "en", NULL, "⚠️ Failed" },
	{ "menu_payment_card", "en", NULL,
	  "💳 Payment #{id} ({kind}): {status}\n{name}: {product}\nAmount: {amount}, {credits}"
	  " credits\nRefunded: {refunded}\nAt: {at} UTC\n{failure}" },
	{ "menu_refund_confirm", "en", NULL,
	  "↩️ Refund payment #{id} of {name}: {amount} back, and {credits} credits taken back"
	  " (what is spent is owed)?" },
	{ "menu_refund", "en", NULL, "↩️ Refund" },
	{ "menu_refund_yes", "en", NULL, "↩️ Yes, refund" },
	{ "menu_payment_user", "en", NULL, "👤 The user" },
	{ "menu_refund_done", "en", NULL, "Refunded" },
	{ "menu_refund_already", "en", NULL, "Already refunded" },
	{ "menu_refund_failed", "en", NULL, "The refund was refused: nothing changed" },
	{ "menu_dashboard_text", "en", NULL,
	  "📊 Dashboard\nNew users: {new_today} today, {new_week} this week\n"
	  "Active users: {active_day} today, {active_week} this week ({users} in all)\n"
	  "Revenue: {revenue_today} today, {revenue_week} this week, {revenue_month} this month\n"
	  "Queue: {queued} messages; {health}" },
	{ "menu_healthy", "en", NULL, "✅ healthy" },
	{ "menu_unhealthy", "en", NULL, "⚠️ no sender holds the bot, or it failed lately" },
	{ "menu_system_title", "en", NULL, "🖥 System\nDaemons:" },
	{ "menu_daemon_up", "en", NULL, "✅ {name} on {host}: seen {ago} s ago" },
	{ "menu_daemon_down", "en", NULL, "❌ {name} on {host}: silent for {ago} s" },
	{ "menu_daemons_none", "en", NULL, "none has run" },
	{ "menu_system_text", "en", NULL,
	  "\nQueue: {queued} messages; {waiting} updates waiting\nLast error: {error}\n"
	  "Last WAL archive: {backup}" },
	{ "menu_backup_none", "en", NULL, "not configured" },
	{ "menu_settings_title", "en", NULL, "⚙️ Settings. Press one to change it." },
	{ "menu_setting_ask", "en", NULL,
	  "⚙️ {key} is now: {value}\nReply to this message with its new value." },
	{ "menu_analytics_text", "en", NULL,
	  "📈 Analytics\nNew users: {new_week} in 7 days, {new_month} in 30 days ({users} in all)\n"
	  "Messages received: {messages}\nRevenue in 30 days: {revenue_month}\n"
	  "Conversations: {open} open, {closed} closed, {unread} unread messages" },
	{ "menu_csv", "en", NULL, "📄 CSV, 30 days" },
	{ "menu_csv_sent", "en", NULL, "📄 CSV sent." },
	{ "menu_broadcasts_title", "en", NULL, "📣 Broadcasts, newest first (state, recipients):" },
	{ "menu_gifts_title", "en", NULL,
	  "🎁 Mass gifts, newest first (state, recipients, credits each):" },
	{ "menu_broadcast_new", "en", NULL, "✏️ New broadcast" },
	{ "menu_gift_new", "en", NULL, "🎁 New mass gift" },
	{ "menu_broadcast_ask", "en", NULL,
	  "📣 Reply to this message with the broadcast's text ({first_name} is each user's name)." },
	{ "menu_gift_ask_all", "en", NULL,
	  "🎁 Reply to this message with the credits each user gets and the message telling them,"
	  " as \"5 Thank you for being with us!\"" },
	{ "menu_campaign_draft", "en", NULL,
	  "📣 Draft #{id} (a gift of {gift} credits each when not 0):\n\n{text}\n\n"
	  "Choose the audience; it reaches {reach} users now." },
	{ "menu_campaign_card", "en", NULL,
	  "📣 Campaign #{id}: {state}, {recipients} recipients (a gift of {gift} credits each when"
	  " not 0)\n\n{text}\n\nSent: {sent}, waiting: {waiting}, failed: {failed}" },
	{ "menu_audience_all", "en", NULL, "Everyone" },
	{ "menu_audience_active", "en", NULL, "Active 7 days" },
	{ "menu_audience_paid", "en", NULL, "Paying" },
	{ "menu_send", "en", NULL, "🚀 Send" },
	{ "menu_campaign_sent", "en", NULL, "Sent" },
	{ "menu_campaign_started", "en", NULL, "Already started" },
	{ "menu_conversations_title", "en", NULL, "💬 Open conversations, unread first:" },
	{ "menu_conversations_none", "en", NULL, "💬 No open conversations." },
	{ "menu_conversation_line", "en", NULL,
	  "• {who}: {unread} unread, waiting {minutes} min; answered in {answer} min on average" },
	{ "menu_conversation_new", "en", NULL,
	  "• {who}: {unread} unread, waiting {minutes} min; not answered yet" },
	{ "menu_quick_title", "en", NULL, "⚡ Quick replies (uses). Press one to delete it." },
	{ "menu_quick_none", "en", NULL, "⚡ No quick replies yet." },
	{ "menu_quick_add", "en", NULL, "➕ Add" },
	{ "menu_quick_ask", "en", NULL,
	  "⚡ Reply to this message with the new quick reply as \"title: text\"." },
	{ "menu_products_title", "en", NULL, "🛒 Products (price, credits, sales):" },
	{ "menu_products_none", "en", NULL, "🛒 No products yet." },
	{ "menu_product_new", "en", NULL, "➕ New product" },
	{ "menu_product_ask", "en", NULL,
	  "🛒 Reply to this message with the new product as \"label price credits\", the price in"
	  " cents (\"Starter 500 10\")." },
	{ "menu_product_price", "en", NULL, "💲 Price" },
	{ "menu_product_credits", "en", NULL, "🪙 Credits" },
	{ "menu_product_bad", "en", NULL, "⚠️ Not a valid value." },
	{ "menu_price_ask", "en", NULL, "💲 Reply to this message with the new price in cents." },
	{ "menu_credits_ask", "en", NULL,
	  "🪙 Reply to this message with the new number of credits." },
	{ "menu_activate", "en", NULL, "▶️ Activate" },
	{ "menu_deactivate", "en", NULL, "⏸ Deactivate" },
	{ "menu_search_title", "en", NULL, "🔍 Search for:" },
	{ "menu_search_payments", "en", NULL,
	  "🔍 Reply to this message with a payment id or a user id." },
	{ "menu_search_messages", "en", NULL,
	  "🔍 Reply to this message with words from a user's last message." },
	{ "menu_found", "en", NULL, "🔍 Found:" },
	{ "menu_found_none", "en", NULL, "🔍 Nothing found." },
	/* the admin menu in Russian (webhookd/menu*.c) */
	{ "menu_title", "ru", NULL,
	  "🛠 Центр управления @{bot}. Выберите раздел." },
	{ "menu_conversations", "ru", NULL, "💬 Диалоги" },
	{ "menu_dashboard", "ru", NULL, "📊 Сводка" },
	{ "menu_analytics", "ru", NULL, "📈 Аналитика" },
	{ "menu_users", "ru", NULL, "👥 Пользователи" },
	{ "menu_products", "ru", NULL, "🛒 Товары" },
	{ "menu_billing", "ru", NULL, "💳 Платежи" },
	{ "menu_broadcast", "ru", NULL, "📣 Рассылка" },
	{ "menu_gift", "ru", NULL, "🎁 Массовый подарок" },
	{ "menu_settings", "ru", NULL, "⚙️ Настройки" },
	{ "menu_system", "ru", NULL, "🖥 Система" },
	{ "menu_quick", "ru", NULL, "⚡ Быстрые ответы" },
	{ "menu_search", "ru", NULL, "🔍 Поиск" },
	{ "menu_back", "ru", NULL, "« Назад" },
	{ "menu_prev", "ru", NULL, "‹ Назад" },
	{ "menu_next", "ru", NULL, "Далее ›" },
	{ "menu_refresh", "ru", NULL, "🔄 Обновить" },
	{ "menu_none", "ru", NULL, "нет" },
	{ "menu_on", "ru", NULL, "вкл" },
	{ "menu_off", "ru", NULL, "выкл" },
	{ "menu_saved", "ru", NULL, "Сохранено" },
	{ "menu_nothing", "ru", NULL,
	  "Здесь ничего нет: объект удалён или принадлежит "
	  "другому боту." },
	{ "menu_stale", "ru", NULL, "Эта кнопка устарела: отправьте /admin ещё раз." },
	{ "menu_users_title", "ru", NULL,
	  "👥 Пользователи, недавние первыми. Выберите "
	  "одного или найдите." },
	{ "menu_users_none", "ru", NULL, "👥 Пользователи не найдены." },
	{ "menu_users_ask", "ru", NULL,
	  "🔍 Ответьте на это сообщение именем, @username или id "
	  "пользователя." },
	{ "menu_user_card", "ru", NULL,
	  "👤 {name} @{username}\nID: {id}\nБаланс: {credits}\nПотрачено: "
	  "{spent}\nОплачено: {paid}\nСообщений: {messages}\nБыл в сети: "
	  "{seen} UTC{banned}" },
	{ "menu_user_banned", "ru", NULL, "\n🚫 Заблокирован" },
	{ "menu_gift_one", "ru", NULL, "🎁 Подарить" },
	{ "menu_take", "ru", NULL, "➖ Списать" },
	{ "menu_ban", "ru", NULL, "🚫 Заблокировать" },
	{ "menu_unban", "ru", NULL, "✅ Разблокировать" },
	{ "menu_banned", "ru", NULL, "Заблокирован" },
	{ "menu_unbanned", "ru", NULL, "Разблокирован" },
	{ "menu_gift_ask", "ru", NULL,
	  "🎁 Ответьте на это сообщение числом кредитов в "
	  "подарок." },
	{ "menu_take_ask", "ru", NULL,
	  "➖ Ответьте на это сообщение числом кредитов для "
	  "списания." },
	{ "menu_gift_done", "ru", NULL, "🎁 Подарок отправлен." },
	{ "menu_take_done", "ru", NULL, "➖ Кредиты списаны." },
	{ "menu_take_refused", "ru", NULL,
	  "⚠️ У пользователя меньше кредитов: ничего не "
	  "списано." },
	{ "menu_billing_title", "ru", NULL,
	  "💳 Выручка за вычетом возвратов\nСегодня: {day}\nЗа "
	  "неделю: {week}\nЗа месяц: {month}\n\nПлатежи, новые первыми:" },
	{ "menu_failed_title", "ru", NULL, "💳 Неудачные и истёкшие платежи, новые первыми:" },
	{ "menu_payments_failed", "ru", NULL, "⚠️ Неудачные" },
	{ "menu_payment_card", "ru", NULL,
	  "💳 Платёж #{id} ({kind}): {status}\n{name}: {product}\nСумма: {amount}, "
	  "кредитов: {credits}\nВозвращено: {refunded}\nВремя: {at} "
	  "UTC\n{failure}" },
	{ "menu_refund_confirm", "ru", NULL,
	  "↩️ Вернуть платёж #{id} ({name}): {amount} обратно и "
	  "списать кредиты: {credits} (потраченное станет долгом)?" },
	{ "menu_refund", "ru", NULL, "↩️ Вернуть деньги" },
	{ "menu_refund_yes", "ru", NULL, "↩️ Да, вернуть" },
	{ "menu_payment_user", "ru", NULL, "👤 Пользователь" },
	{ "menu_refund_done", "ru", NULL, "Деньги возвращены" },
	{ "menu_refund_already", "ru", NULL, "Уже возвращено" },
	{ "menu_refund_failed", "ru", NULL, "Возврат отклонён: ничего не изменилось" },
	{ "menu_dashboard_text", "ru", NULL,
	  "📊 Сводка\nНовые пользователи: {new_today} сегодня, "
	  "{new_week} за неделю\nАктивные: {active_day} сегодня, {active_week} "
	  "за неделю (всего {users})\nВыручка: {revenue_today} сегодня, "
	  "{revenue_week} за неделю, {revenue_month} за месяц\nОчередь: {queued} "
	  "сообщений; {health}" },
	{ "menu_healthy", "ru", NULL, "✅ всё в порядке" },
	{ "menu_unhealthy", "ru", NULL,
	  "⚠️ бота никто не отправляет, или недавно были "
	  "ошибки" },
	{ "menu_system_title", "ru", NULL, "🖥 Система\nСлужбы:" },
	{ "menu_daemon_up", "ru", NULL, "✅ {name} на {host}: отзывался {ago} с назад" },
	{ "menu_daemon_down", "ru", NULL, "❌ {name} на {host}: молчит {ago} с" },
	{ "menu_daemons_none", "ru", NULL, "ни одна не запускалась" },
	{ "menu_system_text", "ru", NULL,
	  "\nОчередь: {queued} сообщений; ждут обработки: "
	  "{waiting}\nПоследняя ошибка: {error}\nПоследний архив WAL: "
	  "{backup}" },
	{ "menu_backup_none", "ru", NULL, "не настроен" },
	{ "menu_settings_title", "ru", NULL,
	  "⚙️ Настройки. Нажмите, чтобы изменить." },
	{ "menu_setting_ask", "ru", NULL,
	  "⚙️ {key} сейчас: {value}\nОтветьте на это сообщение "
	  "новым значением." },
	{ "menu_analytics_text", "ru", NULL,
	  "📈 Аналитика\nНовые пользователи: {new_week} за 7 дней, "
	  "{new_month} за 30 дней (всего {users})\nПолучено сообщений: "
	  "{messages}\nВыручка за 30 дней: {revenue_month}\nДиалоги: "
	  "открыто {open}, закрыто {closed}, непрочитанных "
	  "сообщений {unread}" },
	{ "menu_csv", "ru", NULL, "📄 CSV за 30 дней" },
	{ "menu_csv_sent", "ru", NULL, "📄 CSV отправлен." },
	{ "menu_broadcasts_title", "ru", NULL,
	  "📣 Рассылки, новые первыми (состояние, получатели):" },
	{ "menu_gifts_title", "ru", NULL,
	  "🎁 Массовые подарки, новые первыми (состояние, "
	  "получатели, кредитов каждому):" },
	{ "menu_broadcast_new", "ru", NULL, "✏️ Новая рассылка" },
	{ "menu_gift_new", "ru", NULL, "🎁 Новый подарок" },
	{ "menu_broadcast_ask", "ru", NULL,
	  "📣 Ответьте на это сообщение текстом рассылки "
	  "({first_name} — имя пользователя)." },
	{ "menu_gift_ask_all", "ru", NULL,
	  "🎁 Ответьте на это сообщение числом кредитов "
	  "каждому и текстом для пользователей, например \"5 "
	  "Спасибо, что вы с нами!\"" },
	{ "menu_campaign_draft", "ru", NULL,
	  "📣 Черновик #{id} (подарок {gift} кредитов каждому, "
	  "если не 0):\n\n{text}\n\nВыберите аудиторию; сейчас она "
	  "охватывает пользователей: {reach}." },
	{ "menu_campaign_card", "ru", NULL,
	  "📣 Кампания #{id}: {state}, получателей: {recipients} (подарок "
	  "{gift} кредитов каждому, если не 0)\n\n{text}\n\nОтправлено: "
	  "{sent}, ждут: {waiting}, не доставлено: {failed}" },
	{ "menu_audience_all", "ru", NULL, "Все" },
	{ "menu_audience_active", "ru", NULL, "Активные 7 дней" },
	{ "menu_audience_paid", "ru", NULL, "Платившие" },
	{ "menu_send", "ru", NULL, "🚀 Отправить" },
	{ "menu_campaign_sent", "ru", NULL, "Отправлено" },
	{ "menu_campaign_started", "ru", NULL, "Уже запущена" },
	{ "menu_conversations_title", "ru", NULL, "💬 Открытые диалоги, непрочитанные первыми:" },
	{ "menu_conversations_none", "ru", NULL, "💬 Открытых диалогов нет." },
	{ "menu_conversation_line", "ru", NULL,
	  "• {who}: непрочитанных {unread}, ждёт {minutes} мин;"
	  " ответ в среднем за {answer} мин" },
	{ "menu_conversation_new", "ru", NULL,
	  "• {who}: непрочитанных {unread}, ждёт {minutes} мин;"
	  " ответа ещё не было" },
	{ "menu_quick_title", "ru", NULL,
	  "⚡ Быстрые ответы (использований). Нажмите, чтобы "
	  "удалить." },
	{ "menu_quick_none", "ru", NULL, "⚡ Быстрых ответов пока нет." },
	{ "menu_quick_add", "ru", NULL, "➕ Добавить" },
	{ "menu_quick_ask", "ru", NULL,
	  "⚡ Ответьте на это сообщение новым быстрым "
	  "ответом в виде \"название: текст\"." },
	{ "menu_products_title", "ru", NULL,
	  "🛒 Товары (цена, кредиты, продажи):" },
	{ "menu_products_none", "ru", NULL, "🛒 Товаров пока нет." },
	{ "menu_product_new", "ru", NULL, "➕ Новый товар" },
	{ "menu_product_ask", "ru", NULL,
	  "🛒 Ответьте на это сообщение новым товаром в виде "
	  "\"название цена кредиты\", цена в центах (\"Starter 500 10\")." },
	{ "menu_product_price", "ru", NULL, "💲 Цена" },
	{ "menu_product_credits", "ru", NULL, "🪙 Кредиты" },
	{ "menu_product_bad", "ru", NULL, "⚠️ Недопустимое значение." },
	{ "menu_price_ask", "ru", NULL, "💲 Ответьте на это сообщение новой ценой в центах." },
	{ "menu_credits_ask", "ru", NULL,
	  "🪙 Ответьте на это сообщение новым числом "
	  "кредитов." },
	{ "menu_activate", "ru", NULL, "▶️ Включить" },
	{ "menu_deactivate", "ru", NULL, "⏸ Выключить" },
	{ "menu_search_title", "ru", NULL, "🔍 Что искать:" },
	{ "menu_search_payments", "ru", NULL,
	  "🔍 Ответьте на это сообщение id платежа или id "
	  "пользователя." },
	{ "menu_search_messages", "ru", NULL,
	  "🔍 Ответьте на это сообщение словами из "
	  "последнего сообщения пользователя." },
	{ "menu_found", "ru", NULL, "🔍 Найдено:" },
	{ "menu_found_none", "ru", NULL, "🔍 Ничего не найдено." },
	/* end of the admin menu's texts */
	{ "not_delivered", "en", NULL, "⚠️ Not delivered: the user blocked the bot." },
	{ "user_blocked", "en", NULL, "⚠️ The user blocked the bot." },
	{ "user_unblocked", "en", NULL, "✅ The user unblocked the bot." },
	/* the info card of a user's topic (webhookd/topic.c) and the tiers (docs/tiers.md) */
	{ "card", "en", NULL,
	  "👤 {name}\nID: {id}\nCredits: {credits}\nPays with: {plan}\n"
	  "Tier: {tier}\nMessages: {messages}\nFirst seen: {first_seen}{banned}" },
	{ "card_plan_pass", "en", NULL, "time pass until {until}" },
	{ "card_plan_credits", "en", NULL, "credits" },
	{ "card_banned", "en", NULL, "\n🚫 Banned" },
	{ "button_info", "en", NULL, "Info" },
	{ "button_gift", "en", NULL, "Gift" },
	{ "button_ban", "en", NULL, "Ban" },
	{ "tier_new", "en", NULL, "New" },
	{ "tier_regular", "en", NULL, "Regular" },
	{ "tier_vip", "en", NULL, "VIP" },
	/* an agent's reply from the inbox, copied into the user's topic (gatewayd/inboxreply.c) */
	{ "inbox_reply_topic", "en", NULL, "💬 {agent} (inbox):\n{text}" },
	{ "inbox_file_topic", "en", NULL, "💬 {agent} (inbox)" },
	{ "inbox_api_agent", "en", NULL, "API" },
	/* flood protection (webhookd/autoreply.c) */
	{ "flood_admin", "en", NULL,
	  "⚠️ {first_name} (#{user_id}) writes more than {rate} messages a minute: their"
	  " messages are stored but neither relayed nor answered until they slow down." },
	/* billingd's own answers (billingd/checkout.c, tgjob.c) */
	{ "portal_unavailable", "en", NULL,
	  "The billing portal is unavailable right now. Please try later." },
	{ "card_unavailable", "en", NULL,
	  "Card payment is unavailable right now. Please try later." },
	{ "no_such_package", "en", NULL, "There is no such package: /buy lists what is for sale." },
	{ "cards_not_set_up", "en", NULL, "Card payments are not set up yet." },
	{ "billing_failed", "en", NULL, "Sorry, that did not work. Please try again later." },
	/* billingd's notices (billingd/render.c): counts have a _one and an _other form */
	{ "credits_one", "en", NULL, "{n} credit" },
	{ "credits_other", "en", NULL, "{n} credits" },
	{ "pass_days_one", "en", NULL, "{n} day of unlimited access" },
	{ "pass_days_other", "en", NULL, "{n} days of unlimited access" },
	{ "pass_hours_one", "en", NULL, "{n} hour of unlimited access" },
	{ "pass_hours_other", "en", NULL, "{n} hours of unlimited access" },
	{ "what_both", "en", NULL, "{credits} + {pass}" },
	{ "button_pay", "en", NULL, "Pay {price}" },
	{ "paid", "en", NULL, "✅ Payment received: {what}.\nYour balance: {balance}." },
	{ "paid_pass_until", "en", NULL, "\nUnlimited access until {until} UTC." },
	{ "menu", "en", NULL, "Choose what to buy:" },
	{ "menu_empty", "en", NULL, "Nothing is for sale yet." },
	{ "menu_button", "en", NULL, "{label} – {price}" },
	{ "menu_button_stars", "en", NULL, "{label} – {price} or {stars}" },
	{ "history", "en", NULL,
	  "Your last purchases:\n{buys}\n\nSpent: {month} in the last 30 days,"
	  " {spent} in all.\nBalance: {balance}.{owed}" },
	{ "history_owed", "en", NULL, " Owed: {owed}." },
	{ "history_none", "en", NULL, "none yet" },
	{ "history_line", "en", NULL, "{date}  {what}{amount}" },
	{ "history_pass", "en", NULL, "time pass" },
	{ "history_credits_one", "en", NULL, "+{n} credit" },
	{ "history_credits_other", "en", NULL, "+{n} credits" },
	{ "history_amount", "en", NULL, "  {money}" },
	{ "autorecharge_off", "en", NULL, "Auto-recharge is off." },
	{ "autorecharge_no_package", "en", NULL,
	  "There is no package of {package}: /buy lists them." },
	{ "autorecharge_on", "en", NULL,
	  "Auto-recharge is on: when your balance falls under {below},"
	  " {credits} are bought for {price} with your saved card.{card}" },
	{ "autorecharge_no_card", "en", NULL,
	  " No card is saved yet: buy once with /buy{credits} and it is kept." },
	{ "autorecharge_usage", "en", NULL,
	  "Usage: /autorecharge on <credits> <below>,"
	  " e.g. /autorecharge on 100 10\n/autorecharge off" },
	{ "card_saved", "en", NULL,
	  "💳 Your card {brand} •••• {last4} is saved:"
	  " /autorecharge on <credits> <below> tops you up automatically." },
	{ "payment_refused", "en", NULL,
	  "❌ Your payment did not go through (the bank refused it)."
	  " Nothing was charged: /buy to try again." },
	{ "payment_failed", "en", NULL,
	  "❌ Your payment failed: {why} You can try again with /buy." },
	{ "payment_failed_why", "en", NULL, "the card was declined." },
	{ "dispute", "en", NULL,
	  "🚨 Dispute opened: {amount} by user {user} (reason: {reason})."
	  " Payment {payment}, dispute {dispute}. Answer it in the Stripe Dashboard before the"
	  " deadline." },
	{ "dispute_reason_unknown", "en", NULL, "unknown" },
	{ "refund", "en", NULL,
	  "↩️ A refund of {amount} was made: {taken} taken back.{owed}"
	  " Your balance: {balance}." },
	{ "refund_owed_one", "en", NULL, " {n} credit was already spent and is owed." },
	{ "refund_owed_other", "en", NULL, " {n} credits were already spent and are owed." },
	{ "offer", "en", NULL, "{label}: {what} for {price}.{note}" },
	{ "offer_note", "en", NULL, "\n{note}" },
	{ "recharge_failed", "en", NULL,
	  "⚠️ Auto-recharge could not charge your card: {why} Pay here to top up:" },
	{ "recharge_failed_no_link", "en", NULL,
	  "⚠️ Auto-recharge could not charge your card: {why} Use /buy to top up." },
	{ "recharge_why_auth", "en", NULL,
	  "your bank wants you to confirm this payment (authentication required)." },
	{ "recharge_why_declined", "en", NULL, "your card was declined ({code})." },
	{ "recharge_why_failed", "en", NULL, "the payment could not be made." },
	{ "recharge_why_confirm", "en", NULL, "the payment needs your confirmation ({status})." },
	{ "recharge_why_no_setup", "en", NULL, "card payments are not set up." },
	{ "recharge_why_no_card", "en", NULL, "no card is saved yet." },
	{ "pass_expiring", "en", NULL,
	  "⏳ Your time pass ends in {left}, at {until} UTC. /buy to extend it." },
	{ "hours_one", "en", NULL, "{n} hour" },
	{ "hours_other", "en", NULL, "{n} hours" },
	{ "welcome_back", "en", NULL, "Welcome back! /balance shows your credits." },
	{ "payment_confirmed", "en", NULL,
	  "✅ Your payment is confirmed. Your balance: {balance}." },
	{ "payment_pending", "en", NULL,
	  "⏳ Your payment is being processed: a message follows as soon as it is complete." },
	{ "portal", "en", NULL, "Your payment details, cards and receipts:" },
	{ "button_portal", "en", NULL, "Manage payments" },
	{ "precheckout_gone", "en", NULL,
	  "This product is no longer on sale at this price. Send /buy again." },
	/* a campaign's gift without a message of its own (gatewayd/campaignbody.c); {credits},
	 * the balance after it, is filled per user when the campaign starts */
	{ "campaign_gift", "en", NULL,
	  "🎁 You received a gift of {gift} credits. Your balance: {credits} credits." },
	/* Russian (ru): every entry, and the counts in CLDR's one, few and many (other
	 * is for fractions, which no count has) */
	{ "welcome", "ru", NULL, "Добро пожаловать! Пишите сюда, и мы вам ответим." },
	{ "free_credits", "ru", NULL, "Вы получили {credits}." },
	{ "free_credits_one", "ru", NULL, "{n} бесплатный кредит" },
	{ "free_credits_few", "ru", NULL, "{n} бесплатных кредита" },
	{ "free_credits_many", "ru", NULL, "{n} бесплатных кредитов" },
	{ "free_credits_other", "ru", NULL, "{n} бесплатного кредита" },
	{ "button_products", "ru", NULL, "Посмотреть товары" },
	{ "help", "ru", NULL, "Команды:" },
	{ "unknown_command", "ru", NULL, "Неизвестная команда." },
	{ "help_start", "ru", NULL, "начать сначала" },
	{ "help_help", "ru", NULL, "этот список" },
	{ "help_balance", "ru", NULL, "ваши кредиты и абонемент" },
	{ "help_buy", "ru", NULL,
	  "купить кредиты или абонемент (/buy10 покупает 10 "
	  "кредитов)" },
	{ "help_billing", "ru", NULL, "ваши платёжные данные" },
	{ "help_history", "ru", NULL, "ваши последние покупки и расходы" },
	{ "help_autorecharge", "ru", NULL,
	  "автоматическое пополнение: /autorecharge on <кредиты> "
	  "<порог>, off" },
	{ "balance", "ru", NULL, "Кредиты: {credits}" },
	{ "balance_bar", "ru", NULL, "Кредиты: {credits}/{full} [{bar}] {percent}%" },
	{ "balance_pass", "ru", NULL, "Абонемент: действует до {until}" },
	{ "balance_low_hint", "ru", NULL,
	  "⚠️ У вас мало кредитов: /buy, чтобы пополнить." },
	{ "low_balance", "ru", NULL,
	  "⚠️ У вас мало кредитов: осталось {credits}. /buy, чтобы "
	  "пополнить." },
	{ "no_credit", "ru", NULL,
	  "У вас закончились кредиты. Купите ещё, чтобы "
	  "продолжить:" },
	{ "button_buy", "ru", NULL, "Купить кредиты" },
	{ "gift_received", "ru", NULL, "🎁 Вам подарок. Баланс: {credits}." },
	{ "tutorial_offer", "ru", NULL,
	  "Показать, как всё устроено? Три шага, а в конце — "
	  "{bonus}." },
	{ "tutorial_offer_plain", "ru", NULL, "Показать, как всё устроено? Всего три шага." },
	{ "button_tutorial", "ru", NULL, "Покажите" },
	{ "button_tutorial_skip", "ru", NULL, "Нет, спасибо" },
	{ "tutorial_1", "ru", NULL,
	  "1/3 · Пишите сюда: каждое сообщение попадает к нашей "
	  "команде,"
	  " а ответ приходит в этот чат." },
	{ "tutorial_2", "ru", NULL,
	  "2/3 · /balance показывает ваши кредиты. Сообщение может"
	  " стоить кредитов, если у вас нет абонемента." },
	{ "tutorial_3", "ru", NULL,
	  "3/3 · /buy пополняет баланс картой или звёздами Telegram."
	  " /help показывает все команды." },
	{ "button_next", "ru", NULL, "Дальше ▶️" },
	{ "button_finish", "ru", NULL, "Готово ✅" },
	{ "tutorial_done", "ru", NULL, "🎉 Вот и всё! Вы получили {credits}." },
	{ "tutorial_done_plain", "ru", NULL, "🎉 Вот и всё! Пишите, когда захотите." },
	{ "tutorial_skipped", "ru", NULL, "Хорошо! /help показывает команды." },
	{ "welcome_return", "ru", NULL, "👋 С возвращением, {first_name}! Ваш баланс: {credits}." },
	{ "balance_after", "ru", NULL, "Списано: {cost}. Баланс: {credits}." },
	{ "gift_sent", "ru", NULL, "🎁 Подарок отправлен. Баланс: {credits}." },
	{ "gift_failed", "ru", NULL, "Подарок не удался." },
	{ "gift_how", "ru", NULL, "Напишите /gift N в теме, чтобы подарить N кредитов." },
	{ "no_such_user", "ru", NULL, "Нет такого пользователя." },
	{ "user_banned", "ru", NULL,
	  "🚫 Пользователь заблокирован: его сообщения "
	  "больше не пересылаются." },
	{ "user_unbanned", "ru", NULL, "✅ Пользователь разблокирован." },
	{ "admin_help", "ru", NULL,
	  "Команды администратора: /info, /ban, /unban, /gift N, /close, /reopen" },
	{ "topic_not_users", "ru", NULL, "Эта тема не этого пользователя." },
	{ "not_allowed", "ru", NULL, "Нет доступа" },
	{ "role_refused", "ru", NULL,
	  "⛔ Нет доступа: для этого нужна роль {role} в этом боте."
	  " Владелец добавляет администраторов"
	  " через /admins или в панели." },
	{ "admins_list", "ru", NULL, "Администраторы бота (id пользователя Telegram, роль):" },
	{ "admins_none", "ru", NULL, "У бота ещё нет администраторов." },
	{ "admins_usage", "ru", NULL,
	  "/admins - этот список\n"
	  "/admins add <user_id> <owner|admin|agent> - добавить администратора"
	  " или сменить роль\n"
	  "/admins remove <user_id> - убрать администратора" },
	{ "admins_bad_role", "ru", NULL, "Неизвестная роль: owner, admin или agent." },
	{ "admins_added", "ru", NULL, "✅ {user_id} теперь {role} этого бота." },
	{ "admins_removed", "ru", NULL, "✅ {user_id} больше не администратор этого бота." },
	{ "admins_not_admin", "ru", NULL, "{user_id} не администратор этого бота." },
	{ "admins_last_owner", "ru", NULL,
	  "У бота должен остаться хотя бы один владелец:"
	  " сначала назначьте другого." },
	{ "not_delivered", "ru", NULL,
	  "⚠️ Не доставлено: пользователь заблокировал "
	  "бота." },
	{ "user_blocked", "ru", NULL,
	  "⚠️ Пользователь заблокировал бота." },
	{ "user_unblocked", "ru", NULL, "✅ Пользователь разблокировал бота." },
	{ "card", "ru", NULL,
	  "👤 {name}\nID: {id}\nКредиты: {credits}\nОплата: {plan}\n"
	  "Уровень: {tier}\nСообщений: {messages}\nВпервые: {first_seen}{banned}" },
	{ "card_plan_pass", "ru", NULL, "абонемент до {until}" },
	{ "card_plan_credits", "ru", NULL, "кредиты" },
	{ "card_banned", "ru", NULL, "\n🚫 Заблокирован" },
	{ "button_info", "ru", NULL, "Инфо" },
	{ "button_gift", "ru", NULL, "Подарить" },
	{ "button_ban", "ru", NULL, "Заблокировать" },
	{ "tier_new", "ru", NULL, "Новый" },
	{ "tier_regular", "ru", NULL, "Постоянный" },
	{ "tier_vip", "ru", NULL, "VIP" },
	{ "inbox_reply_topic", "ru", NULL, "💬 {agent} (входящие):\n{text}" },
	{ "inbox_api_agent", "ru", NULL, "API" },
	{ "inbox_file_topic", "ru", NULL, "💬 {agent} (входящие)" },
	{ "flood_admin", "ru", NULL,
	  "⚠️ {first_name} (#{user_id}) пишет больше {rate} сообщений в "
	  "минуту: их сообщения"
	  "сохраняются, но не пересылаются и не получают "
	  "ответа, пока поток не спадёт." },
	{ "portal_unavailable", "ru", NULL,
	  "Платёжный кабинет сейчас недоступен. Попробуйте "
	  "позже." },
	{ "card_unavailable", "ru", NULL,
	  "Оплата картой сейчас недоступна. Попробуйте "
	  "позже." },
	{ "no_such_package", "ru", NULL,
	  "Такого пакета нет: /buy показывает, что есть в "
	  "продаже." },
	{ "cards_not_set_up", "ru", NULL, "Оплата картой ещё не настроена." },
	{ "billing_failed", "ru", NULL, "Извините, не получилось. Попробуйте позже." },
	{ "credits_one", "ru", NULL, "{n} кредит" },
	{ "credits_few", "ru", NULL, "{n} кредита" },
	{ "credits_many", "ru", NULL, "{n} кредитов" },
	{ "credits_other", "ru", NULL, "{n} кредита" },
	{ "pass_days_one", "ru", NULL, "{n} день безлимитного доступа" },
	{ "pass_days_few", "ru", NULL, "{n} дня безлимитного доступа" },
	{ "pass_days_many", "ru", NULL, "{n} дней безлимитного доступа" },
	{ "pass_days_other", "ru", NULL, "{n} дня безлимитного доступа" },
	{ "pass_hours_one", "ru", NULL, "{n} час безлимитного доступа" },
	{ "pass_hours_few", "ru", NULL, "{n} часа безлимитного доступа" },
	{ "pass_hours_many", "ru", NULL, "{n} часов безлимитного доступа" },
	{ "pass_hours_other", "ru", NULL, "{n} часа безлимитного доступа" },
	{ "what_both", "ru", NULL, "{credits} + {pass}" },
	{ "button_pay", "ru", NULL, "Оплатить {price}" },
	{ "paid", "ru", NULL, "✅ Оплата получена: {what}.\nВаш баланс: {balance}." },
	{ "paid_pass_until", "ru", NULL, "\nБезлимитный доступ до {until} UTC." },
	{ "menu", "ru", NULL, "Выберите, что купить:" },
	{ "menu_empty", "ru", NULL, "Пока ничего не продаётся." },
	{ "menu_button", "ru", NULL, "{label} – {price}" },
	{ "menu_button_stars", "ru", NULL, "{label} – {price} или {stars}" },
	{ "history", "ru", NULL,
	  "Ваши последние покупки:\n{buys}\n\nПотрачено: {month} за 30 "
	  "дней,"
	  " {spent} всего.\nБаланс: {balance}.{owed}" },
	{ "history_owed", "ru", NULL, " Долг: {owed}." },
	{ "history_none", "ru", NULL, "пока нет" },
	{ "history_line", "ru", NULL, "{date}  {what}{amount}" },
	{ "history_pass", "ru", NULL, "абонемент" },
	{ "history_credits_one", "ru", NULL, "+{n} кредит" },
	{ "history_credits_few", "ru", NULL, "+{n} кредита" },
	{ "history_credits_many", "ru", NULL, "+{n} кредитов" },
	{ "history_credits_other", "ru", NULL, "+{n} кредита" },
	{ "history_amount", "ru", NULL, "  {money}" },
	{ "autorecharge_off", "ru", NULL, "Автопополнение выключено." },
	{ "autorecharge_no_package", "ru", NULL,
	  "Пакета на {package} нет: /buy показывает пакеты." },
	{ "autorecharge_on", "ru", NULL,
	  "Автопополнение включено: когда баланс опустится "
	  "ниже {below},"
	  "{credits} будут куплены за {price} с сохранённой "
	  "карты.{card}" },
	{ "autorecharge_no_card", "ru", NULL,
	  " Карта ещё не сохранена: купите один раз через "
	  "/buy{credits}, и она запомнится." },
	{ "autorecharge_usage", "ru", NULL,
	  "Использование: /autorecharge on <кредиты> <порог>,"
	  " например /autorecharge on 100 10\n/autorecharge off" },
	{ "card_saved", "ru", NULL,
	  "💳 Ваша карта {brand} •••• {last4} сохранена:"
	  "/autorecharge on <кредиты> <порог> пополняет баланс "
	  "автоматически." },
	{ "payment_refused", "ru", NULL,
	  "❌ Платёж не прошёл (банк отказал)."
	  " Деньги не списаны: /buy, чтобы попробовать снова." },
	{ "payment_failed", "ru", NULL,
	  "❌ Платёж не удался: {why} Попробуйте снова через "
	  "/buy." },
	{ "payment_failed_why", "ru", NULL, "карта отклонена." },
	{ "dispute", "ru", NULL,
	  "🚨 Открыт спор: {amount}, пользователь {user} (причина: "
	  "{reason})."
	  "Платёж {payment}, спор {dispute}. Ответьте в панели Stripe до "
	  "срока." },
	{ "dispute_reason_unknown", "ru", NULL, "неизвестна" },
	{ "refund", "ru", NULL,
	  "↩️ Сделан возврат {amount}: списано {taken}.{owed}"
	  " Ваш баланс: {balance}." },
	{ "refund_owed_one", "ru", NULL, " {n} кредит уже потрачен и числится долгом." },
	{ "refund_owed_few", "ru", NULL, " {n} кредита уже потрачены и числятся долгом." },
	{ "refund_owed_many", "ru", NULL, " {n} кредитов уже потрачены и числятся долгом." },
	{ "refund_owed_other", "ru", NULL, " {n} кредита уже потрачены и числятся долгом." },
	{ "offer", "ru", NULL, "{label}: {what} за {price}.{note}" },
	{ "offer_note", "ru", NULL, "\n{note}" },
	{ "recharge_failed", "ru", NULL,
	  "⚠️ Автопополнение не смогло списать деньги с "
	  "карты: {why} Оплатите здесь:" },
	{ "recharge_failed_no_link", "ru", NULL,
	  "⚠️ Автопополнение не смогло списать деньги с "
	  "карты: {why} Пополните через /buy." },
	{ "recharge_why_auth", "ru", NULL,
	  "банк просит подтвердить этот платёж (нужна "
	  "аутентификация)." },
	{ "recharge_why_declined", "ru", NULL, "карта отклонена ({code})." },
	{ "recharge_why_failed", "ru", NULL, "платёж не удался." },
	{ "recharge_why_confirm", "ru", NULL, "платёж требует вашего подтверждения ({status})." },
	{ "recharge_why_no_setup", "ru", NULL, "оплата картой не настроена." },
	{ "recharge_why_no_card", "ru", NULL, "карта ещё не сохранена." },
	{ "pass_expiring", "ru", NULL,
	  "⏳ Ваш абонемент закончится через {left}, в {until} UTC. "
	  "/buy, чтобы продлить." },
	{ "hours_one", "ru", NULL, "{n} час" },
	{ "hours_few", "ru", NULL, "{n} часа" },
	{ "hours_many", "ru", NULL, "{n} часов" },
	{ "hours_other", "ru", NULL, "{n} часа" },
	{ "welcome_back", "ru", NULL, "С возвращением! /balance показывает ваши кредиты." },
	{ "payment_confirmed", "ru", NULL, "✅ Платёж подтверждён. Ваш баланс: {balance}." },
	{ "payment_pending", "ru", NULL,
	  "⏳ Платёж обрабатывается: как только он "
	  "завершится, придёт сообщение." },
	{ "portal", "ru", NULL, "Ваши платёжные данные, карты и чеки:" },
	{ "button_portal", "ru", NULL, "Управление платежами" },
	{ "precheckout_gone", "ru", NULL,
	  "Этот товар больше не продаётся по этой цене. "
	  "Отправьте /buy ещё раз." },
	{ "campaign_gift", "ru", NULL,
	  "🎁 Вам подарено кредитов: {gift}. Ваш баланс в "
	  "кредитах: {credits}." },
};

#define NENTRIES (sizeof(entries) / sizeof(entries[0]))
#define TEXTS_LANGS 16 /* languages a bot's own texts may hold */

/* find - the entry name in lang, or NULL */
static const struct entry *find(const char *name, const char *lang)
{
	for (size_t i = 0; i < NENTRIES; i++)
		if (strcmp(entries[i].name, name) == 0 && strcmp(entries[i].lang, lang) == 0)
			return &entries[i];
	return NULL;
}

/* find_any - the entry name in lang, else in English; unknown names are a bug */
static const struct entry *find_any(const char *name, const char *lang)
{
	const struct entry *e = lang ? find(name, lang) : NULL;

	if (e == NULL)
		e = find(name, "en");
	if (e == NULL)
		TGM_BUG("text %s is not in the catalog", name);
	return e;
}

const char *tgm_text(const char *name, const char *lang)
{
	return find_any(name, lang)->text;
}

const char *tgm_text_in(const char *name, const char *lang)
{
	const struct entry *e = find(name, lang);

	return e ? e->text : NULL;
}

const char *tgm_text_nth(const char *name, size_t n, const char **lang)
{
	for (size_t i = 0; i < NENTRIES; i++)
		if (strcmp(entries[i].name, name) == 0 && n-- == 0) {
			*lang = entries[i].lang;
			return entries[i].text;
		}
	return NULL;
}

bool tgm_text_has(const char *name)
{
	for (size_t i = 0; i < NENTRIES; i++)
		if (strcmp(entries[i].name, name) == 0)
			return true;
	return false;
}

bool tgm_text_is_catalog(const char *name, const char *text)
{
	for (size_t i = 0; i < NENTRIES; i++)
		if (entries[i].text == text && strcmp(entries[i].name, name) == 0)
			return true;
	return false;
}

const char *tgm_text_name(size_t i)
{
	for (size_t k = 0; k < NENTRIES; k++)
		if (strcmp(entries[k].lang, "en") == 0 && i-- == 0)
			return entries[k].name;
	return NULL;
}

bool tgm_text_has_lang(const char *lang)
{
	return lang && find("welcome", lang) != NULL;
}

const char *tgm_text_plural(const char *lang, int64_t n)
{
	uint64_t a = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;

	if (lang && strcmp(lang, "ru") == 0) { /* CLDR: integers are one, few or many */
		if (a % 10 == 1 && a % 100 != 11)
			return "one";
		if (a % 10 >= 2 && a % 10 <= 4 && (a % 100 < 12 || a % 100 > 14))
			return "few";
		return "many";
	}
	return a == 1 ? "one" : "other";
}

/* lang_code - the primary subtag of a language tag ("pt-BR" -> "pt"), lower case, into
 * out (TGM_TEXT_LANG bytes); false when it is not 2 or 3 letters */
static bool lang_code(const char *tag, char *out)
{
	size_t n = 0;

	for (; tag && tag[n] && tag[n] != '-' && tag[n] != '_'; n++) {
		if (n == 3 || !isalpha((unsigned char)tag[n]))
			return false;
		out[n] = (char)tolower((unsigned char)tag[n]);
	}
	out[n] = '\0';
	return n >= 2;
}

/* own_text - the bot's own text name in lang (settings.texts.<lang>.<name>), or NULL */
static const char *own_text(yajl_val settings, const char *lang, const char *name)
{
	yajl_val texts = settings ? tgm_json_get(settings, "texts") : NULL;
	yajl_val in = texts && YAJL_IS_OBJECT(texts) ? tgm_json_get(texts, lang) : NULL;
	const char *s = in && YAJL_IS_OBJECT(in) ? tgm_json_get_str(in, name) : NULL;

	return s && *s ? s : NULL;
}

/* bot_lang - the bot's default language: its setting language, when the catalog has it */
static const char *bot_lang(yajl_val settings)
{
	const char *s = settings ? tgm_json_get_str(settings, "language") : NULL;

	return tgm_text_has_lang(s) ? s : "en";
}

const char *tgm_text_lang(yajl_val settings, const char *user, char *out)
{
	yajl_val texts = settings ? tgm_json_get(settings, "texts") : NULL;

	if (lang_code(user, out) &&
	    (tgm_text_has_lang(out) || (texts && YAJL_IS_OBJECT(tgm_json_get(texts, out)))))
		return out;
	snprintf(out, TGM_TEXT_LANG, "%s", bot_lang(settings));
	return out;
}

/* legacy_text - the old per-bot setting of name (welcome, help, no_credit_text), which
 * speaks the bot's default language: its stored value unless empty or the English default */
static const char *legacy_text(yajl_val settings, const char *name)
{
	const struct entry *e = find(name, "en");
	const char *s = e && e->setting && settings ? tgm_json_get_str(settings, e->setting) : NULL;

	return s && *s && strcmp(s, e->text) != 0 ? s : NULL;
}

/* lookup - name as the bot says it in lang (its own text, else the catalog's), then in
 * the bot's default language, then English; *found gets the language it was found in;
 * NULL when none has it */
static const char *lookup(yajl_val settings, const char *name, const char *lang, const char **found)
{
	const char *chain[3] = { lang ? lang : bot_lang(settings), bot_lang(settings), "en" };

	for (int i = 0; i < 3; i++) {
		const char *own = own_text(settings, chain[i], name);
		const struct entry *e;

		if (i > 0 && strcmp(chain[i], chain[i - 1]) == 0)
			continue;
		if (own == NULL && strcmp(chain[i], bot_lang(settings)) == 0)
			own = legacy_text(settings, name);
		e = own ? NULL : find(name, chain[i]);
		if (own || e) {
			*found = chain[i];
			return own ? own : e->text;
		}
	}
	return NULL;
}

const char *tgm_text_bot(yajl_val settings, const char *name, const char *lang)
{
	const char *found, *s = lookup(settings, name, lang, &found);

	if (s == NULL)
		TGM_BUG("text %s is not in the catalog", name);
	return s;
}

char *tgm_text_count_bot(char *out, size_t len, yajl_val settings, const char *name, int64_t n,
			 const char *lang)
{
	const char *chain[3] = { lang ? lang : bot_lang(settings), bot_lang(settings), "en" };
	char full[64], num[24];
	const char *found, *s = NULL;

	snprintf(num, sizeof(num), "%lld", (long long)n);
	for (int i = 0; i < 3 && s == NULL; i++) {
		snprintf(full, sizeof(full), "%s_%s", name, tgm_text_plural(chain[i], n));
		s = lookup(settings, full, chain[i], &found);
		if (s && strcmp(found, chain[i]) != 0)
			s = NULL; /* a form of another language's rule: that language's turn */
	}
	if (s == NULL)
		TGM_BUG("count %s is not in the catalog", name);
	return tgm_text_fill(out, len, s, (const char *const[]){ "n", num, NULL });
}

char *tgm_text_count(char *out, size_t len, const char *name, int64_t n, const char *lang)
{
	return tgm_text_count_bot(out, len, NULL, name, n, lang);
}

/* lang_ok - whether a key of settings.texts names a language: 2 or 3 lower-case letters */
static bool lang_ok(const char *k)
{
	size_t n = strlen(k);

	if (n < 2 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)k[i]))
			return false;
	return true;
}

bool tgm_text_check(yajl_val texts, char *err, size_t errlen)
{
	if (texts == NULL || !YAJL_IS_OBJECT(texts) || texts->u.object.len > TEXTS_LANGS) {
		snprintf(err, errlen, "settings.texts must be an object of at most %d languages",
			 TEXTS_LANGS);
		return false;
	}
	for (size_t i = 0; i < texts->u.object.len; i++) {
		const char *lang = texts->u.object.keys[i];
		yajl_val in = texts->u.object.values[i];

		if (!lang_ok(lang) || !YAJL_IS_OBJECT(in)) {
			snprintf(err, errlen,
				 "settings.texts.%.8s must be a language code (2 or 3"
				 " lower-case letters) holding an object of texts",
				 lang);
			return false;
		}
		for (size_t k = 0; k < in->u.object.len; k++) {
			const char *name = in->u.object.keys[k];
			yajl_val v = in->u.object.values[k];

			if (!tgm_text_has(name)) {
				snprintf(err, errlen,
					 "settings.texts.%s.%.40s is not a text of the"
					 " catalog (docs/texts.md)",
					 lang, name);
				return false;
			}
			if (!YAJL_IS_STRING(v) || strlen(v->u.string) > TGM_TEXT_MAX ||
			    !tgm_utf8_valid(v->u.string)) {
				snprintf(err, errlen,
					 "settings.texts.%s.%s must be a string of at"
					 " most %d bytes of UTF-8",
					 lang, name, TGM_TEXT_MAX);
				return false;
			}
		}
	}
	return true;
}

/* var - the value of the key at k (klen bytes) in vars, or NULL */
static const char *var(const char *const vars[], const char *k, size_t klen)
{
	for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
		if (strlen(vars[i]) == klen && strncmp(vars[i], k, klen) == 0)
			return vars[i + 1];
	return NULL;
}

char *tgm_text_fill(char *out, size_t len, const char *tmpl, const char *const vars[])
{
	size_t used = 0;

	for (const char *p = tmpl; *p && used + 1 < len;) {
		const char *end = *p == '{' ? strchr(p + 1, '}') : NULL;
		const char *v = end ? var(vars, p + 1, (size_t)(end - p - 1)) : NULL;
		size_t n = v ? strlen(v) : 1;

		if (n > len - 1 - used)
			n = len - 1 - used;
		memcpy(out + used, v ? v : p, n);
		used += n;
		p = v ? end + 1 : p + 1;
	}
	if (len) {
		out[used] = '\0';
		tgm_utf8_cut(out, used); /* a value or the text cut short ends on a character */
	}
	return out;
}
