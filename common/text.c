/*
 * text.c - the catalog of texts bots send to people (see text.h): one table of
 * entries, each a name, a language, the bot setting that overrides it (if any) and
 * the text. English is complete; add a language by adding its rows (docs/texts.md).
 */
#include "common/text.h"
#include "common/json.h"
#include "common/log.h"
#include "common/utf8.h"

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
	/* the admin group's topics (webhookd/topic.c, admin.c, repair.c) */
	{ "gift_sent", "en", NULL, "🎁 Gift sent. Balance: {credits}." },
	{ "gift_failed", "en", NULL, "The gift failed." },
	{ "gift_how", "en", NULL, "Write /gift N in the topic to gift N credits." },
	{ "no_such_user", "en", NULL, "No such user." },
	{ "user_banned", "en", NULL, "🚫 User banned: their messages are no longer relayed." },
	{ "user_unbanned", "en", NULL, "✅ User unbanned." },
	{ "admin_help", "en", NULL, "Admin commands: /info, /ban, /unban, /gift N, /close, /reopen" },
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
	{ "menu_gift_ask", "en", NULL, "🎁 Reply to this message with the number of credits to give." },
	{ "menu_take_ask", "en", NULL,
	  "➖ Reply to this message with the number of credits to take back." },
	{ "menu_gift_done", "en", NULL, "🎁 Gift sent." },
	{ "menu_take_done", "en", NULL, "➖ Credits taken back." },
	{ "menu_take_refused", "en", NULL, "⚠️ The user has fewer credits than that: nothing taken." },
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
	{ "menu_conversation_line", "en", NULL, "• {who}: {unread} unread, waiting {minutes} min" },
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
	{ "menu_credits_ask", "en", NULL, "🪙 Reply to this message with the new number of credits." },
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
	{ "menu_stale", "ru", NULL,
	  "Эта кнопка устарела: отправьте /admin ещё раз." },
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
	{ "menu_failed_title", "ru", NULL,
	  "💳 Неудачные и истёкшие платежи, новые первыми:" },
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
	{ "menu_refund_failed", "ru", NULL,
	  "Возврат отклонён: ничего не изменилось" },
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
	{ "menu_conversations_title", "ru", NULL,
	  "💬 Открытые диалоги, непрочитанные первыми:" },
	{ "menu_conversations_none", "ru", NULL, "💬 Открытых диалогов нет." },
	{ "menu_conversation_line", "ru", NULL,
	  "• {who}: непрочитанных {unread}, ждёт {minutes} мин" },
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
	{ "menu_price_ask", "ru", NULL,
	  "💲 Ответьте на это сообщение новой ценой в центах." },
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
	{ "card_unavailable", "en", NULL, "Card payment is unavailable right now. Please try later." },
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
	{ "history", "en", NULL, "Your last purchases:\n{buys}\n\nSpent: {month} in the last 30 days,"
	  " {spent} in all.\nBalance: {balance}.{owed}" },
	{ "history_owed", "en", NULL, " Owed: {owed}." },
	{ "history_none", "en", NULL, "none yet" },
	{ "history_line", "en", NULL, "{date}  {what}{amount}" },
	{ "history_pass", "en", NULL, "time pass" },
	{ "history_credits_one", "en", NULL, "+{n} credit" },
	{ "history_credits_other", "en", NULL, "+{n} credits" },
	{ "history_amount", "en", NULL, "  {money}" },
	{ "autorecharge_off", "en", NULL, "Auto-recharge is off." },
	{ "autorecharge_no_package", "en", NULL, "There is no package of {package}: /buy lists them." },
	{ "autorecharge_on", "en", NULL, "Auto-recharge is on: when your balance falls under {below},"
	  " {credits} are bought for {price} with your saved card.{card}" },
	{ "autorecharge_no_card", "en", NULL,
	  " No card is saved yet: buy once with /buy{credits} and it is kept." },
	{ "autorecharge_usage", "en", NULL, "Usage: /autorecharge on <credits> <below>,"
	  " e.g. /autorecharge on 100 10\n/autorecharge off" },
	{ "card_saved", "en", NULL, "💳 Your card {brand} •••• {last4} is saved:"
	  " /autorecharge on <credits> <below> tops you up automatically." },
	{ "payment_refused", "en", NULL, "❌ Your payment did not go through (the bank refused it)."
	  " Nothing was charged: /buy to try again." },
	{ "payment_failed", "en", NULL, "❌ Your payment failed: {why} You can try again with /buy." },
	{ "payment_failed_why", "en", NULL, "the card was declined." },
	{ "dispute", "en", NULL, "🚨 Dispute opened: {amount} by user {user} (reason: {reason})."
	  " Payment {payment}, dispute {dispute}. Answer it in the Stripe Dashboard before the"
	  " deadline." },
	{ "dispute_reason_unknown", "en", NULL, "unknown" },
	{ "refund", "en", NULL, "↩️ A refund of {amount} was made: {taken} taken back.{owed}"
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
	{ "welcome_back", "en", NULL, "Welcome back! /balance shows your credits." },
	{ "payment_confirmed", "en", NULL, "✅ Your payment is confirmed. Your balance: {balance}." },
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
};

#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

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

bool tgm_text_has(const char *name)
{
	return find(name, "en") != NULL;
}

char *tgm_text_count(char *out, size_t len, const char *name, int64_t n, const char *lang)
{
	char full[64], num[24];

	snprintf(full, sizeof(full), "%s_%s", name, n == 1 || n == -1 ? "one" : "other");
	snprintf(num, sizeof(num), "%lld", (long long)n);
	return tgm_text_fill(out, len, tgm_text(full, lang), (const char *const[]){ "n", num, NULL });
}

const char *tgm_text_bot(yajl_val settings, const char *name, const char *lang)
{
	const struct entry *e = find_any(name, lang);
	const char *own = e->setting && settings ? tgm_json_get_str(settings, e->setting) : NULL;

	return own && *own ? own : e->text;
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
