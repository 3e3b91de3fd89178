/*
 * Does the event loop stall?  A real ledgerd on loopback, preloaded with
 * ENTRIES events, and a prober sending GET /healthz on its own keep-alive
 * connection every millisecond while one kind of heavy request runs back to
 * back on CONNS other connections: 10,000-event batches, 1,000-entry
 * listings, subject timelines of 1,000 events with their proofs, lineages
 * of 2,000 entries, CSV exports, entry bundles; and single appends over
 * APPEND_CONNS (256) connections from bench/load, whose answers the writer
 * hands back to the loop a group commit at a time.  Per load kind it prints the
 * prober's p50, p99 and worst latency and the heavy requests' rate, for each
 * of RUNS runs (a fresh daemon each) and then the medians over the runs.
 *
 * A probe's latency is counted from the moment it was due, not from when it
 * was sent: a stall of 200 ms shows as 200 probes late by 200 ms down to
 * 1 ms, as a client sending every millisecond would see it, rather than as
 * one slow probe (coordinated omission).
 *
 *	loop_latency [ENTRIES]	(default 100,000; at least 40,000)
 *
 * Environment: LEDGERD_BIN the daemon (default build/ledgerd), RUNS (3),
 * SECONDS per load kind and run (4), CONNS heavy connections (2), KINDS a
 * comma-separated subset of
 * idle,batch,listing,subject,lineage,export,bundle,appends,
 * WORKERS the daemon's limits.workers (its default when unset: the daemon
 * then runs in development mode, as a daemon without the setting must),
 * RATE heavy requests a second on each heavy connection (0, the default:
 * back to back, as many as the daemon and the machine take).
 */
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include "ledger/hash.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "../tests/daemon.h"
#include "../tests/http.h"

#define PROBE_INTERVAL_NS 1000000L
#define LOAD_BATCH 10000
#define HOT_SUBJECTS 10		/* every 10th event names one of these */
#define LINEAGES 4
#define LINEAGE_NODES 2000	/* the daemon's bound on a lineage answer */
#define MAX_RUNS 15

static const char *const orgs[] = { "police", "kmar", "aivd", "mivd", "om",
	"ind", "fiod", "fiu", "szw", "nctv" };
#define N_ORGS 10

static uint64_t n_entries = 100000;
static double pace;		/* RATE: heavy requests/s per connection, 0 unpaced */
static const char *fixed_org;	/* with WORKERS: the principal posts as its org */
static int seconds = 4, n_conns = 2;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Event i of the preload.  Every 10th names hot subject (i / 10) % 10, so
 * each hot subject has ENTRIES / 100 events; LINEAGES shares "lin-K" each
 * carry a binary tree of LINEAGE_NODES - 1 advice resting on it.
 */
static int
event_json(char *buf, size_t size, uint64_t i, int plain)
{
	uint64_t span = n_entries / LINEAGES, base = i - i % span, k = i - base;
	const char *org = fixed_org != NULL ? fixed_org : orgs[i * 7 % N_ORGS];
	const char *to = orgs[(i * 7 + 3) % N_ORGS];
	const char *type = i % 2 == 0 ? "share" : "query";
	char subject[32], object[32], refs[40] = "", recipients[40] = "";

	if (i % 10 == 0)
		snprintf(subject, sizeof(subject), "hot-%" PRIu64,
		    i / 10 % HOT_SUBJECTS);
	else
		snprintf(subject, sizeof(subject), "NL-%06" PRIu64, i % 50000);
	snprintf(object, sizeof(object), "doc-%" PRIu64, i);
	if (!plain && k == 0) {
		type = "share";
		snprintf(object, sizeof(object), "lin-%" PRIu64, i / span);
	} else if (!plain && k < LINEAGE_NODES) {
		type = "advice";
		snprintf(refs, sizeof(refs), ",\"refs\":[%" PRIu64 "]",
		    base + (k - 1) / 2);
	}
	if (strcmp(type, "query") != 0)
		snprintf(recipients, sizeof(recipients),
		    "\"recipients\":[\"%s\"],", to);
	return snprintf(buf, size, "{\"type\":\"%s\",\"actor\":{\"org\":\"%s\","
	    "\"user\":\"u%03" PRIu64 "\",\"role\":\"analyst\"},\"subjects\":"
	    "[\"%s\"],%s\"object\":{\"ref\":\"%s\",\"digest\":\"sha256:"
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"},"
	    "\"purpose\":\"joint assessment of a possible threat\","
	    "\"legal_basis\":\"Wpg art. 16\","
	    "\"occurred_at\":\"2026-11-25T10:00:00Z\"%s}", type, org, i % 200,
	    subject, recipients, object, refs);
}

