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

#include <jansson.h>

#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/note.h"

#include "ctlrun.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"
#include "witnessrun.h"

static const char *
script(void)
{
	const char *s = getenv("LEDGER_TEST_WITNESS");

	return s != NULL && s[0] != '\0' ? s : "tests/witness.py";
}

/* The "listening on" line of ledgerd witness, from offset from; its port. */
static unsigned
find_port(const char *log_path, off_t from)
{
	static const char needle[] = "listening on http://127.0.0.1:";
	char buf[16384];
	const char *p;
	ssize_t n;
	int fd;

	if ((fd = open(log_path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, needle)) == NULL)
		return 0;
	p += sizeof(needle) - 1;
	if (strchr(p, '\n') == NULL)
		return 0;
	return (unsigned)strtoul(p, NULL, 10);
}

static int start(struct witness_proc *w, const char *parent,
    const char *name, enum witness_impl impl, const char *log_vkey);

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

static int
launch(struct witness_proc *w)
{
	char port_file[600], state[600], evidence[600], log_path[600];
	char seed_hex[65], port[16], *text, data[600], listen[32];
	long long deadline = now_ms() + DAEMON_START_TIMEOUT_MS;
	off_t from;
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
	from = file_size(log_path);
	snprintf(data, sizeof(data), "%s/data", w->dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", w->port);
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
		if (w->impl == WITNESS_LEDGERD)
			execl(daemon_bin(), daemon_bin(), "witness", "--data",
			    data, "--listen", listen, "--name", w->name, "--log",
			    w->log_vkey, (char *)NULL);
		else if (w->impl == WITNESS_PYTHON_V1)
			execlp("python3", "python3", script(), "--name", w->name,
			    "--seed", seed_hex, "--log", w->log_vkey, "--state",
			    state, "--evidence", evidence, "--port-file",
			    port_file, "--port", port, "--v1", (char *)NULL);
		else if (w->tls_cert[0] != '\0')
			execlp("python3", "python3", script(), "--name", w->name,
			    "--seed", seed_hex, "--log", w->log_vkey, "--state",
			    state, "--evidence", evidence, "--port-file",
			    port_file, "--port", port, "--tls-cert", w->tls_cert,
			    "--tls-key", w->tls_key, (char *)NULL);
		else
			execlp("python3", "python3", script(), "--name", w->name,
			    "--seed", seed_hex, "--log", w->log_vkey, "--state",
			    state, "--evidence", evidence, "--port-file",
			    port_file, "--port", port, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		if (w->impl == WITNESS_LEDGERD) {
			w->port = find_port(log_path, from);
		} else {
			text = read_whole_file(port_file, NULL);
			w->port = (unsigned)atoi(text);
			free(text);
		}
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
	snprintf(w->url, sizeof(w->url), "%s://127.0.0.1:%u",
	    w->tls_cert[0] != '\0' ? "https" : "http", w->port);
	if (w->impl == WITNESS_LEDGERD) {
		/* It made its key on first start: read the verifier. */
		snprintf(data, sizeof(data), "%s/data/witness.vkey", w->dir);
		text = read_whole_file(data, NULL);
		text[strcspn(text, "\n")] = '\0';
		snprintf(w->vkey, sizeof(w->vkey), "%s", text);
		free(text);
		if (ledger_verifier_parse(w->vkey, &w->verifier) != 0) {
			fprintf(stderr, "  witness %s: bad key \"%s\"\n", w->name,
			    w->vkey);
			return -1;
		}
	}
	return 0;
}

int
witness_start(struct witness_proc *w, const char *parent, const char *name,
    enum witness_impl impl, const char *log_vkey)
{
	memset(w, 0, sizeof(*w));
	return start(w, parent, name, impl, log_vkey);
}

int
witness_start_tls(struct witness_proc *w, const char *parent,
    const char *name, const char *log_vkey, const char *cert, const char *key)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->tls_cert, sizeof(w->tls_cert), "%s", cert);
	snprintf(w->tls_key, sizeof(w->tls_key), "%s", key);
	return start(w, parent, name, WITNESS_PYTHON, log_vkey);
}

/* Makes its directory and key and launches it; w is zeroed but for TLS. */
static int
start(struct witness_proc *w, const char *parent, const char *name,
    enum witness_impl impl, const char *log_vkey)
{
	struct ledger_signer *s;
	char *text;

	snprintf(w->dir, sizeof(w->dir), "%s/witness-%s", parent, name);
	if (mkdir(w->dir, 0700) != 0) {
		fprintf(stderr, "  mkdir %s: %s\n", w->dir, strerror(errno));
		return -1;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->log_vkey, sizeof(w->log_vkey), "%s", log_vkey);
	w->impl = impl;
	if (impl == WITNESS_LEDGERD)
		return launch(w);
	/* tests/witness.py takes its key from here: a seed from the name. */
	ledger_sha256(name, strlen(name), w->seed);
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

/*
 * GET path from a ledgerd witness: the body of a 200, or NULL.  Not
 * recorded for tests/openapi_check.py: the witness is not the log.
 */
static char *
witness_get(const struct witness_proc *w, const char *path)
{
	const char *env = getenv("LEDGER_TEST_RECORD");
	char *record = env != NULL ? strdup(env) : NULL;
	struct http_client hc;
	struct http_response r;
	char *body = NULL;

	unsetenv("LEDGER_TEST_RECORD");
	http_client_init(&hc, w->port, "");
	if (http_get_public(&hc, path, &r) == 0) {
		if (r.status == 200) {
			body = r.body;
			r.body = NULL;
		}
		http_response_free(&r);
	}
	http_client_close(&hc);
	if (record != NULL)
		setenv("LEDGER_TEST_RECORD", record, 1);
	free(record);
	return body;
}

long long
witness_cosigned_size(const struct witness_proc *w, const char *origin)
{
	struct ledger_checkpoint cp;
	char path[600], *text, *p;
	uint8_t h[LEDGER_HASH_LEN];
	long long size = -1;
	json_t *state, *held;
	size_t len;
	int i;

	if (w->impl == WITNESS_LEDGERD) {
		ledger_sha256(origin, strlen(origin), h);
		p = path;
		*p++ = '/';
		for (i = 0; i < LEDGER_HASH_LEN; i++)
			p += sprintf(p, "%02x", h[i]);
		strcpy(p, "/checkpoint");
		if ((text = witness_get(w, path)) != NULL &&
		    ledger_checkpoint_parse(text, strlen(text), &cp) == 0)
			size = (long long)cp.tree_size;
		free(text);
		return size;
	}
	snprintf(path, sizeof(path), "%s/state.json", w->dir);
	text = read_whole_file(path, &len);
	if ((state = json_loadb(text, len, 0, NULL)) != NULL &&
	    (held = json_object_get(state, origin)) != NULL)
		size = json_integer_value(json_object_get(held, "size"));
	json_decref(state);
	free(text);
	return size;
}

char *
witness_evidence(const struct witness_proc *w)
{
	char path[600], *text;
	size_t len;

	if (w->impl == WITNESS_LEDGERD)
		return witness_get(w, "/evidence");
	snprintf(path, sizeof(path), "%s/evidence.jsonl", w->dir);
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
