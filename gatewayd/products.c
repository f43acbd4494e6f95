/*
 * products.c - what a bot sells and what was paid: GET, POST /v1/bots/{id}/products,
 * PATCH and DELETE /v1/bots/{id}/products/{product_id} (a delete only deactivates:
 * payments refer to products), and GET /v1/bots/{id}/payments with each payment's
 * refunds and disputes, paged by id like the messages. billingd sells the products
 * and records the payments; this file only shows and edits them.
 */
#include "gatewayd/gatewayd.h"
#include "common/util.h"

#include <ctype.h>
#include <string.h>

#define PRODUCT_JSON \
	"json_build_object('id', p.id, 'bot_id', p.bot_id, 'label', p.label," \
	" 'credits', p.credits, 'pass_seconds', p.pass_seconds, 'price', p.price," \
	" 'currency', p.currency, 'stripe_price_id', p.stripe_price_id," \
	" 'stars_price', p.stars_price, 'active', p.active, 'created_at', p.created_at)"

/* clang-format off */
#define BOT_OF_PATH "SELECT id FROM bots WHERE id = $1 AND tenant_id = $2" \
	" AND deleted_at IS NULL"
/* clang-format on */

static const char list_sql[] =
	"SELECT json_build_object('products', (SELECT coalesce(json_agg(" PRODUCT_JSON
	" ORDER BY p.id), '[]') FROM products p WHERE p.bot_id = b.id))"
	" FROM (" BOT_OF_PATH ") b";

/* $3..$10: label, credits, pass_seconds, price, currency, stripe_price_id, stars_price,
 * active (NULL: not given) */
/* audited with the change: $n source, $n+1 actor (after the other parameters) */
/* clang-format off */
#define AUDIT(action, src, act) \
	" a AS (SELECT " GW_AUDIT_SQL("$2", "p.bot_id", src, act, "'" action "'", "p.id::text", \
				     "to_jsonb(p) - 'bot_id'") " FROM p)"

static const char insert_sql[] =
	"WITH p AS (INSERT INTO products AS p (bot_id, label, credits, pass_seconds, price,"
	"  currency, stripe_price_id, stars_price, active)"
	" SELECT b.id, $3, coalesce($4::bigint, 0), coalesce($5::bigint, 0), $6::bigint,"
	"  coalesce($7, 'usd'), $8, $9::bigint, coalesce($10::boolean, true)"
	" FROM (" BOT_OF_PATH ") b RETURNING p.*)," AUDIT("product.create", "$11", "$12")
	" SELECT " PRODUCT_JSON " FROM p WHERE (SELECT count(*) FROM a) >= 0";

/* $12, $13: whether stripe_price_id and stars_price were given (null clears them) */
static const char update_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" p AS (UPDATE products p SET label = coalesce($4, p.label),"
	"  credits = coalesce($5::bigint, p.credits),"
	"  pass_seconds = coalesce($6::bigint, p.pass_seconds),"
	"  price = coalesce($7::bigint, p.price), currency = coalesce($8, p.currency),"
	"  stripe_price_id = CASE WHEN $12::boolean THEN $9 ELSE p.stripe_price_id END,"
	"  stars_price = CASE WHEN $13::boolean THEN $10::bigint ELSE p.stars_price END,"
	"  active = coalesce($11::boolean, p.active)"
	"  FROM b WHERE p.id = $3 AND p.bot_id = b.id RETURNING p.*),"
	AUDIT("product.update", "$14", "$15")
	" SELECT (SELECT count(*) FROM b), (SELECT " PRODUCT_JSON " FROM p),"
	" (SELECT count(*) FROM a)";

static const char deactivate_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" p AS (UPDATE products p SET active = false FROM b"
	"  WHERE p.id = $3 AND p.bot_id = b.id RETURNING p.*),"
	AUDIT("product.deactivate", "$4", "$5")
	" SELECT (SELECT count(*) FROM b), (SELECT " PRODUCT_JSON " FROM p),"
	" (SELECT count(*) FROM a)";
/* clang-format on */

