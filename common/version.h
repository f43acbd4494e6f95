/*
 * version.h - the version tgm was built as (git describe), from build/gen/version.c,
 * which the Makefile rewrites only when the version changes.
 */
#ifndef TGM_VERSION_H
#define TGM_VERSION_H

extern const char tgm_version[];

#endif
