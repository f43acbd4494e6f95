/*
 * test_buf.c - growable buffers and PostgreSQL array literals (quoting, NULL, empty).
 */
#include "common/buf.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

int main(void)
{
	struct tgm_buf b;
	char *s;

	tgm_buf_init(&b);
	tgm_buf_adds(&b, "ab");
	tgm_buf_printf(&b, "%d-%s", 42, "x");
	CHECK_STR(b.p, "ab42-x");
	tgm_buf_reset(&b);
	CHECK_STR(b.p, "");
	for (int i = 0; i < 1000; i++)
		tgm_buf_addc(&b, 'z');
	CHECK(b.len == 1000 && b.p[1000] == '\0');
	tgm_buf_free(&b);

	tgm_pgarr_end(&b);
	CHECK_STR(b.p, "{}");
	tgm_buf_free(&b);
	tgm_pgarr_add(&b, "plain");
	tgm_pgarr_add(&b, NULL);
	tgm_pgarr_add(&b, "say \"hi\" \\ ok");
	tgm_pgarr_add(&b, "");
	tgm_pgarr_add(&b, "{\"json\":[1,2]}");
	tgm_pgarr_end(&b);
	CHECK_STR(b.p, "{\"plain\",NULL,\"say \\\"hi\\\" \\\\ ok\",\"\",\"{\\\"json\\\":[1,2]}\"}");
	s = tgm_buf_steal(&b);
	CHECK(b.p == NULL && b.len == 0);
	free(s);
	return unit_done("buf");
}