#define PAYMENT_JSON \
	"json_build_object('id', p.id, 'user_id', p.user_id, 'product_id', p.product_id," \
	" 'kind', p.kind, 'status', p.status, 'amount', p.amount, 'currency', p.currency," \
	" 'credits', p.credits, 'pass_seconds', p.pass_seconds," \
	" 'refunded_amount', p.refunded_amount, 'refunded_credits', p.refunded_credits," \
	" 'owed', p.owed, 'checkout_session_id', p.checkout_session_id," \
	" 'payment_intent_id', p.payment_intent_id," \
	" 'telegram_charge_id', p.telegram_charge_id, 'failure', p.failure," \
	" 'created_at', p.created_at, 'paid_at', p.paid_at, 'updated_at', p.updated_at," \
	" 'disputes', (SELECT coalesce(json_agg(json_build_object('id', d.id," \
	"  'amount', d.amount, 'currency', d.currency, 'reason', d.reason," \
	"  'status', d.status, 'created_at', d.created_at, 'alerted_at', d.alerted_at)" \
	"  ORDER BY d.created_at, d.id), '[]') FROM disputes d WHERE d.payment_id = p.id))"

/* clang-format off */
static const char payments_sql[] =
	"SELECT x.j, x.id FROM (" BOT_OF_PATH ") b LEFT JOIN LATERAL ("
	"  SELECT " PAYMENT_JSON " AS j, p.id FROM payments p WHERE p.bot_id = b.id"
	"   AND ($3::text IS NULL OR p.status = $3)"
	"   AND ($4::bigint IS NULL OR p.user_id = $4)"
	"   AND ($5::boolean IS NULL OR (p.refunded_amount > 0) = $5)"
	"   AND ($6::boolean IS NULL OR EXISTS (SELECT 1 FROM disputes d"
	"        WHERE d.payment_id = p.id) = $6)"
	"   AND ($7::bigint IS NULL OR p.id < $7)"
	"   ORDER BY p.id DESC LIMIT $8) x ON true"
	" ORDER BY x.id DESC";
/* clang-format on */

enum pf_type { PF_TEXT, PF_INT, PF_BOOL };

/* pfield - one field of a product: its type, range (of characters for text) and rule */
struct pfield {
	const char *name;
	enum pf_type type;
	int64_t min, max;
	bool nullable;
	bool (*ok)(const char *s); /* text: what else it must be */
	const char *rule;
};

enum { F_LABEL, F_CREDITS, F_PASS, F_PRICE, F_CURRENCY, F_STRIPE, F_STARS, F_ACTIVE, NF };

/* product_in - a body's product fields as query parameters (NULL: not given or null) */
struct product_in {
	const char *v[NF];
	bool given[NF];
	char num[NF][24];
};

/* not_blank - s has a character other than white space */
static bool not_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return true;
	return false;
}

/* is_currency - three lowercase letters (an ISO 4217 code as Stripe writes it) */
static bool is_currency(const char *s)
{
	return strlen(s) == 3 && islower((unsigned char)s[0]) && islower((unsigned char)s[1]) &&
	       islower((unsigned char)s[2]);
}

