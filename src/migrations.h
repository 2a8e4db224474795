/* migrations: the files of sql/, embedded at build time (build-aux/sql2c.sh). */
#ifndef MOJOSYNC_MIGRATIONS_H
#define MOJOSYNC_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int version;		/* NNN of NNN_name.sql, ascending */
	const char *name;	/* NNN_name */
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

#endif
