/*
 * log.c - the logger: priority prefix, optional timestamp, redaction, one line.
 *
 * Owns the process-wide log level and format. Never allocates: lines are built in a
 * stack buffer and cut at TGM_LOG_LINE_MAX bytes. Writes with one write(2) so lines
 * from concurrent processes sharing stderr do not interleave.
 */
#include "common/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TGM_LOG_LINE_MAX 4096

static int log_level = TGM_LOG_INFO;
static int log_to_journal;

static const char *const level_names[] = {
	[TGM_LOG_CRIT] = "crit",     [TGM_LOG_ERR] = "error", [TGM_LOG_WARNING] = "warning",
	[TGM_LOG_NOTICE] = "notice", [TGM_LOG_INFO] = "info", [TGM_LOG_DEBUG] = "debug",
};

/* stderr_is_journal - does $JOURNAL_STREAM name our stderr? (systemd.exec(5)) */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tgm_log_init(void)
{
	log_to_journal = stderr_is_journal();
}

void tgm_log_set_level(int level)
{
	log_level = level;
}

int tgm_log_get_level(void)
{
	return log_level;
}

int tgm_log_level_parse(const char *name)
{
	for (int i = TGM_LOG_CRIT; i <= TGM_LOG_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "err") == 0)
		return TGM_LOG_ERR;
	if (strcmp(name, "warn") == 0)
		return TGM_LOG_WARNING;
	return -1;
}

/* is_token_char - c may be in a token (letter, digit, '_' or '-') */
static int is_token_char(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* mask_run - overwrite s[from..to) with 3 stars, or fewer when it held fewer bytes:
 * redaction never lengthens s, which may fill its buffer (tgm_vlog's line) */
static size_t mask_run(char *s, size_t from, size_t to)
{
	size_t len = strlen(s), stars = to - from < 3 ? to - from : 3;

	memset(s + from, '*', stars);
	memmove(s + from + stars, s + to, len - to + 1);
	return from + stars;
}

/* redact_bot_token - "123456:AA...(30+)" -> "123456:***" at s[i] (digits) */
static size_t redact_bot_token(char *s, size_t i)
{
	size_t d = i, j;

	while (isdigit((unsigned char)s[d]))
		d++;
	if (d - i < 5 || s[d] != ':')
		return 0;
	for (j = d + 1; is_token_char((unsigned char)s[j]); j++)
		;
	if (j - (d + 1) < 30)
		return 0;
	return mask_run(s, d + 1, j);
}

/* redact_prefixed - "sk_test_abc" -> "sk_test_***" for known secret prefixes */
static size_t redact_prefixed(char *s, size_t i)
{
	static const char *const prefixes[] = {
		"sk_live_", "sk_test_", "rk_live_",    "rk_test_",  "whsec_",
		"tgmk_",    "Bearer ",  "secret_key=", "password=", NULL,
	};
	for (int p = 0; prefixes[p]; p++) {
		size_t n = strlen(prefixes[p]), j;

		if (strncmp(s + i, prefixes[p], n) != 0)
			continue;
		for (j = i + n; s[j] && s[j] != ' ' && s[j] != '"' && s[j] != '&'; j++)
			;
		if (j > i + n)
			return mask_run(s, i + n, j);
	}
	return 0;
}

/* redact_url_password - "scheme://user:pass@" -> "scheme://user:***@" */
static size_t redact_url_password(char *s, size_t i)
{
	size_t j, colon = 0;

	if (strncmp(s + i, "://", 3) != 0)
		return 0;
	for (j = i + 3; s[j] && s[j] != '/' && s[j] != '@' && s[j] != ' '; j++)
		if (s[j] == ':' && colon == 0)
			colon = j;
	if (s[j] != '@' || colon == 0 || j == colon + 1)
		return 0;
	return mask_run(s, colon + 1, j);
}

void tgm_redact(char *s)
{
	size_t i = 0;

	while (s[i]) {
		size_t next = 0;
		int at_word = i == 0 || !is_token_char((unsigned char)s[i - 1]);

		if ((at_word || (i >= 3 && strncmp(s + i - 3, "bot", 3) == 0)) &&
		    isdigit((unsigned char)s[i]))
			next = redact_bot_token(s, i); /* also inside ".../bot<token>/..." */
		if (!next && at_word)
			next = redact_prefixed(s, i);
		if (!next && s[i] == ':')
			next = redact_url_password(s, i);
		i = next ? next : i + 1;
	}
}

/* format_prefix - "<6>" or "<6>2026-11-23 12:00:00.123 " */
static int format_prefix(char *buf, size_t size, int prio)
{
	struct timeval tv;
	struct tm tm;
	int n;

	if (log_to_journal)
		return snprintf(buf, size, "<%d>", prio);
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(buf, size, "<%d>", prio);
	n += (int)strftime(buf + n, size - n, "%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(buf + n, size - n, ".%03d ", (int)(tv.tv_usec / 1000));
	return n;
}

void tgm_vlog(int prio, const char *fmt, va_list ap)
{
	char line[TGM_LOG_LINE_MAX];
	int n, m;

	if (prio > log_level)
		return;
	n = format_prefix(line, sizeof(line), prio);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n = n + m < (int)sizeof(line) - 1 ? n + m : (int)sizeof(line) - 2;
	line[n] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	tgm_redact(line);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void tgm_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tgm_vlog(prio, fmt, ap);
	va_end(ap);
}

void tgm_log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tgm_vlog(TGM_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void tgm_log_bug(const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tgm_log(TGM_LOG_CRIT, "BUG at %s:%d: %s", file, line, msg);
	abort();
}
