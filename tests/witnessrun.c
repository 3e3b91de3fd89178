/*
 * The tests' handle on a witness process (see witnessrun.h).  Like the
 * daemons, a witness dies with the test program (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ledger/note.h"

#include "ctlrun.h"
#include "daemon.h"
#include "testlib.h"
#include "witnessrun.h"

static const char *
script(void)
{
	const char *s = getenv("LEDGER_TEST_WITNESS");

	return s != NULL && s[0] != '\0' ? s : "tests/witness.py";
}

static int
launch(struct witness_proc *w)
{
	char port_file[600], state[600], evidence[600], log_path[600];
	char seed_hex[65], port[16], *text;
	long long deadline = now_ms() + DAEMON_START_TIMEOUT_MS;
	pid_t parent = getpid();
	int i, fd;

	snprintf(port_file, sizeof(port_file), "%s/port", w->dir);
	snprintf(state, sizeof(state), "%s/state.json", w->dir);
	snprintf(evidence, sizeof(evidence), "%s/evidence.jsonl", w->dir);
	snprintf(log_path, sizeof(log_path), "%s/witness.log", w->dir);
	snprintf(port, sizeof(port), "%u", w->port);
	for (i = 0; i < 32; i++)
		snprintf(seed_hex + 2 * i, 3, "%02x", w->seed[i]);
	unlink(port_file);
	fflush(stdout);
	fflush(stderr);
	if ((w->pid = fork()) < 0) {
		fprintf(stderr, "  fork: %s\n", strerror(errno));
		w->pid = 0;
		return -1;
	}
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if ((fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		if (w->v1)
			execlp("python3", "python3", script(), "--name", w->name,
			    "--seed", seed_hex, "--log", w->log_vkey, "--state",
			    state, "--evidence", evidence, "--port-file",
			    port_file, "--port", port, "--v1", (char *)NULL);
		else
			execlp("python3", "python3", script(), "--name", w->name,
			    "--seed", seed_hex, "--log", w->log_vkey, "--state",
			    state, "--evidence", evidence, "--port-file",
			    port_file, "--port", port, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		text = read_whole_file(port_file, NULL);
		w->port = (unsigned)atoi(text);
		free(text);
		if (w->port != 0)
			break;
		if (now_ms() > deadline || waitpid(w->pid, NULL, WNOHANG) != 0) {
			fprintf(stderr, "  witness %s (%s) did not start; see %s\n",
			    w->name, script(), log_path);
			if (waitpid(w->pid, NULL, WNOHANG) == 0) {
				kill(w->pid, SIGKILL);
				waitpid(w->pid, NULL, 0);
			}
			w->pid = 0;
			return -1;
		}
		sleep_ms(10);
	}
	snprintf(w->url, sizeof(w->url), "http://127.0.0.1:%u", w->port);
	return 0;
}

int
witness_start(struct witness_proc *w, const char *parent, const char *name,
    uint8_t seed_byte, const char *log_vkey, int v1)
{
	struct ledger_signer *s;
	char *text;

	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "%s/witness-%s", parent, name);
	if (mkdir(w->dir, 0700) != 0) {
		fprintf(stderr, "  mkdir %s: %s\n", w->dir, strerror(errno));
		return -1;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	memset(w->seed, seed_byte, sizeof(w->seed));
	snprintf(w->log_vkey, sizeof(w->log_vkey), "%s", log_vkey);
	w->v1 = v1;
	if (ledger_signer_from_seed(name, LEDGER_SIGTYPE_COSIGNATURE, w->seed,
	    &s) != 0) {
		fprintf(stderr, "  cannot make the key of witness %s\n", name);
		return -1;
	}
	w->verifier = *ledger_signer_verifier(s);
	text = ledger_verifier_format(&w->verifier);
	snprintf(w->vkey, sizeof(w->vkey), "%s", text);
	free(text);
	ledger_signer_free(s);
	return launch(w);
}

int
witness_stop(struct witness_proc *w)
{
	int status;

	if (w->pid <= 0)
		return -1;
	kill(w->pid, SIGTERM);
	waitpid(w->pid, &status, 0);
	w->pid = 0;
	return 0;
}

int
witness_restart(struct witness_proc *w)
{
	if (w->pid > 0) {
		fprintf(stderr, "  witness_restart: %s still runs\n", w->name);
		return -1;
	}
	return launch(w);
}

char *
witness_file(const struct witness_proc *w, const char *name)
{
	char path[600];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/%s", w->dir,
	    strcmp(name, "state") == 0 ? "state.json" : "evidence.jsonl");
	text = read_whole_file(path, &len);
	if (len == 0) {
		free(text);
		return NULL;
	}
	return text;
}

void
witness_cleanup(struct witness_proc *w)
{
	if (w->pid > 0)
		witness_stop(w);
	/* A failed test keeps the files, for the log and the evidence. */
	if (w->dir[0] != '\0' && !test_failures_)
		remove_tree(w->dir);
	w->dir[0] = '\0';
}
