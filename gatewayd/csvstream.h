/*
 * csvstream.h - a CSV answer streamed in batches (csvstream.c).
 */
#ifndef GW_CSVSTREAM_H
#define GW_CSVSTREAM_H

#include "gatewayd/gatewayd.h"

/* gw_csv_part - one query of a CSV stream: its parameters are the stream's, then the
 * cursor ($n+1, first at `first`); each row is ncols cells, then the cursor of the
 * next batch; at most 1000 rows (LIMIT 1000), fewer when the part is done. Bit i of
 * guard marks column i as free text. Borrowed for the stream's life (static). */
struct gw_csv_part {
	const char *sql;
	int ncols;
	unsigned guard;
	const char *first;
};

/* gw_csv_stream - answer r with header (its line, CRLF-ended), then the rows of each
 * part in turn; takes r over (it is freed at once); params are copied */
void gw_csv_stream(struct gw_req *r, const char *filename, const char *header,
		   const struct gw_csv_part *parts, int nparts, const char *const *params,
		   int nparams);

#endif
