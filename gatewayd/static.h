/*
 * static.h - the dashboard's files compiled into gatewayd (build/gen/dashboard.c).
 */
#ifndef GW_STATIC_H
#define GW_STATIC_H

#include <stddef.h>

struct gw_asset {
	const char *name; /* its path within dashboard/, e.g. "app.js" */
	const unsigned char *data;
	size_t len;
};

/* the table, ending with a NULL name */
extern const struct gw_asset gw_assets[];

#endif