/* is_stripe_id - only letters, digits and underscores */
static bool is_stripe_id(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static const struct pfield fields[NF] = {
	[F_LABEL] = { "label", PF_TEXT, 1, 64, false, not_blank,
		      "label must be a string of 1 to 64 characters, not only spaces" },
	[F_CREDITS] = { "credits", PF_INT, 0, 1000000000, false, NULL,
			"credits must be an integer from 0 to 1000000000" },
	[F_PASS] = { "pass_seconds", PF_INT, 0, 315360000, false, NULL,
		     "pass_seconds must be an integer from 0 to 315360000 (10 years)" },
	[F_PRICE] = { "price", PF_INT, 1, 99999999, false, NULL,
		      "price must be an integer from 1 to 99999999, in minor units" },
	[F_CURRENCY] = { "currency", PF_TEXT, 3, 3, false, is_currency,
			 "currency must be 3 lowercase letters, e.g. usd" },
	[F_STRIPE] = { "stripe_price_id", PF_TEXT, 1, 255, true, is_stripe_id,
		       "stripe_price_id must be null or 1 to 255 letters, digits or _" },
	[F_STARS] = { "stars_price", PF_INT, 1, 1000000, true, NULL,
		      "stars_price must be null or an integer from 1 to 1000000" },
	[F_ACTIVE] = { "active", PF_BOOL, 0, 0, false, NULL, "active must be true or false" },
};

/* utf8_chars - the characters of s, as PostgreSQL's length() counts them */
static int64_t utf8_chars(const char *s)
{
	int64_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* read_value - one field's value into in; false when it breaks the field's rule */
static bool read_value(int f, yajl_val v, struct product_in *in)
{
	const struct pfield *pf = &fields[f];
	int64_t n;

	in->given[f] = true;
	in->v[f] = NULL;
	if (YAJL_IS_NULL(v))
		return pf->nullable;
	if (pf->type == PF_BOOL) {
		in->v[f] = YAJL_IS_TRUE(v) ? "true" : "false";
		return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
	}
	if (pf->type == PF_TEXT) {
		in->v[f] = YAJL_IS_STRING(v) ? v->u.string : NULL;
		n = in->v[f] ? utf8_chars(in->v[f]) : -1;
		return n >= pf->min && n <= pf->max && (pf->ok == NULL || pf->ok(in->v[f]));
	}
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < pf->min || YAJL_GET_INTEGER(v) > pf->max)
		return false;
	snprintf(in->num[f], sizeof(in->num[f]), "%lld", (long long)YAJL_GET_INTEGER(v));
	in->v[f] = in->num[f];
	return true;
}

/* read_product - every field of the body checked; false after a 422 */
static bool read_product(struct gw_req *r, struct product_in *in)
{
	yajl_val body = r->body;
	int f;

	memset(in, 0, sizeof(*in));
	for (size_t i = 0; body && i < body->u.object.len; i++) {
		for (f = 0; f < NF && strcmp(fields[f].name, body->u.object.keys[i]); f++)
			;
		if (f == NF) {
			gw_reply_problem(r, 422, "unknown_field",
					 "a product has label, credits,"
					 " pass_seconds, price, currency, stripe_price_id,"
					 " stars_price and active",
					 body->u.object.keys[i]);
			return false;
		}
		if (!read_value(f, body->u.object.values[i], in)) {
			gw_reply_problem(r, 422, "invalid_field", fields[f].rule, fields[f].name);
			return false;
		}
	}
	return true;
}

void gw_products_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_bot_path(r, tenant))
		gw_query_sql(r, list_sql, 2, p, gw_on_bot_json);
}

/* on_created - the product's INSERT answered: 201, or 404 without the bot */
static void on_created(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 0));
}

/* must_have - a new product's required fields; false after a 422 */
static bool must_have(struct gw_req *r, const struct product_in *in)
{
	if (in->v[F_LABEL] == NULL || in->v[F_PRICE] == NULL) {
		int f = in->v[F_LABEL] == NULL ? F_LABEL : F_PRICE;
		gw_reply_problem(r, 422, "invalid_field", fields[f].rule, fields[f].name);
		return false;
	}
	if ((in->v[F_CREDITS] == NULL || strcmp(in->v[F_CREDITS], "0") == 0) &&
	    (in->v[F_PASS] == NULL || strcmp(in->v[F_PASS], "0") == 0)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "a product gives credits or pass_seconds"
				 " (or both): one of them must be above 0",
				 "credits");
		return false;
	}
	return true;
}

/* params - the query's first parameters: the bot id, the tenant and the fields from p[at] */
static void params(struct gw_req *r, const struct product_in *in, int at, const char **p,
		   const char *tenant)
{
	p[0] = tgm_http_param(&r->params, "id");
	p[1] = tenant;
	memcpy(&p[at], in->v, sizeof(in->v));
}

void gw_products_create(struct gw_req *r)
{
	struct product_in in;
	char tenant[24], source[16], actor[24];
	const char *p[12];

	if (!read_product(r, &in) || !must_have(r, &in) || !gw_bot_path(r, tenant))
		return;
	gw_audit_actor(r, source, actor);
	params(r, &in, 2, p, tenant);
	p[2 + NF] = source;
	p[3 + NF] = actor;
	gw_query_sql(r, insert_sql, 12, p, on_created);
}

