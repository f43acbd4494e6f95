/*
 * config.c - load and validate the configuration described by config_keys.c.
 *
 * A load builds a complete struct tgm_config or nothing: the first bad line, key or
 * value stops it with one message naming the file, line and key (or the environment
 * variable). Strings in the struct are owned by it and freed by tgm_config_free.
 */
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CFG_LINE_MAX 4096

/* where a value came from, for error messages */
struct cfg_origin {
	const char *file;
	int line;         /* 0: not from a file */
	const char *what; /* "environment TGM_X_Y", "credential X" or NULL */
};

/* find_key - the key section.key; NULL when there is none */
static const struct tgm_config_key *find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < tgm_config_nkeys; i++)
		if (strcmp(tgm_config_keys[i].section, section) == 0 &&
		    strcmp(tgm_config_keys[i].key, key) == 0)
			return &tgm_config_keys[i];
	return NULL;
}

/* section_exists - whether any key lives in [section] */
static bool section_exists(const char *section)
{
	for (size_t i = 0; i < tgm_config_nkeys; i++)
		if (strcmp(tgm_config_keys[i].section, section) == 0)
			return true;
	return false;
}

/* origin_error - into err: section.key msg, prefixed by where the value came from */
static void origin_error(char *err, size_t errlen, const struct cfg_origin *o,
			 const struct tgm_config_key *k, const char *msg)
{
	if (o->what)
		snprintf(err, errlen, "%s: %s.%s %s", o->what, k->section, k->key, msg);
	else
		snprintf(err, errlen, "%s:%d: %s.%s %s", o->file, o->line, k->section, k->key, msg);
}

/* valid_url - v starts with http:// or https:// */
static bool valid_url(const char *v)
{
	return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
}

/* valid_endpoint - the n bytes at v are a ZeroMQ endpoint: tcp://, ipc:// or inproc:// and more */
static bool valid_endpoint(const char *v, size_t n)
{
	static const char *const schemes[] = { "tcp://", "ipc://", "inproc://", NULL };

	for (int i = 0; schemes[i]; i++) {
		size_t sl = strlen(schemes[i]);
		if (n > sl && strncmp(v, schemes[i], sl) == 0)
			return true;
	}
	return false;
}

/* valid_endpoints - v is a list of one or more endpoints, separated by spaces, tabs or commas */
static bool valid_endpoints(const char *v)
{
	bool any = false;

	while (*v) {
		size_t n = strcspn(v, " ,\t");
		if (n > 0) {
			if (!valid_endpoint(v, n))
				return false;
			any = true;
		}
		v += n;
		v += strspn(v, " ,\t");
	}
	return any;
}

/* valid_listen - v is address:port, with a port of 0 to 65535 */
static bool valid_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	long port;
	char *end;

	if (colon == NULL || colon == v)
		return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno == 0 && *end == '\0' && end != colon + 1 && port >= 0 && port <= 65535;
}

/* valid_hexkey - v is 64 hex digits (a 32-byte key) */
static bool valid_hexkey(const char *v)
{
	if (strlen(v) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)v[i]))
			return false;
	return true;
}

/* valid_choice - v is one of the '|'-separated words that open k's help */
static bool valid_choice(const struct tgm_config_key *k, const char *v)
{
	const char *w = k->help, *end = strchr(k->help, ':');
	size_t n = strlen(v);

	while (w && w < end) {
		size_t len = strcspn(w, "|:");

		if (len == n && strncmp(w, v, n) == 0)
			return true;
		w += len + 1;
	}
	return false;
}

/* duration_unit - the milliseconds of a duration's unit letter, 0 for none */
static int64_t duration_unit(char c)
{
	return c == 's' ? 1000 : c == 'm' ? 60000 : c == 'h' ? 3600000 : c == 'd' ? 86400000 : 0;
}

