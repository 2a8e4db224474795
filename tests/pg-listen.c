/*
 * pg-listen CHANNEL SECONDS: LISTEN on CHANNEL (libpq, connection from the
 * PG* variables) and print each notification's payload as a line, until
 * SECONDS have passed.  Prints "listening" once the LISTEN is in force.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(int argc, char **argv)
{
	PGconn *conn;
	PGresult *res;
	PGnotify *n;
	char *ident, sql[512];
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: pg-listen CHANNEL SECONDS\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[2]);
	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "pg-listen: %s", PQerrorMessage(conn));
		return 1;
	}
	ident = PQescapeIdentifier(conn, argv[1], strlen(argv[1]));
	snprintf(sql, sizeof(sql), "listen %s", ident);
	PQfreemem(ident);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pg-listen: %s", PQerrorMessage(conn));
		return 1;
	}
	PQclear(res);
	printf("listening\n");
	fflush(stdout);
	while (time(NULL) < end) {
		struct pollfd p = { PQsocket(conn), POLLIN, 0 };

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (!PQconsumeInput(conn))
			break;
		while ((n = PQnotifies(conn)) != NULL) {
			printf("%s\n", n->extra);
			fflush(stdout);
			PQfreemem(n);
		}
	}
	PQfinish(conn);
	return 0;
}
