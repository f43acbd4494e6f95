/*
 * log.h - one line per event on stderr, with a syslog priority prefix.
 *
 * Lines look like "<6>bot=42 msg=9001 sent ms=180": journald stores the level from
 * the "<N>" prefix. Outside journald (a terminal, `make run`, tests) a timestamp
 * follows the prefix. Secrets (bot tokens, Stripe keys, passwords in URLs, bearer
 * keys) are redacted by the logger itself, never at the call sites.
 *
 * Three kinds of failure: log_error/log_warn report and go on, log_fatal exits(1)
 * for systemd to restart, TGM_BUG/tgm_assert print a "<2>" line and abort.
 */
#ifndef TGM_LOG_H
#define TGM_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum tgm_log_level {
	TGM_LOG_CRIT = 2,
	TGM_LOG_ERR = 3,
	TGM_LOG_WARNING = 4,
	TGM_LOG_NOTICE = 5,
	TGM_LOG_INFO = 6,
	TGM_LOG_DEBUG = 7,
};

/* tgm_log_init - pick the line format (journald or terminal) for stderr */
void tgm_log_init(void);
void tgm_log_set_level(int level);
int tgm_log_get_level(void);
/* tgm_log_level_parse - "debug", "info", ... to a level; -1 when unknown */
int tgm_log_level_parse(const char *name);

void tgm_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tgm_vlog(int prio, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
noreturn void tgm_log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void tgm_log_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* tgm_redact - replace secrets in s (NUL-terminated, edited in place) by "***" ("*" or
 * "**" for a shorter one: s never grows) */
void tgm_redact(char *s);

#define log_debug(...) \
	do { \
		if (tgm_log_get_level() >= TGM_LOG_DEBUG) \
			tgm_log(TGM_LOG_DEBUG, __VA_ARGS__); \
	} while (0)
#define log_info(...) tgm_log(TGM_LOG_INFO, __VA_ARGS__)
#define log_notice(...) tgm_log(TGM_LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) tgm_log(TGM_LOG_WARNING, __VA_ARGS__)
#define log_error(...) tgm_log(TGM_LOG_ERR, __VA_ARGS__)
#define log_fatal(...) tgm_log_fatal(__VA_ARGS__)
#define TGM_BUG(...) tgm_log_bug(__FILE__, __LINE__, __VA_ARGS__)
#define tgm_assert(x) \
	do { \
		if (!(x)) \
			TGM_BUG("assertion failed: %s", #x); \
	} while (0)

#endif