int tgm_config_durations(const char *v, int64_t *ms, int max)
{
	int n = 0;

	for (v += strspn(v, " ,\t"); *v; v += strspn(v, " ,\t")) {
		char *end;
		double x;
		int64_t unit;

		errno = 0;
		x = strtod(v, &end);
		if (errno || end == v || !(x >= 0) || n == max || (unit = duration_unit(*end)) == 0)
			return -1;
		if (end[1] != '\0' && !strchr(" ,\t", end[1]))
			return -1;
		if (x * (double)unit > 7 * 86400000.0)
			return -1;
		ms[n++] = (int64_t)(x * (double)unit);
		v = end + 1;
	}
	return n;
}

/* check_string - type checks for string-valued keys; returns an error text or NULL */
static const char *check_string(const struct tgm_config_key *k, const char *v)
{
	if (*v == '\0')
		return (k->flags & TGM_CFG_EMPTY_OK) ? NULL : "must not be empty";
	switch (k->type) {
	case TGM_CFG_URL:
		return valid_url(v) ? NULL : "must be an http:// or https:// URL";
	case TGM_CFG_LISTEN:
		return valid_listen(v) ? NULL : "must be address:port";
	case TGM_CFG_ENDPOINT:
		return valid_endpoint(v, strlen(v)) && !strpbrk(v, " ,")
			       ? NULL
			       : "must be one tcp://, ipc:// or inproc:// endpoint";
	case TGM_CFG_ENDPOINTS:
		return valid_endpoints(v)
			       ? NULL
			       : "must be a list of tcp://, ipc:// or inproc:// endpoints";
	case TGM_CFG_HEXKEY:
		return valid_hexkey(v) ? NULL : "must be 64 hexadecimal characters";
	case TGM_CFG_CHOICE:
		return valid_choice(k, v) ? NULL : "is not one of the values its comment lists";
	case TGM_CFG_DURATIONS: {
		int64_t ms[TGM_CONFIG_DURATIONS_MAX];

		return tgm_config_durations(v, ms, TGM_CONFIG_DURATIONS_MAX) >= 0
			       ? NULL
			       : "must be a list of at most 16 durations such as 5s 5m 2h 1d (each up to 7d)";
	}
	default:
		return NULL;
	}
}

/* set_value - parse v for key k and store it in cfg; false with err on a bad value */
static bool set_value(struct tgm_config *cfg, const struct tgm_config_key *k, const char *v,
		      const struct cfg_origin *o, char *err, size_t errlen)
{
	char *slot = (char *)cfg + k->offset;
	char msg[160];
	const char *bad;

	if (k->type == TGM_CFG_INT) {
		long n;
		char *end;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end != '\0') {
			snprintf(msg, sizeof(msg), "must be an integer, not \"%.40s\"", v);
			origin_error(err, errlen, o, k, msg);
			return false;
		}
		if (n < k->min || n > k->max) {
			snprintf(msg, sizeof(msg), "must be between %ld and %ld", k->min, k->max);
			origin_error(err, errlen, o, k, msg);
			return false;
		}
		*(int *)slot = (int)n;
		return true;
	}
	if (k->type == TGM_CFG_LOGLEVEL) {
		int level = tgm_log_level_parse(v);
		if (level < 0) {
			origin_error(err, errlen, o, k,
				     "must be debug, info, notice, warning or error");
			return false;
		}
		*(int *)slot = level;
		return true;
	}
	bad = check_string(k, v);
	if (bad) {
		origin_error(err, errlen, o, k, bad);
		return false;
	}
	free(*(char **)slot);
	*(char **)slot = tgm_xstrdup(v);
	return true;
}

/* trim - s without its leading and trailing white space (cut in place) */
static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* unquote - "value" -> value; false when a quote is not closed */
static bool unquote(char **v)
{
	size_t n = strlen(*v);

	if (n == 0 || (*v)[0] != '"')
		return true;
	if (n < 2 || (*v)[n - 1] != '"')
		return false;
	(*v)[n - 1] = '\0';
	(*v)++;
	return true;
}

