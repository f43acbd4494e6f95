/*
 * autorecharge.h - /autorecharge's arguments, parsed in C (the SQL function
 * bd_autorecharge only records what they say).
 */
#ifndef BILLINGD_AUTORECHARGE_H
#define BILLINGD_AUTORECHARGE_H

#include <stdbool.h>
#include <stdint.h>

/* bd_autorecharge - what /autorecharge asks for */
struct bd_autorecharge {
	bool on;         /* false: off */
	int64_t credits; /* on: the package bought (its credits) */
	int64_t below;   /* on: bought when the balance falls under this (> 0) */
};

/*
 * bd_autorecharge_parse - "off" or "on <credits> <below>" (NULL or anything else:
 * false, answer with the usage); words after these are ignored
 */
bool bd_autorecharge_parse(const char *args, struct bd_autorecharge *out);

#endif
