/*
 * What one synced commit costs on this machine, by what it holds: the
 * ceiling the storage puts under the append rate, whatever the HTTP side
 * does.  Commits of K events go through the daemon's own store, tree and
 * index tail, one part of the writer's commit added per level:
 *
 *	entries		the entry bytes and the head state
 *	+ tree		the Merkle tree's new hashes
 *	+ tail		the provenance index records, into the index tail in
 *			memory (the writer's commit holds no index record:
 *			they reach LMDB in merges of their own)
 *	+ checkpoint	the signed checkpoint and the check of its signature:
 *			the writer's whole commit, the keeper's round trips
 *			aside
 *
 * Every run starts from a store of WARM entries (default 100,000), so that
 * the B-trees have their depth, then commits for about two seconds.  The
 * events are parsed before the clock starts (the daemon parses them on the
 * loop's thread).  Printed: the median of three runs of synced commits per
 * second, events per second, and write system calls per commit (LMDB writes
 * each run of contiguous dirty pages with one call).
 *
 * First, the CPU time one event costs in each stage of the append path
 * that is not storage, with the daemon's own functions: parsing the
 * request's JSON (ledger_json_loadb), validating the event, making its
 * subject tokens (the keeper's HMAC), drawing the entry's salt, writing the
 * entry's bytes (ledger_entry_write), hashing the leaf.  Their sum bounds
 * what two cores can append, whatever the disk.
 *
 *	bench_commit [WARM]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/xmalloc.h"

#include "ledger/entry_write.h"
#include "ledger/jsonparse.h"

#include "../ledgerd/store.h"
#include "../ledgerd/tail.h"
#include "events.h"

#define POOL 4096		/* distinct parsed events, used in turn */
#define RUNS 3
#define RUN_SECONDS 2.0
#define ORIGIN "bench.example/log"

enum level { ENTRIES, TREE, TAIL, CHECKPOINT, N_LEVELS };

static const char *const level_names[N_LEVELS] = {
	"entries", "+ tree", "+ tail", "+ checkpoint",
};

static const unsigned commit_sizes[] = { 1, 8, 32, 64, 1000 };
#define N_SIZES (sizeof(commit_sizes) / sizeof(commit_sizes[0]))

struct bench {
	char text[POOL][1024];		/* the events as posted */
	json_t *pool[POOL];		/* and parsed */
	/* Each event's subject tokens, as the keeper makes them. */
	char tokens[POOL][LEDGER_SUBJECTS_MAX][LEDGER_SUBJECT_TOKEN_LEN + 1];
	size_t n_tokens[POOL];
	uint8_t subject_key[LEDGER_SUBJECT_KEY_LEN];
	struct ledger_signer *signer;
	const struct ledger_verifier *verifier;
	struct tail *tail;		/* of the run under way */
};

/* One run's figures. */
struct result {
	double commits_per_s;
	double events_per_s;
	double writes_per_commit;
};

/* Seconds on clock id: CLOCK_MONOTONIC, or the thread's CPU time. */
static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write system calls this process has made (Linux /proc/self/io). */
static unsigned long long
write_calls(void)
{
	unsigned long long n = 0;
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "syscw: %llu", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* The store's head while a run appends. */
struct head {
	struct store_state state;
};

/* Appends the pool's next event as entry state->tree_size, as the writer does. */
static int
append_one(struct bench *b, struct store_txn *txn, enum level level,
    struct store_state *state)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	uint64_t seq = state->tree_size;
	size_t ev = seq % POOL;
	const char *tokens[LEDGER_SUBJECTS_MAX];
	struct ledger_entry_meta meta;
	uint8_t leaf[LEDGER_HASH_LEN];
	char *bytes;
	size_t len;
	int rc;

	meta.seq = seq;
	ledger_time_format(1795600000000000LL + (int64_t)seq, meta.received_at);
	meta.submitter = "bench";
	memcpy(meta.prev, state->last_leaf_hash, LEDGER_HASH_LEN);
	if ((rc = ledger_entry_salt_new(meta.salt)) != 0)
		return rc;
	for (size_t i = 0; i < b->n_tokens[ev]; i++)
		tokens[i] = b->tokens[ev][i];
	if ((rc = ledger_entry_write(b->pool[ev], &meta, tokens,
	    b->n_tokens[ev], NULL, &bytes, &len)) != 0)
		return rc;
	if ((rc = ledger_leaf_hash(bytes, len, leaf)) == 0 &&
	    (rc = store_put_entry(txn, seq, bytes, len)) == 0 &&
	    level >= TREE)
		rc = ledger_merkle_append(&hs, seq, leaf);
	if (rc == 0 && level >= TAIL)
		rc = tail_add(b->tail, seq, b->pool[ev], tokens);
	free(bytes);
	if (rc != 0)
		return rc;
	state->tree_size++;
	memcpy(state->last_leaf_hash, leaf, LEDGER_HASH_LEN);
	return LEDGER_OK;
}