/* on_changed - a product's UPDATE answered; a product must give something */
static void on_changed(struct gw_req *r, PGresult *res, const char *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (err && state && strcmp(state, "23514") == 0) /* credits > 0 OR pass_seconds > 0 */
		gw_reply_problem(r, 422, "invalid_field",
				 "a product gives credits or pass_seconds"
				 " (or both): one of them must be above 0",
				 "credits");
	else if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (PQgetisnull(res, 0, 1))
		gw_reply_problem(r, 404, "product_not_found", "no such product of this bot", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 1));
}

/* product_path - the bot and the {product_id} of the path; false after a 404 */
static bool product_path(struct gw_req *r, char tenant[24])
{
	int64_t id;

	if (!gw_bot_path(r, tenant))
		return false;
	if (!gw_path_id(r, "product_id", &id)) {
		gw_reply_problem(r, 404, "product_not_found", "no such product of this bot", NULL);
		return false;
	}
	return true;
}

void gw_products_update(struct gw_req *r)
{
	struct product_in in;
	char tenant[24], source[16], actor[24];
	const char *p[15];

	if (!read_product(r, &in) || !product_path(r, tenant))
		return;
	gw_audit_actor(r, source, actor);
	p[2] = tgm_http_param(&r->params, "product_id");
	params(r, &in, 3, p, tenant);
	p[3 + NF] = in.given[F_STRIPE] ? "true" : "false";
	p[4 + NF] = in.given[F_STARS] ? "true" : "false";
	p[5 + NF] = source;
	p[6 + NF] = actor;
	gw_query_sql(r, update_sql, 15, p, on_changed);
}

void gw_products_delete(struct gw_req *r)
{
	char tenant[24], source[16], actor[24];
	const char *p[5] = { tgm_http_param(&r->params, "id"), tenant,
			     tgm_http_param(&r->params, "product_id"), source, actor };

	gw_audit_actor(r, source, actor);
	if (product_path(r, tenant))
		gw_query_sql(r, deactivate_sql, 5, p, on_changed);
}

/* on_payments - a page of payments */
static void on_payments(struct gw_req *r, PGresult *res, const char *err)
{
	gw_reply_page(r, res, err, "payments");
}

/* bool_param - an optional true/false query parameter; false after a 422 */
static bool bool_param(struct gw_req *r, const char *name, const char **out)
{
	char detail[64];

	*out = gw_query(r, name);
	if (*out == NULL || strcmp(*out, "true") == 0 || strcmp(*out, "false") == 0)
		return true;
	snprintf(detail, sizeof(detail), "%s must be true or false", name);
	gw_reply_problem(r, 422, "invalid_parameter", detail, name);
	return false;
}

/* payment_filters - status, user_id, refunded, disputed; false after a 422 */
static bool payment_filters(struct gw_req *r, const char *p[4])
{
	static const char *const statuses[] = { "open", "paid", "failed", "expired", NULL };
	int64_t user;
	int i;

	p[0] = gw_query(r, "status");
	for (i = 0; p[0] && statuses[i] && strcmp(p[0], statuses[i]); i++)
		;
	if (p[0] && statuses[i] == NULL) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "status must be open, paid, failed"
				 " or expired",
				 "status");
		return false;
	}
	p[1] = gw_query(r, "user_id");
	if (p[1] && (!tgm_parse_int64(p[1], &user) || user <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "user_id must be a positive integer",
				 "user_id");
		return false;
	}
	return bool_param(r, "refunded", &p[2]) && bool_param(r, "disputed", &p[3]);
}

void gw_payments_list(struct gw_req *r)
{
	char tenant[24];
	const char *f[4];
	struct gw_page pg;

	if (!payment_filters(r, f) || !gw_page_params(r, &pg) || !gw_bot_path(r, tenant))
		return;
	{
		const char *p[8] = { tgm_http_param(&r->params, "id"),
				     tenant,
				     f[0],
				     f[1],
				     f[2],
				     f[3],
				     pg.after,
				     pg.fetch };
		gw_query_sql(r, payments_sql, 8, p, on_payments);
	}
}