/* parse_line - one line of the file: blank, comment, [section] or key = value */
static bool parse_line(struct tgm_config *cfg, char *line, char *section, size_t seclen,
		       const struct cfg_origin *o, char *err, size_t errlen)
{
	char *s = trim(line), *eq, *key, *val;
	const struct tgm_config_key *k;

	if (*s == '\0' || *s == '#' || *s == ';')
		return true;
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (close == NULL || close[1] != '\0') {
			snprintf(err, errlen, "%s:%d: malformed section header", o->file, o->line);
			return false;
		}
		*close = '\0';
		if (!section_exists(trim(s + 1))) {
			snprintf(err, errlen, "%s:%d: unknown section [%.60s]", o->file, o->line,
				 trim(s + 1));
			return false;
		}
		snprintf(section, seclen, "%s", trim(s + 1));
		return true;
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "%s:%d: expected key = value", o->file, o->line);
		return false;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*section == '\0') {
		snprintf(err, errlen, "%s:%d: key \"%.60s\" outside any [section]", o->file,
			 o->line, key);
		return false;
	}
	k = find_key(section, key);
	if (k == NULL) {
		snprintf(err, errlen, "%s:%d: unknown key \"%.60s\" in [%s]", o->file, o->line, key,
			 section);
		return false;
	}
	if (!unquote(&val)) {
		origin_error(err, errlen, o, k, "has an unclosed quote");
		return false;
	}
	return set_value(cfg, k, val, o, err, errlen);
}

/* load_file - read the file at path line by line into cfg; a missing file is fine unless
 * must_exist; false with err set at the first bad line */
static bool load_file(struct tgm_config *cfg, const char *path, bool must_exist, char *err,
		      size_t errlen)
{
	char line[CFG_LINE_MAX], section[64] = "";
	struct cfg_origin o = { path, 0, NULL };
	FILE *f = fopen(path, "r");
	bool ok = true;

	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return true;
		snprintf(err, errlen, "%s: cannot read configuration: %s", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof(line), f)) {
		o.line++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, o.line);
			ok = false;
			break;
		}
		ok = parse_line(cfg, line, section, sizeof(section), &o, err, errlen);
	}
	if (ok && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read configuration: %s", path, strerror(errno));
		ok = false;
	}
	fclose(f);
	return ok;
}

/* env_name - "TGM_" SECTION "_" KEY in upper case */
static void env_name(char *buf, size_t size, const struct tgm_config_key *k)
{
	snprintf(buf, size, "TGM_%s_%s", k->section, k->key);
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

/* load_credential - $CREDENTIALS_DIRECTORY/<section>.<key>, trailing newline cut */
static char *load_credential(const struct tgm_config_key *k)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char path[PATH_MAX];
	char *data;
	size_t len;

	if (dir == NULL || !(k->flags & TGM_CFG_SECRET))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.%s", dir, k->section, k->key);
	data = tgm_read_file(path, 65536, &len);
	if (data == NULL)
		return NULL;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	return data;
}

/* load_overrides - over the file, each key's credential file (secrets only) and then its
 * TGM_SECTION_KEY environment variable, which wins */
