/*
 * status.c - `tgmctl status`: is the database reachable and current, which daemons
 * are alive (their heartbeats, and the HTTP ones' /healthz), how deep each bot's
 * queue is. Like `systemctl is-active`, exit status 1 when anything is down: the
 * database (unreachable or behind), a daemon that has run here and is now stopped or
 * silent, or the /healthz of gatewayd or webhookd while it runs.
 */
#include "tgmctl/tgmctl.h"
#include "common/db.h"
#include "common/migrate.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define ALIVE_S "15"

/* discard - curl's write callback for /healthz: drops the body */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* http_health - GET http://listen/healthz; prints the outcome, true on HTTP 200 */
static bool http_health(const char *name, const char *listen)
{
	char url[300];
	long code = 0;
	CURL *h = curl_easy_init();
	CURLcode rc;

	snprintf(url, sizeof(url), "http://%s/healthz", listen);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK)
		printf("  %-10s %s: unreachable (%s)\n", name, url, curl_easy_strerror(rc));
	else
		printf("  %-10s %s: HTTP %ld%s\n", name, url, code, code == 200 ? " ok" : "");
	return rc == CURLE_OK && code == 200;
}

/* print_daemons - the heartbeat rows; returns how many are not alive (-1: no answer) */
static int print_daemons(PGconn *conn)
{
	PGresult *r = tgm_db_query(conn,
				   "SELECT name, instance, host, pid,"
				   " CASE WHEN stopped_at IS NOT NULL THEN 'stopped'"
				   "      WHEN seen_at > now() - interval '" ALIVE_S
				   " seconds' THEN 'alive'"
				   "      ELSE 'silent' END,"
				   " extract(epoch FROM now() - seen_at)::int, version"
				   " FROM daemons ORDER BY name, instance, host",
				   0, NULL, NULL, 0);
	int down = 0;

	printf("daemons (heartbeats):\n");
	for (int i = 0; r && i < PQntuples(r); i++)
		printf("  %-10s %-4s %-20s pid %-7s %-8s seen %ss ago  %s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		       PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
	for (int i = 0; r && i < PQntuples(r); i++)
		down += strcmp(PQgetvalue(r, i, 4), "alive") != 0;
	if (r && PQntuples(r) == 0)
		printf("  none has run yet\n");
	PQclear(r);
	return r ? down : -1;
}

/* daemon_alive - true when name has a fresh heartbeat (it should answer /healthz) */
static bool daemon_alive(PGconn *conn, const char *name)
{
	const char *p[1] = { name };
	PGresult *r = tgm_db_query(conn,
				   "SELECT 1 FROM daemons WHERE name = $1"
				   " AND stopped_at IS NULL"
				   " AND seen_at > now() - interval '" ALIVE_S " seconds'",
				   1, p, NULL, 0);
	bool alive = r && PQntuples(r) > 0;

	PQclear(r);
	return alive;
}

/* print_queues - prints the messages waiting (queued, retrying, sending) per bot */
static void print_queues(PGconn *conn)
{
	PGresult *r = tgm_db_query(
		conn,
		"SELECT b.id, b.username, count(m.id)"
		" FROM bots b LEFT JOIN messages m ON m.bot_id = b.id"
		"  AND m.status IN ('queued', 'retrying', 'sending')"
		" WHERE b.deleted_at IS NULL GROUP BY b.id, b.username ORDER BY b.id",
		0, NULL, NULL, 0);

	printf("queue depth per bot:\n");
	for (int i = 0; r && i < PQntuples(r); i++)
		printf("  bot %-6s @%-24s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2));
	if (r && PQntuples(r) == 0)
		printf("  no bots\n");
	PQclear(r);
}

int ctl_status(struct ctl *c, int argc, char **argv)
{
	char err[512];
	PGconn *conn;
	int have, down = 0;
	bool gw = false, wh = false, current;

	if (argc > 0)
		return ctl_usage_error("status takes no arguments");
	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	have = tgm_schema_version(conn, err, sizeof(err));
	current = tgm_schema_check(conn, err, sizeof(err));
	printf("database: reachable, schema version %d (this build needs %d)%s%s\n", have,
	       tgm_schema_wanted(), current ? "" : ": ", current ? "" : err);
	if (!current)
		down++;
	else {
		int n = print_daemons(conn);

		down += n < 0 ? 1 : n;
		print_queues(conn);
		gw = daemon_alive(conn, "gatewayd");
		wh = daemon_alive(conn, "webhookd");
	}
	PQfinish(conn);
	printf("http:\n");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	down += !http_health("gatewayd", c->cfg->gatewayd.listen) && gw;
	down += !http_health("webhookd", c->cfg->webhookd.listen) && wh;
	curl_global_cleanup();
	printf(down ? "state: %d down\n" : "state: ok\n", down);
	return down ? 1 : 0;
}
