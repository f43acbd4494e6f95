/*
 * quickreply.c - a quick reply's text made for one user: {first_name}, {last_name},
 * {username} and {name} (first and last name) filled in; other braces are left as
 * they are. No I/O: unit-tested (tests/unit/test_quickreply.c).
 */
#include "gatewayd/inbox.h"
#include "common/buf.h"

#include <string.h>

/* variable - the value of the variable at s ("{name}" ...) and its length, or NULL */
static const char *variable(const char *s, size_t *len, const char *first, const char *last,
			    const char *username, const char *name)
{
	static const char *const names[] = { "{first_name}", "{last_name}", "{username}",
					     "{name}" };
	const char *values[] = { first, last, username, name };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*len = strlen(names[i]);
		if (strncmp(s, names[i], *len) == 0)
			return values[i] ? values[i] : "";
	}
	return NULL;
}

char *gw_quickreply_render(const char *text, const char *first, const char *last,
			   const char *username)
{
	struct tgm_buf out, name;
	const char *v;
	size_t len;

	tgm_buf_init(&name);
	tgm_buf_printf(&name, "%s%s%s", first ? first : "", first && *first && last && *last
		       ? " " : "", last ? last : "");
	tgm_buf_init(&out);
	for (const char *s = text; *s; s++) {
		if (*s == '{' && (v = variable(s, &len, first, last, username, name.p))) {
			tgm_buf_adds(&out, v);
			s += len - 1;
		} else {
			tgm_buf_addc(&out, *s);
		}
	}
	tgm_buf_free(&name);
	return tgm_buf_steal(&out);
}
