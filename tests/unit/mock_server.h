/* mock_server.h - runs one of the fake servers of tests/mock/ (python3 stdlib) for a unit
 * test. Two start-up protocols: mock_server_start gives the script a port file and a request
 * log in dir (it binds 127.0.0.1 port 0 and writes its port there); mock_server_start_stdout
 * reads "PORT n" from the script's stdout (the STT and TTS fakes, also used by bench/). We
 * wait for either at most a few seconds. Header-only: each test is its own program. */
#ifndef CALLBOT_TESTS_MOCK_SERVER_H
#define CALLBOT_TESTS_MOCK_SERVER_H

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
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

/* script is run with "--lifetime 60" (it exits by itself if the test dies); no request log. */
static inline int mock_server_start_stdout(struct mock_server *m, const char *script)
{
	char path[600], line[64] = "";
	char *argv[] = { "/usr/bin/python3", path, "--lifetime", "60", NULL };
	posix_spawn_file_actions_t fa;
	size_t got = 0;
	int fd[2], rc;

	m->log[0] = '\0';
	snprintf(path, sizeof(path), "%s/../mock/%s", getenv("CALLBOT_TEST_DATA"), script);
	if (pipe(fd))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	rc = posix_spawn(&m->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	while (!rc && got < sizeof(line) - 1 && !strchr(line, '\n')) {
		struct pollfd p = { fd[0], POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, 10000) <= 0)
			break;
		k = read(fd[0], line + got, sizeof(line) - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		line[got] = '\0';
	}
	close(fd[0]);
	if (rc || sscanf(line, "PORT %d", &m->port) != 1) {
		fprintf(stderr, "fake server %s did not start\n", path);
		return -1;
	}
	return 0;
}

static inline void mock_server_stop(struct mock_server *m)
{
	if (m->pid <= 0)
		return;
	kill(m->pid, SIGTERM);
	waitpid(m->pid, NULL, 0);
	m->pid = 0;
	if (m->log[0])
		unlink(m->log);
}

#endif
