/*
 * daemon: `mojosync run`.  One libevent loop: a cycle now, then one every
 * interval (jittered), a reconciliation every reconcile_interval, signals
 * (SIGTERM/SIGINT stop, SIGHUP reloads), the systemd watchdog and the
 * metrics endpoint.  Never forks; systemd does the rest.
 */
#ifndef MOJOSYNC_DAEMON_H
#define MOJOSYNC_DAEMON_H

struct config;

/* Runs until stopped; takes cfg.  Returns the exit status. */
int daemon_run(struct config *cfg);

#endif
