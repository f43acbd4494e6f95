/*
 * test_multipart.c - multipart/form-data: fields and files, quoted and bare boundaries,
 * and every kind of malformed body refused with a reason.
 */
#include "common/multipart.h"
#include "tests/unit/unit.h"

#define CT "multipart/form-data; boundary=XyZ"

/* parse - parse a NUL-free literal body with CT */
static int parse(const char *ct, const char *body, size_t len, struct tgm_mp_part *p, int max,
		 size_t max_part, char *err)
{
	err[0] = '\0';
	return tgm_multipart_parse(ct, body, len, p, max, max_part, err, 200);
}

int main(void)
{
	struct tgm_mp_part p[4];
	char err[200], b[71];
	static const char ok[] =
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"chat_id\"\r\n\r\n"
		"42\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"photo\"; filename=\"a b.jpg\"\r\n"
		"Content-Type: image/jpeg\r\n\r\n"
		"\xff\xd8\r\n--Xy\x00Z\r\n"
		"--XyZ--\r\n";
	int n;

	n = parse(CT, ok, sizeof(ok) - 1, p, 4, 1000, err);
	CHECK(n == 2);
	CHECK_STR(p[0].name, "chat_id");
	CHECK(!p[0].is_file && p[0].len == 2 && memcmp(p[0].data, "42", 2) == 0);
	CHECK_STR(p[1].name, "photo");
	CHECK(p[1].is_file);
	CHECK_STR(p[1].filename, "a b.jpg");
	CHECK_STR(p[1].content_type, "image/jpeg");
	CHECK(p[1].len == 10 && memcmp(p[1].data, "\xff\xd8\r\n--Xy\x00Z", 10) == 0);

	/* a quoted boundary, a preamble, bare name, no trailing CRLF */
	static const char pre[] = "preamble\r\n--a'b\r\ncontent-disposition: form-data; name=x\r\n"
				  "\r\nv\r\n--a'b--";
	n = parse("multipart/form-data; charset=utf-8; boundary=\"a'b\"", pre, sizeof(pre) - 1, p,
		  4, 10, err);
	CHECK(n == 1);
	CHECK_STR(p[0].name, "x");
	CHECK(p[0].len == 1 && p[0].data[0] == 'v');

	CHECK(tgm_multipart_boundary("Multipart/Form-Data;boundary=q", b));
	CHECK_STR(b, "q");
	CHECK(!tgm_multipart_boundary("multipart/mixed; boundary=q", b));
	CHECK(!tgm_multipart_boundary("multipart/form-data", b));
	CHECK(!tgm_multipart_boundary("multipart/form-data; boundary=\"\"", b));
	CHECK(!tgm_multipart_boundary("multipart/form-data; boundary=\"unterminated", b));

	/* malformed bodies: each refused with its reason */
	static const struct {
		const char *ct, *body, *why;
	} bad[] = {
		{ "application/json", "{}", "no boundary" },
		{ NULL, "", "no boundary" },
		{ CT, "", "no opening boundary" },
		{ CT, "nothing here", "no opening boundary" },
		{ CT, "--XyZ", "not followed by CRLF" },
		{ CT, "--XyZxx", "not followed by CRLF" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n", "not terminated" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue",
		  "not terminated" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--",
		  "bad part headers" },
		{ CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--",
		  "bad part headers" },
		{ CT, "--XyZ\r\nno colon\r\n\r\nv\r\n--XyZ--", "bad part headers" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--",
		  "bad part headers" },
		{ CT,
		  "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n0123456789A\r\n--XyZ--",
		  "part too large" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = parse(bad[i].ct, bad[i].body, strlen(bad[i].body), p, 4, 10, err);
		CHECK(n == -1);
		CHECK_CONTAINS(err, bad[i].why);
	}
	/* too many parts */
	static const char many[] =
		"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
		"--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--XyZ--";
	CHECK(parse(CT, many, sizeof(many) - 1, p, 1, 10, err) == -1);
	CHECK_CONTAINS(err, "too many parts");
	CHECK(parse(CT, many, sizeof(many) - 1, p, 2, 10, err) == 2);
	/* a body cut anywhere is refused or parsed within its bounds, never read past */
	for (size_t cut = 0; cut < sizeof(ok) - 1; cut++) {
		n = parse(CT, ok, cut, p, 4, 1000, err);
		CHECK(n == -1 || (n >= 0 && n <= 2));
	}
	return unit_done("multipart");
}
