/* mock_server.h - runs one of the fake servers of tests/mock/ (python3 stdlib) for a unit
 * test: the script gets a port file and a request log in dir, binds 127.0.0.1 port 0 and
 * writes its port there; we wait (bounded, 5 s) for it. Header-only: each test is its own
 * program. */
#ifndef CALLBOT_TESTS_MOCK_SERVER_H
#define CALLBOT_TESTS_MOCK_SERVER_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

extern char **environ;

struct mock_server {
	pid_t pid;
	int port;
	char log[300];
};

/* script: a file name in tests/mock/ (found via CALLBOT_TEST_DATA); name: the prefix of
 * its files in dir. Returns 0 once the server listens. */
static inline int mock_server_start(struct mock_server *m, const char *dir, const char *script,
				    const char *name)
{
	char portfile[300], path[600], *buf;
	char *argv[5];

	snprintf(portfile, sizeof(portfile), "%s/%s.port", dir, name);
	snprintf(m->log, sizeof(m->log), "%s/%s.log", dir, name);
	snprintf(path, sizeof(path), "%s/../mock/%s", getenv("CALLBOT_TEST_DATA"), script);
	argv[0] = "/usr/bin/python3";
	argv[1] = path;
	argv[2] = portfile;
	argv[3] = m->log;
	argv[4] = NULL;
	if (posix_spawn(&m->pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	for (int i = 0; i < 100; i++) {
		if (file_read_all(portfile, 64, &buf, NULL) == 0) {
			m->port = atoi(buf);
			free(buf);
			unlink(portfile);
			return 0;
		}
		usleep(50 * 1000);
	}
	return -1;
}

static inline void mock_server_stop(struct mock_server *m)
{
	if (m->pid <= 0)
		return;
	kill(m->pid, SIGTERM);
	waitpid(m->pid, NULL, 0);
	m->pid = 0;
	unlink(m->log);
}

#endif