static int
sign_checkpoint(struct bench *b, struct store_txn *txn, uint64_t tree_size)
{
	struct ledger_hash_store hs = store_hash_store(txn);
	struct ledger_checkpoint cp;
	int rc;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
	cp.tree_size = tree_size;
	uint8_t sig[LEDGER_SIG_LEN];
	char *body, *line = NULL, *note;
	if ((rc = ledger_merkle_root(&hs, tree_size, cp.root)) != 0)
		return rc;
	/*
	 * As the writer: the body signed (by the keeper there), the signature
	 * checked against the log's key, the note stored.
	 */
	if ((body = ledger_checkpoint_format(&cp)) == NULL)
		return LEDGER_ECRYPTO;
	if ((rc = ledger_ed25519_sign(b->signer, body, strlen(body), sig)) == 0 &&
	    (line = ledger_note_sig_line(b->verifier, body, strlen(body),
	    sig)) == NULL)
		rc = LEDGER_EVERIFY;
	if (rc == 0) {
		note = xasprintf("%s\n%s", body, line);
		rc = store_put_checkpoint(txn, note, strlen(note));
		free(note);
	}
	free(body);
	free(line);
	return rc;
}

/* One synced commit of k events. */
static int
commit(struct bench *b, struct store *st, enum level level, unsigned k,
    struct store_state *state)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_write_begin(st, &txn)) != 0)
		return rc;
	for (unsigned i = 0; i < k && rc == 0; i++)
		rc = append_one(b, txn, level, state);
	if (rc == 0)
		rc = store_put_state(txn, state);
	if (rc == 0 && level >= CHECKPOINT)
		rc = sign_checkpoint(b, txn, state->tree_size);
	if (rc != 0) {
		store_txn_end(txn);
		return rc;
	}
	if ((rc = store_commit(txn)) == 0 && level >= TAIL)
		tail_committed(b->tail, state->tree_size);
	return rc;
}

static void
remove_store(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-lock", dir, STORE_FILE);
	unlink(path);
}

/* One run: WARM entries in big commits, then k-event commits for a while. */
static int
run(struct bench *b, const char *dir, enum level level, unsigned k,
    uint64_t warm, struct result *out)
{
	struct store_state state;
	unsigned long long w0;
	struct store *st;
	double t0, t;
	unsigned n = 0;
	int rc;

	memset(&state, 0, sizeof(state));
	remove_store(dir);
	if ((rc = store_open(dir, 64ULL << 30, 0, &st)) != 0)
		return rc;
	/* Nothing merges here: the tail holds the whole run (~100 B an entry). */
	b->tail = tail_new(0, 1u << 20);
	while (rc == 0 && state.tree_size < warm)
		rc = commit(b, st, level, 10000, &state);
	t0 = clock_s(CLOCK_MONOTONIC);
	w0 = write_calls();
	do {
		if (rc == 0)
			rc = commit(b, st, level, k, &state);
		n++;
		t = clock_s(CLOCK_MONOTONIC) - t0;
	} while (rc == 0 && (t < RUN_SECONDS || n < 10));
	out->commits_per_s = n / t;
	out->events_per_s = (double)n * k / t;
	out->writes_per_commit = (double)(write_calls() - w0) / n;
	store_close(st);
	tail_free(b->tail);
	b->tail = NULL;
	remove_store(dir);
	return rc;
}

enum stage { PARSE, VALIDATE, TOKENS, SALT, ENCODE, LEAF_HASH, N_STAGES };

static const char *const stage_names[N_STAGES] = {
	"parse the request's JSON", "validate the event",
	"make the subject tokens", "draw the entry's salt",
	"write the entry's bytes", "hash the leaf",
};

/* Runs one stage over the whole pool; returns CPU microseconds per event. */
static double
stage_cost(struct bench *b, enum stage stage)
{
	struct ledger_event_rules rules = { .orgs = NULL };
	struct ledger_entry_meta meta = { .submitter = "bench" };
	uint8_t leaf[LEDGER_HASH_LEN];
	size_t len, bad = 0;
	const char *tokens[LEDGER_SUBJECTS_MAX];
	char token[LEDGER_SUBJECT_TOKEN_LEN + 1];
	json_t *parsed, *subjects, *id;
	char *bytes;
	size_t j;
	double t0;

	ledger_time_format(1795600000000000LL, meta.received_at);
	t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (size_t i = 0; i < POOL; i++) {
		switch (stage) {
		case PARSE:
			parsed = ledger_json_loadb(b->text[i], strlen(b->text[i]),
			    JSON_REJECT_DUPLICATES, NULL);
			bad += parsed == NULL;
			json_decref(parsed);
			break;
		case VALIDATE:
			bad += ledger_event_validate(b->pool[i], &rules, NULL) != 0;
			break;
		case SALT:
			/* The writer draws a new salt for each entry. */
			bad += ledger_entry_salt_new(meta.salt) != 0;
			break;
		case TOKENS:
			subjects = json_object_get(b->pool[i], "subjects");
			json_array_foreach(subjects, j, id)
				bad += ledger_subject_token(b->subject_key,
				    json_string_value(id), json_string_length(id),
				    token) != 0;
			break;
		case ENCODE:
			for (j = 0; j < b->n_tokens[i]; j++)
				tokens[j] = b->tokens[i][j];
			bad += ledger_entry_write(b->pool[i], &meta, tokens,
			    b->n_tokens[i], NULL, &bytes, &len) != 0;
			free(bytes);
			break;
		case LEAF_HASH:
			bad += ledger_leaf_hash(b->text[i], strlen(b->text[i]), leaf) != 0;
			break;
		default:
			break;
		}
	}
	t0 = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
	return bad ? -1 : t0 / POOL * 1e6;
}

