/*
 * telegram.h - the Telegram Bot API client: one method call over httpc, its answer
 * parsed, and a classification of the outcome (docs/telegram.md sections 1, 2, 4);
 * and the parsing of a /command in a message's text.
 *
 * Used by senderd and webhookd. Knows nothing of lanes or the database: the caller
 * decides what a class means for its message, chat and bot. The bot token goes into
 * the URL only; no text this module hands out (description) contains it.
 */
#ifndef TGM_TELEGRAM_H
#define TGM_TELEGRAM_H

#include "common/httpc.h"
#include "common/tganswer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#define TGM_TG_MAX_BODY TGM_HTTPC_MAX_BODY

/* tgm_tg_result - one answer; every pointer is borrowed until the callback returns */
struct tgm_tg_result {
	bool ok;                    /* {"ok":true} */
	int error_code;             /* Telegram's error_code, else the HTTP status, else 0 */
	const char *description;    /* Telegram's description or the transport error; borrowed */
	int retry_after;            /* parameters.retry_after, else Retry-After header, else -1 */
	int64_t migrate_to_chat_id; /* parameters.migrate_to_chat_id, else 0 */
	yajl_val result;            /* "result" when ok (NULL from tgm_tg_send); borrowed */
	int64_t message_id;         /* when ok: result.message_id, or result itself when an
				     * integer; else 0 */
	const char *raw;            /* the body text; borrowed (as sent by the server) */
	bool transport_error;       /* no usable answer */
	bool ambiguous;             /* transport error after the request was sent */
	int64_t first_byte_ms;      /* when the answer began to come (tgm_mono_ms), 0: none */
};

typedef void (*tgm_tg_cb)(const struct tgm_tg_result *r, void *arg);

/*
 * tgm_tg_call - POST json (len bytes, copied) as application/json to
 * <api_url>/bot<token>/<method>; cb runs once, later, from the loop.
 * A body that is not a Bot API answer (an HTML 502 page, say) is a transport error
 * that keeps the HTTP status in error_code. ambiguous is set when the request had
 * left and no definite failure status (4xx, 5xx) came back: it may have been performed.
 */
void tgm_tg_call(struct tgm_httpc *c, const char *api_url, const char *token, const char *method,
		 const char *json, size_t len, int timeout_ms, tgm_tg_cb cb, void *arg);
/* tgm_tg_call_body - the same with a body of another Content-Type (multipart/form-data) */
void tgm_tg_call_body(struct tgm_httpc *c, const char *api_url, const char *token,
		      const char *method, const char *type, const char *body, size_t len,
		      int timeout_ms, tgm_tg_cb cb, void *arg);
/*
 * tgm_tg_send - tgm_tg_call_body for a caller that needs no more of the answer than a
 * send does (senderd): it is read without a tree (tganswer.c), so result is NULL and
 * message_id holds what there is of it. type NULL is application/json.
 */
void tgm_tg_send(struct tgm_httpc *c, const char *api_url, const char *token, const char *method,
		 const char *type, const char *body, size_t len, int timeout_ms, tgm_tg_cb cb,
		 void *arg);

/* tgm_tg_answer - one HTTP answer read into a result, with what the result borrows */
struct tgm_tg_answer {
	struct tgm_tg_result r;
	yajl_val root;            /* the parsed body, or NULL */
	struct tgm_tganswer lean; /* the body read without a tree (tgm_tg_answer_lean) */
	char *desc;               /* the description with the token scrubbed, or NULL */
	char why[256];            /* the reason when the body is not a Bot API answer */
};

/*
 * tgm_tg_answer_read - read httpc's answer h to a call made with token into a (which
 * must not move until tgm_tg_answer_free): what tgm_tg_call's callback receives.
 */
void tgm_tg_answer_read(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h, const char *token);
/* tgm_tg_answer_lean - the same read without a tree: what tgm_tg_send's callback gets */
void tgm_tg_answer_lean(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h, const char *token);
void tgm_tg_answer_free(struct tgm_tg_answer *a);

/*
 * tgm_tg_class - what an outcome means (docs/telegram.md section 4):
 *   OK          2xx and "ok":true
 *   RETRY       5xx, or no answer and the request had not left: retry with backoff
 *   FLOOD       429: wait retry_after seconds
 *   MIGRATED    migrate_to_chat_id given: resend once to the new chat id
 *   CHAT_GONE   403, or 400 chat/private chat/user not found: permanent for the chat
 *   TOKEN_DEAD  401, 404 (or a 3xx: the API URL is wrong): stop the bot's lane
 *   BAD_REQUEST any other 4xx, and a 4xx whose body is not a Bot API answer (a proxy's
 *               403 page says nothing about the chat): permanent for this payload
 *   AMBIGUOUS   the request left and no answer came: it may have been delivered
 */
enum tgm_tg_class {
	TGM_TG_OK,
	TGM_TG_RETRY,
	TGM_TG_FLOOD,
	TGM_TG_MIGRATED,
	TGM_TG_CHAT_GONE,
	TGM_TG_TOKEN_DEAD,
	TGM_TG_BAD_REQUEST,
	TGM_TG_AMBIGUOUS,
};

enum tgm_tg_class tgm_tg_classify(const struct tgm_tg_result *r);
/* tgm_tg_class_name - "OK", "RETRY", ... ; a static string */
const char *tgm_tg_class_name(enum tgm_tg_class c);

/*
 * tgm_tg_command - "/Buy10@MyBot args" -> name "buy10" (lowercase, cut to len - 1
 * bytes) and *args "args" (a pointer into text, after the blanks; may be NULL). False
 * when text is no command or it names another bot than bot_username.
 */
bool tgm_tg_command(const char *text, const char *bot_username, char *name, size_t len,
		    const char **args);

#endif
