/*
 * uservars.c - a text made for one person (see uservars.h): each {variable} of the
 * template replaced by the person's value, in one pass over the template. No I/O:
 * unit-tested (tests/unit/test_uservars.c).
 */
#include "common/uservars.h"
#include "common/buf.h"

#include <stdio.h>
#include <string.h>

#define NVARS 6

static const char *const names[NVARS] = { "{first_name}", "{last_name}", "{username}",
					  "{name}",       "{bot_name}",  "{user_id}" };

/* value - the value of the variable at s and its length, or NULL (none, or no value) */
static const char *value(const char *s, size_t *len, const char *const values[NVARS])
{
	for (size_t i = 0; i < NVARS; i++) {
		*len = strlen(names[i]);
		if (strncmp(s, names[i], *len) == 0)
			return values[i];
	}
	return NULL;
}

/* or_empty - s, or "" for NULL */
static const char *or_empty(const char *s)
{
	return s ? s : "";
}

char *tgm_uservars_fill(const char *tmpl, const struct tgm_uservars *u)
{
	const char *first = or_empty(u->first_name), *last = or_empty(u->last_name), *v;
	struct tgm_buf out, name;
	char id[24];
	size_t len;

	snprintf(id, sizeof(id), "%lld", (long long)u->user_id);
	tgm_buf_init(&name);
	tgm_buf_printf(&name, "%s%s%s", first, *first && *last ? " " : "", last);
	const char *const values[NVARS] = { first,
					    last,
					    or_empty(u->username),
					    name.p,
					    or_empty(u->bot_name),
					    u->user_id ? id : NULL };
	tgm_buf_init(&out);
	for (const char *s = tmpl; *s; s++) {
		if (*s == '{' && (v = value(s, &len, values))) {
			tgm_buf_adds(&out, v);
			s += len - 1;
		} else {
			tgm_buf_addc(&out, *s);
		}
	}
	tgm_buf_free(&name);
	return tgm_buf_steal(&out);
}