/* The median of RUNS passes over the pool, per stage. */
static int
print_stages(struct bench *b)
{
	double sum = 0;

	printf("CPU per event in the append path's stages, median of %d passes "
	    "over %d events:\n", RUNS, POOL);
	for (int st = 0; st < N_STAGES; st++) {
		double us[RUNS], t;

		for (int i = 0; i < RUNS; i++) {
			if ((us[i] = stage_cost(b, (enum stage)st)) < 0)
				return -1;
			for (int j = i; j > 0 && us[j] < us[j - 1]; j--) {
				t = us[j];
				us[j] = us[j - 1];
				us[j - 1] = t;
			}
		}
		printf("  %-32s %6.2f us\n", stage_names[st], us[RUNS / 2]);
		sum += us[RUNS / 2];
	}
	printf("  %-32s %6.2f us\n\n", "sum", sum);
	return 0;
}

static int
cmp_result(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	return (x->events_per_s > y->events_per_s) - (x->events_per_s < y->events_per_s);
}

static int
setup(struct bench *b)
{
	uint8_t seed[LEDGER_ED25519_LEN] = { 7 };
	uint64_t r = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < POOL; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		bench_event(r, NULL, b->text[i], sizeof(b->text[i]));
	}
	for (size_t i = 0; i < sizeof(b->subject_key); i++)
		b->subject_key[i] = (uint8_t)(i * 31 + 1);
	if (ledger_signer_from_seed(ORIGIN, LEDGER_SIGTYPE_ED25519, seed,
	    &b->signer) != 0)
		return -1;
	b->verifier = ledger_signer_verifier(b->signer);
	for (size_t i = 0; i < POOL; i++) {
		json_t *subjects, *id;
		size_t j;

		if ((b->pool[i] = ledger_json_loadb(b->text[i], strlen(b->text[i]),
		    JSON_REJECT_DUPLICATES, NULL)) == NULL)
			return -1;
		subjects = json_object_get(b->pool[i], "subjects");
		if (json_array_size(subjects) > LEDGER_SUBJECTS_MAX)
			return -1;
		json_array_foreach(subjects, j, id)
			if (ledger_subject_token(b->subject_key,
			    json_string_value(id), json_string_length(id),
			    b->tokens[i][j]) != 0)
				return -1;
		b->n_tokens[i] = json_array_size(subjects);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/bench-commit.XXXXXX";
	uint64_t warm = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	struct result res[RUNS];
	static struct bench b;	/* 4 MiB of event text: not on the stack */
	int rc = 0;

	if (setup(&b) != 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "bench_commit: cannot set up\n");
		return 1;
	}
	if (print_stages(&b) != 0) {
		fprintf(stderr, "bench_commit: a stage failed\n");
		return 1;
	}
	printf("synced commits of K events on a store of %" PRIu64 " entries, "
	    "median of %d runs\n", warm, RUNS);
	printf("%-13s %5s %12s %12s %10s %14s\n", "level", "K", "commits/s",
	    "events/s", "ms/commit", "writes/commit");
	for (int level = ENTRIES; level < N_LEVELS && rc == 0; level++) {
		for (size_t s = 0; s < N_SIZES && rc == 0; s++) {
			unsigned k = commit_sizes[s];

			for (int i = 0; i < RUNS && rc == 0; i++)
				rc = run(&b, dir, (enum level)level, k, warm, &res[i]);
			if (rc != 0)
				break;
			qsort(res, RUNS, sizeof(res[0]), cmp_result);
			printf("%-13s %5u %12.0f %12.0f %10.2f %14.0f\n",
			    level_names[level], k, res[RUNS / 2].commits_per_s,
			    res[RUNS / 2].events_per_s,
			    1e3 / res[RUNS / 2].commits_per_s,
			    res[RUNS / 2].writes_per_commit);
			fflush(stdout);
		}
	}
	if (rc != 0)
		fprintf(stderr, "bench_commit: %s\n", ledger_strerror(rc));
	rmdir(dir);
	for (size_t i = 0; i < POOL; i++)
		json_decref(b.pool[i]);
	ledger_signer_free(b.signer);
	return rc == 0 ? 0 : 1;
}
