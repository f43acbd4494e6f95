/*
 * dbconn.c - which URL each database connection of a daemon takes: session_url for
 * the ones that need a session, url (pooled when session_url is set) for the rest.
 */
#include "common/dbconn.h"
#include "common/db.h"

const char *tgm_dbconn_url(const struct tgm_config *cfg, enum tgm_dbconn_need need)
{
	const char *s = cfg->database.session_url;

	return need == TGM_DBCONN_SESSION && s && *s ? s : cfg->database.url;
}

struct tgm_pg *tgm_dbconn_async(struct event_base *base, const struct tgm_config *cfg,
				const char *app, enum tgm_dbconn_need need)
{
	const char *s = cfg->database.session_url;
	struct tgm_pg *pg = tgm_pg_new(base, tgm_dbconn_url(cfg, need), app);

	if (need == TGM_DBCONN_POOLED && s && *s)
		tgm_pg_pooled(pg);
	return pg;
}

PGconn *tgm_dbconn_sync(const struct tgm_config *cfg, const char *app, char *err, size_t errlen)
{
	return tgm_db_connect(tgm_dbconn_url(cfg, TGM_DBCONN_SESSION),
			      cfg->database.connect_timeout, app, err, errlen);
}