static bool load_overrides(struct tgm_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < tgm_config_nkeys; i++) {
		const struct tgm_config_key *k = &tgm_config_keys[i];
		char name[128], what[160];
		struct cfg_origin o = { NULL, 0, what };
		const char *env;
		char *cred;
		bool ok = true;

		env_name(name, sizeof(name), k);
		env = getenv(name);
		cred = env ? NULL : load_credential(k); /* the environment wins */
		if (cred) {
			snprintf(what, sizeof(what), "credential %s.%s", k->section, k->key);
			ok = set_value(cfg, k, cred, &o, err, errlen);
			free(cred);
		}
		if (ok && env) {
			snprintf(what, sizeof(what), "environment %s", name);
			ok = set_value(cfg, k, env, &o, err, errlen);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* load_defaults - every key set to its built-in default */
static bool load_defaults(struct tgm_config *cfg, char *err, size_t errlen)
{
	struct cfg_origin o = { NULL, 0, "built-in default" };

	for (size_t i = 0; i < tgm_config_nkeys; i++)
		if (!set_value(cfg, &tgm_config_keys[i], tgm_config_keys[i].def, &o, err, errlen))
			return false;
	return true;
}

/* check_retention - the [retention] keys that bound each other: a message's events and
 * idempotency key never outlive it (its partition takes its events with it) */
static bool check_retention(const struct tgm_config *cfg, const char *path, char *err,
			    size_t errlen)
{
	int m = cfg->retention.messages_days;

	if (m > 0 && (cfg->retention.events_days == 0 || cfg->retention.events_days > m)) {
		snprintf(err, errlen,
			 "%s: retention.events_days (%d) must be 1 to"
			 " retention.messages_days (%d): events go with their messages",
			 path, cfg->retention.events_days, m);
		return false;
	}
	if (m > 0 && cfg->retention.idempotency_hours > (long)m * 24) {
		snprintf(err, errlen,
			 "%s: retention.idempotency_hours (%d) must be at most"
			 " retention.messages_days (%d) x 24: a key names its message",
			 path, cfg->retention.idempotency_hours, m);
		return false;
	}
	return true;
}

struct tgm_config *tgm_config_load(const char *path, char *err, size_t errlen)
{
	struct tgm_config *cfg = tgm_xcalloc(1, sizeof(*cfg));
	bool explicit_path = path != NULL;

	if (!load_defaults(cfg, err, errlen) ||
	    !load_file(cfg, explicit_path ? path : TGM_DEFAULT_CONFIG, explicit_path, err,
		       errlen) ||
	    !load_overrides(cfg, err, errlen) ||
	    !check_retention(cfg, explicit_path ? path : TGM_DEFAULT_CONFIG, err, errlen)) {
		tgm_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* is_string_type - values of type t are strings the struct owns (all but ints and log levels) */
static bool is_string_type(enum tgm_config_type t)
{
	return t != TGM_CFG_INT && t != TGM_CFG_LOGLEVEL;
}

void tgm_config_free(struct tgm_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < tgm_config_nkeys; i++)
		if (is_string_type(tgm_config_keys[i].type))
			free(*(char **)((char *)cfg + tgm_config_keys[i].offset));
	free(cfg);
}

void tgm_config_print_defaults(FILE *out)
{
	const char *section = "";

	fputs("# tgm.conf - configuration of the tgm daemons and tgmctl.\n"
	      "#\n"
	      "# Generated by `tgmctl config --defaults`: every key with its default.\n"
	      "# Any key can be overridden by the environment variable TGM_<SECTION>_<KEY>,\n"
	      "# e.g. TGM_DATABASE_URL. Secret keys are also read from systemd credentials\n"
	      "# ($CREDENTIALS_DIRECTORY/<section>.<key>). Keys marked (reload) take effect\n"
	      "# on SIGHUP; the others need a restart.\n",
	      out);
	for (size_t i = 0; i < tgm_config_nkeys; i++) {
		const struct tgm_config_key *k = &tgm_config_keys[i];

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		fprintf(out, "# %s%s%s\n", k->help,
			k->flags & TGM_CFG_RELOADABLE ? " (reload)" : "",
			k->flags & TGM_CFG_SECRET ? " (secret)" : "");
		if (k->type == TGM_CFG_STRING || k->type == TGM_CFG_URL ||
		    k->type == TGM_CFG_HEXKEY)
			fprintf(out, "%s = \"%s\"\n", k->key, k->def);
		else
			fprintf(out, "%s = %s\n", k->key, k->def);
	}
}

void tgm_config_warn_unreloadable(const struct tgm_config *old, const struct tgm_config *cur)
{
	for (size_t i = 0; i < tgm_config_nkeys; i++) {
		const struct tgm_config_key *k = &tgm_config_keys[i];
		const char *a = (const char *)old + k->offset, *b = (const char *)cur + k->offset;
		bool changed = is_string_type(k->type)
				       ? strcmp(*(char *const *)a, *(char *const *)b) != 0
				       : *(const int *)a != *(const int *)b;

		if (changed && !(k->flags & TGM_CFG_RELOADABLE))
			log_warn("config: %s.%s changed; it takes effect after a restart",
				 k->section, k->key);
	}
}

int tgm_config_secret_key(const struct tgm_config *cfg, unsigned char key[32])
{
	if (cfg->security.secret_key[0] == '\0')
		return -1;
	return tgm_hex_decode(cfg->security.secret_key, key, 32) == 32 ? 0 : -1;
}