/* A JSON array of the events [from, to), in text of capacity cap. */
static size_t
batch_text(char *text, size_t cap, uint64_t from, uint64_t to, int plain)
{
	size_t len = 0;

	text[len++] = '[';
	for (uint64_t i = from; i < to; i++) {
		if (i > from)
			text[len++] = ',';
		len += (size_t)event_json(text + len, cap - len, i, plain);
	}
	text[len++] = ']';
	text[len] = '\0';
	return len;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The prober: GET /healthz every millisecond, latencies in ms. */
struct prober {
	pthread_t thread;
	unsigned port;
	atomic_int stop;
	double *ms;
	size_t n, cap;
	int errors;
};

static void *
prober_main(void *arg)
{
	struct prober *p = arg;
	struct http_client hc;
	struct http_response r;
	struct timespec due;
	double due_s, done_s, lat;

	http_client_init(&hc, p->port, "");
	clock_gettime(CLOCK_MONOTONIC, &due);
	while (!atomic_load(&p->stop)) {
		due.tv_nsec += PROBE_INTERVAL_NS;
		if (due.tv_nsec >= 1000000000L) {
			due.tv_nsec -= 1000000000L;
			due.tv_sec++;
		}
		/* Past due (after a slow answer): send at once. */
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		due_s = due.tv_sec + due.tv_nsec / 1e9;
		if (http_get_public(&hc, "/healthz", &r) != 0) {
			p->errors++;
			continue;
		}
		done_s = now_s();
		if (r.status != 200)
			p->errors++;
		http_response_free(&r);
		/*
		 * The probes that fell due while this one waited are not sent
		 * (they would queue behind each other), but counted as a client
		 * sending every millisecond would have seen them: each late by
		 * what was left of the wait.
		 */
		for (lat = (done_s - due_s) * 1000; lat > 0;
		    lat -= PROBE_INTERVAL_NS / 1e6) {
			if (p->n == p->cap) {
				p->cap = p->cap * 2 + 4096;
				p->ms = xrealloc(p->ms, p->cap * sizeof(double));
			}
			p->ms[p->n++] = lat;
			if (lat < PROBE_INTERVAL_NS / 1e6)
				break;
		}
		/* The next probe is the next one due from now on. */
		while (due.tv_sec + due.tv_nsec / 1e9 + PROBE_INTERVAL_NS / 1e9
		    < done_s) {
			due.tv_nsec += PROBE_INTERVAL_NS;
			if (due.tv_nsec >= 1000000000L) {
				due.tv_nsec -= 1000000000L;
				due.tv_sec++;
			}
		}
	}
	http_client_close(&hc);
	return NULL;
}

/* One heavy connection: requests of one kind, back to back. */
struct loader {
	pthread_t thread;
	unsigned port;
	char token[256];
	char auth[300];			/* "Bearer <token>" */
	const char *kind;
	const char *batch;		/* the batch body (shared, read only) */
	size_t batch_len;
	atomic_int *stop;
	uint64_t rng;
	uint64_t requests, errors, bytes;
	double *ms;
	size_t n, cap;
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
heavy_target(struct loader *l, char *url, size_t size)
{
	uint64_t r = next_rand(&l->rng);

	if (strcmp(l->kind, "listing") == 0)
		snprintf(url, size, "/v1/events?limit=1000&cursor=%" PRIu64,
		    r % (n_entries - 1000));
	else if (strcmp(l->kind, "subject") == 0)
		snprintf(url, size, "/v1/provenance/subjects/hot-%" PRIu64
		    "?limit=1000", r % HOT_SUBJECTS);
	else if (strcmp(l->kind, "lineage") == 0)
		snprintf(url, size, "/v1/provenance/objects/lin-%" PRIu64,
		    r % LINEAGES);
	else if (strcmp(l->kind, "export") == 0)
		snprintf(url, size, "/v1/export?format=csv&org=%s",
		    orgs[r % N_ORGS]);
	else {
		struct ledger_tile t = { LEDGER_TILE_LEVEL_ENTRIES,
		    r % (n_entries / LEDGER_TILE_WIDTH), LEDGER_TILE_WIDTH };
		char path[LEDGER_TILE_PATH_MAX];

		ledger_tile_path_format(&t, path);
		snprintf(url, size, "/%s", path);
	}
}

static void *
loader_main(void *arg)
{
	struct loader *l = arg;
	struct http_client hc;
	struct http_response r;
	char url[160] = "";
	double t0, due;
	int rc;

	http_client_init(&hc, l->port, l->token);
	hc.timeout_ms = 300000;
	due = now_s();
	while (!atomic_load(l->stop)) {
		if (pace > 0) {
			/* Paced: one every 1/RATE s; a late one goes at once. */
			due += 1 / pace;
			if (due > now_s())
				sleep_ms((int)((due - now_s()) * 1000));
			else
				due = now_s();
		}
		t0 = now_s();
		if (strcmp(l->kind, "batch") == 0)
			rc = http_request(&hc, "POST", "/v1/events/batch",
			    l->auth, "application/json", NULL, l->batch,
			    l->batch_len, &r);
		else {
			heavy_target(l, url, sizeof(url));
			rc = http_get(&hc, url, &r);
		}
		if (rc != 0) {
			l->errors++;
			continue;
		}
		if (r.status != 200 && r.status != 201 && l->errors++ == 0)
			fprintf(stderr, "%s %s: %d %.200s\n", l->kind, url,
			    r.status, r.body);
		l->requests++;
		l->bytes += r.body_len;
		http_response_free(&r);
		if (l->n == l->cap) {
			l->cap = l->cap * 2 + 256;
			l->ms = xrealloc(l->ms, l->cap * sizeof(double));
		}
		l->ms[l->n++] = (now_s() - t0) * 1000;
	}
	http_client_close(&hc);
	return NULL;
}

/* What one load kind gave in one run. */
struct result {
	double p50, p99, max;		/* prober, ms */
	double rate;			/* heavy requests/s */
	double heavy_p50;		/* ms */
	size_t probes;
	int errors;
};

static double
percentile(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static char load_bin[1024];	/* bench/load, beside this program */

/*
 * Single appends from bench/load over APPEND_CONNS connections for the
 * run's seconds; returns the events/s it printed, or -1.
 */
static double
run_load(struct daemon *d)
{
	char url[64], secs[16], conns[16], line[256];
	const char *n = getenv("APPEND_CONNS");
	double rate = -1;
	int pipefd[2], status;
	pid_t pid;
	FILE *out;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", d->port);
	snprintf(secs, sizeof(secs), "%d", seconds);
	snprintf(conns, sizeof(conns), "%s", n != NULL ? n : "256");
	if (pipe(pipefd) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		if (fixed_org != NULL)
			execl(load_bin, load_bin, "--url", url, "--token",
			    d->token, "--connections", conns, "--seconds", secs,
			    "--org", fixed_org, (char *)NULL);
		else
			execl(load_bin, load_bin, "--url", url, "--token",
			    d->token, "--connections", conns, "--seconds", secs,
			    (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	if ((out = fdopen(pipefd[0], "r")) != NULL) {
		while (fgets(line, sizeof(line), out) != NULL)
			if (strncmp(line, "events/s:", 9) == 0)
				rate = strtod(line + 9, NULL);
		fclose(out);
	}
	waitpid(pid, &status, 0);
	return rate;
}

static struct result
run_kind(struct daemon *d, const char *kind, const char *batch,
    size_t batch_len)
{
	struct loader *l = xcalloc((size_t)n_conns, sizeof(*l));
	struct prober p;
	struct result res;
	atomic_int stop = 0;
	double t0, *all = NULL;
	size_t n_all = 0;
	int k, heavy = strcmp(kind, "idle") != 0 &&
	    strcmp(kind, "appends") != 0;

	memset(&p, 0, sizeof(p));
	memset(&res, 0, sizeof(res));
	p.port = d->port;
	pthread_create(&p.thread, NULL, prober_main, &p);
	t0 = now_s();
	for (k = 0; heavy && k < n_conns; k++) {
		l[k].port = d->port;
		snprintf(l[k].token, sizeof(l[k].token), "%s", d->token);
		snprintf(l[k].auth, sizeof(l[k].auth), "%s", d->auth);
		l[k].kind = kind;
		l[k].batch = batch;
		l[k].batch_len = batch_len;
		l[k].stop = &stop;
		l[k].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
		pthread_create(&l[k].thread, NULL, loader_main, &l[k]);
	}
	if (strcmp(kind, "appends") == 0) {
		/* The rate is of events, not of heavy requests. */
		if ((res.rate = run_load(d)) < 0)
			res.errors++;
		t0 = -1;
	} else
		sleep_ms(seconds * 1000);
	atomic_store(&stop, 1);
	for (k = 0; heavy && k < n_conns; k++) {
		pthread_join(l[k].thread, NULL);
		res.rate += (double)l[k].requests;
		res.errors += (int)l[k].errors;
		all = xrealloc(all, (n_all + l[k].n + 1) * sizeof(double));
		memcpy(all + n_all, l[k].ms, l[k].n * sizeof(double));
		n_all += l[k].n;
		free(l[k].ms);
	}
	/* The prober runs until the last heavy answer is in. */
	if (t0 >= 0)
		res.rate /= now_s() - t0;
	atomic_store(&p.stop, 1);
	pthread_join(p.thread, NULL);
	qsort(p.ms, p.n, sizeof(double), cmp_double);
	res.p50 = percentile(p.ms, p.n, 0.50);
	res.p99 = percentile(p.ms, p.n, 0.99);
	res.max = p.n > 0 ? p.ms[p.n - 1] : 0;
	res.probes = p.n;
	res.errors += p.errors;
	if (n_all > 0) {
		qsort(all, n_all, sizeof(double), cmp_double);
		res.heavy_p50 = percentile(all, n_all, 0.50);
	}
	free(all);
	free(p.ms);
	free(l);
	return res;
}

static int
preload(struct daemon *d, char *text, size_t cap)
{
	struct http_client hc;
	struct http_response r;
	size_t len;
	int rc;

	http_client_init(&hc, d->port, d->token);
	hc.timeout_ms = 300000;
	for (uint64_t i = 0; i < n_entries; i += LOAD_BATCH) {
		len = batch_text(text, cap, i, i + LOAD_BATCH < n_entries ?
		    i + LOAD_BATCH : n_entries, 0);
		if ((rc = http_request(&hc, "POST", "/v1/events/batch", d->auth,
		    "application/json", NULL, text, len, &r)) != 0 ||
		    r.status != 201) {
			fprintf(stderr, "preload failed at %" PRIu64 ": %d %s\n",
			    i, rc ? rc : r.status, rc ? "" : r.body);
			if (rc == 0)
				http_response_free(&r);
			http_client_close(&hc);
			return -1;
		}
		http_response_free(&r);
	}
	http_client_close(&hc);
	return 0;
}

#define BENCH_TOKEN "loop-latency-bench-token"

/*
 * start - a development-mode daemon, or with WORKERS one from a config
 * file with that many workers and a principal holding every role.
 */
static int
start(struct daemon *d)
{
	const char *workers = getenv("WORKERS");
	uint8_t h[LEDGER_HASH_LEN];
	char config[2048], hex[65];
	int i;

	if (workers == NULL)
		return daemon_start(d);
	ledger_sha256(BENCH_TOKEN, strlen(BENCH_TOKEN), h);
	for (i = 0; i < LEDGER_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	snprintf(config, sizeof(config), "{\"listen\": \"127.0.0.1:0\", "
	    "\"origin\": \"ledger.example.org/bench\", \"limits\": "
	    "{\"workers\": %d}, \"principals\": [{\"id\": \"bench\", "
	    "\"org\": \"police\", \"roles\": [\"writer\", \"reader\", "
	    "\"supervisor\", \"operator\"], \"token_sha256\": \"%s\"}]}",
	    atoi(workers), hex);
	if (daemon_start_config(d, config) != 0)
		return -1;
	snprintf(d->token, sizeof(d->token), "%s", BENCH_TOKEN);
	snprintf(d->auth, sizeof(d->auth), "Bearer %s", BENCH_TOKEN);
	return 0;
}

static double
median(double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, (size_t)n * sizeof(double));
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	return s[n / 2];
}

int
main(int argc, char **argv)
{
	static const char *const all_kinds[] = { "idle", "batch", "listing",
	    "subject", "lineage", "export", "bundle", "appends" };
	enum { N_KINDS = sizeof(all_kinds) / sizeof(all_kinds[0]) };
	const char *kinds_env = getenv("KINDS");
	struct result res[N_KINDS][MAX_RUNS];
	int runs = 3, use[N_KINDS], run, k;
	char *text, *batch, *self;
	size_t cap, batch_len;
	struct daemon d;

	if (argc > 1)
		n_entries = strtoull(argv[1], NULL, 10);
	if (getenv("RUNS") != NULL)
		runs = atoi(getenv("RUNS"));
	if (getenv("SECONDS") != NULL)
		seconds = atoi(getenv("SECONDS"));
	if (getenv("CONNS") != NULL)
		n_conns = atoi(getenv("CONNS"));
	if (getenv("RATE") != NULL)
		pace = atof(getenv("RATE"));
	if (n_entries < 40000 || runs < 1 || runs > MAX_RUNS || seconds < 1 ||
	    n_conns < 1 || n_conns > 64) {
		fprintf(stderr, "usage: [RUNS=1..%d SECONDS=n CONNS=1..64 "
		    "KINDS=a,b] loop_latency [ENTRIES >= 40000]\n", MAX_RUNS);
		return 2;
	}
	for (k = 0; k < N_KINDS; k++)
		use[k] = kinds_env == NULL || strstr(kinds_env, all_kinds[k]);
	if (getenv("WORKERS") != NULL)
		fixed_org = "police";	/* the principal of start()'s config */
	self = xstrdup(argv[0]);
	snprintf(load_bin, sizeof(load_bin), "%s/load", dirname(self));
	free(self);
	cap = (size_t)LOAD_BATCH * 1024;
	text = xmalloc(cap);
	/* The load's batches: 10,000 ordinary events (no lineage roots). */
	batch = xmalloc(cap);
	batch_len = batch_text(batch, cap, 0, LOAD_BATCH, 1);

	printf("ledgerd loop latency: %s, %" PRIu64 " entries, %d runs of "
	    "%d s per load kind, %d heavy connections (%s), workers %s, "
	    "/healthz every 1 ms\n", daemon_bin(), n_entries, runs, seconds,
	    n_conns, pace > 0 ? getenv("RATE") : "back to back",
	    getenv("WORKERS") != NULL ? getenv("WORKERS") : "(default)");
	for (run = 0; run < runs; run++) {
		if (start(&d) != 0)
			return 1;
		if (preload(&d, text, cap) != 0) {
			daemon_cleanup(&d);
			return 1;
		}
		for (k = 0; k < N_KINDS; k++) {
			struct result *x = &res[k][run];

			if (!use[k])
				continue;
			*x = run_kind(&d, all_kinds[k], batch, batch_len);
			printf("run %d %-8s /healthz p50 %7.2f ms  p99 %7.2f ms  "
			    "max %7.2f ms  (%zu probes)  heavy %7.2f req/s, "
			    "p50 %8.2f ms%s\n", run + 1, all_kinds[k], x->p50,
			    x->p99, x->max, x->probes, x->rate, x->heavy_p50,
			    x->errors ? "  ERRORS" : "");
			fflush(stdout);
		}
		daemon_cleanup(&d);
	}
	printf("\nmedians of %d runs:\n", runs);
	for (k = 0; k < N_KINDS; k++) {
		double v[5][MAX_RUNS];

		if (!use[k])
			continue;
		for (run = 0; run < runs; run++) {
			v[0][run] = res[k][run].p50;
			v[1][run] = res[k][run].p99;
			v[2][run] = res[k][run].max;
			v[3][run] = res[k][run].rate;
			v[4][run] = res[k][run].heavy_p50;
		}
		printf("%-8s /healthz p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms"
		    "   heavy %7.2f %s, p50 %8.2f ms\n", all_kinds[k],
		    median(v[0], runs), median(v[1], runs), median(v[2], runs),
		    median(v[3], runs), strcmp(all_kinds[k], "appends") == 0 ?
		    "events/s" : "req/s", median(v[4], runs));
	}
	free(text);
	free(batch);
	return 0;
}
