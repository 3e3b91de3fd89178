/*
 * Faults: a full disk, a crash at every point of the write path, damaged
 * data files and a wall clock that steps back.  In each case the daemon
 * keeps every acknowledged entry, never serves a tree that does not
 * verify, and says what went wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>

#include "ledger/checkpoint.h"
#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/xmalloc.h"

#include "apiutil.h"
#include "daemon.h"
#include "http.h"
#include "testlib.h"

/* An event whose details carry a unique marker and pad bytes of filler. */
static char *
marked_event(int i, size_t pad)
{
	char *filler = xmalloc(pad + 1), *extra, *ev;

	memset(filler, 'p', pad);
	filler[pad] = '\0';
	extra = xasprintf("\"details\":{\"marker\":\"faultmark-%06d\",\"pad\":\"%s\"}",
	    i, filler);
	ev = sample_event_of("share", "police", "analyst-1", "kmar", extra, i);
	free(extra);
	free(filler);
	return ev;
}

/* Whether the daemon's log holds text. */
static int
log_holds(const struct daemon *d, const char *text)
{
	FILE *f = fopen(d->log_path, "rb");
	char *buf;
	long n;
	int found;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	n = (long)fread(buf, 1, (size_t)n, f);
	buf[n] = '\0';
	fclose(f);
	found = strstr(buf, text) != NULL;
	free(buf);
	return found;
}

/*
 * The log as served is whole: the checkpoint verifies, its root is the
 * root of the served entries' leaf hashes, and each acknowledged entry is
 * there with its acknowledged leaf hash.  Returns the tree size or -1.
 */
static long long
check_served_log(struct daemon *d, const struct appended *acks, size_t n_acks)
{
	struct ledger_memstore *ms = ledger_memstore_new();
	struct ledger_hash_store hs = ledger_memstore_hash_store(ms);
	struct ledger_checkpoint cp;
	struct http_client hc;
	uint8_t (*leaves)[LEDGER_HASH_LEN] = NULL, root[LEDGER_HASH_LEN];
	long long size = -1;
	uint64_t i;

	http_client_init(&hc, d->port, d->token);
	if (fetch_checkpoint(&hc, &d->verifier, &cp, NULL) != 0)
		goto out;
	if ((leaves = leaf_hashes(&hc, cp.tree_size)) == NULL && cp.tree_size > 0)
		goto out;
	for (i = 0; i < cp.tree_size; i++)
		ledger_merkle_append(&hs, i, leaves[i]);
	ledger_merkle_root(&hs, cp.tree_size, root);
	CHECK_MEM(root, cp.root, LEDGER_HASH_LEN);
	for (i = 0; i < n_acks; i++) {
		CHECK(acks[i].seq < cp.tree_size);
		if (acks[i].seq < cp.tree_size)
			CHECK_MEM(leaves[acks[i].seq], acks[i].leaf_hash, LEDGER_HASH_LEN);
	}
	size = (long long)cp.tree_size;
out:
	free(leaves);
	ledger_memstore_free(ms);
	http_client_close(&hc);
	return size;
}

/* Fills the file system holding path: returns the filler's path (free()). */
static char *
fill_disk(const char *dir)
{
	char *path = xasprintf("%s/filler", dir);
	static char block[64 * 1024];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1) {
		free(path);
		return NULL;
	}
	memset(block, 'f', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	/* The last partial block, byte by byte's worth of pages. */
	while (write(fd, block, 512) > 0)
		;
	close(fd);
	return path;
}

/*
 * Disk full: the data directory on an 8 MiB tmpfs, filled up.  Appends get
 * 507 with a log line saying so, acknowledged entries stay readable, and
 * once the filler is deleted appends resume right after the last
 * acknowledged one; fsck finds the directory clean.
 */
static void
disk_full_on_tmpfs(struct daemon *d, const char *orig)
{
	struct appended acks[256], a;
	struct http_client hc;
	struct http_response r;
	char *filler, *ev;
	size_t n_acks = 0;
	int i, status = 0, refused = 0;

	REQUIRE(daemon_restart(d) == 0);
	http_client_init(&hc, d->port, d->token);
	REQUIRE((filler = fill_disk(d->data)) != NULL);
	/* Freed pages may take a few appends to run out. */
	for (i = 0; i < 200 && n_acks < 200; i++) {
		ev = marked_event(1000 + i, 8000);
		status = post_event(&hc, ev, NULL, NULL, &a, NULL);
		free(ev);
		if (status == 201) {
			acks[n_acks++] = a;
			continue;
		}
		if (status == 507 || status == 503) {
			refused++;
			if (refused >= 3)
				break;
			continue;
		}
		break;
	}
	printf("  %zu appends acknowledged on the full disk before the first "
	    "refusal; then %d refused\n", n_acks, refused);
	CHECK(refused >= 3);
	CHECK(status == 507 || status == 503);
	/* The refusal is a JSON error, and the log says why. */
	ev = marked_event(1999, 8000);
	if (post_event(&hc, ev, NULL, NULL, NULL, &r) == 507) {
		CHECK_ERROR(&r, 507, "storage_full", NULL);
		http_response_free(&r);
	}
	free(ev);
	CHECK(log_holds(d, "storage full"));
	CHECK(daemon_running(d));

	/* Reads keep working while appends are refused. */
	CHECK(check_served_log(d, acks, n_acks) >= (long long)n_acks);
	if (http_get_public(&hc, "/healthz", &r) == 0) {
		CHECK_INT(r.status, 200);
		http_response_free(&r);
	} else {
		CHECK(0);
	}

	/* Space comes back: appends resume, with no hole and no repeat. */
	CHECK_INT(unlink(filler), 0);
	free(filler);
	status = 0;
	for (i = 0; i < 20 && status != 201; i++) {
		ev = marked_event(2000 + i, 100);
		status = post_event(&hc, ev, NULL, NULL, &a, NULL);
		free(ev);
	}
	CHECK_INT(status, 201);
	if (status == 201 && n_acks > 0)
		CHECK_INT(a.seq, acks[n_acks - 1].seq + 1);
	CHECK(check_served_log(d, acks, n_acks) == (long long)a.seq + 1);
	http_client_close(&hc);
	CHECK_INT(daemon_stop(d), 0);
	CHECK_INT(daemon_fsck(d), 0);
}

static void
body_disk_full(struct daemon *d)
{
	struct http_client hc;
	char orig[700], cmd[1600];
	int mounted;

	/* Some history, written on the ordinary disk. */
	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 5, 1) == 0);
	http_client_close(&hc);
	REQUIRE(daemon_stop(d) == 0);

	/* The same directory, moved onto a small tmpfs. */
	snprintf(orig, sizeof(orig), "%s.orig", d->data);
	REQUIRE(rename(d->data, orig) == 0);
	REQUIRE(mkdir(d->data, 0700) == 0);
	mounted = mount("tmpfs", d->data, "tmpfs", 0, "size=8m,mode=0700") == 0;
	if (!mounted) {
		printf("  SKIPPED: cannot mount a tmpfs on the data directory (%s); "
		    "the disk-full test needs root\n", strerror(errno));
		rmdir(d->data);
		rename(orig, d->data);
		return;
	}
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", orig, d->data);
	if (system(cmd) == 0)
		disk_full_on_tmpfs(d, orig);
	else
		CHECK(0);
	if (daemon_running(d))
		daemon_kill(d);
	if (umount2(d->data, MNT_DETACH) != 0)
		fprintf(stderr, "  umount %s: %s\n", d->data, strerror(errno));
}

static void
test_disk_full(void)
{
	daemon_test(body_disk_full);
}

/* Waits until the daemon has died (of its crash point); 1 when it has. */
static int
wait_dead(struct daemon *d)
{
	long long until = now_ms() + DAEMON_STOP_TIMEOUT_MS;

	while (daemon_running(d) && now_ms() < until)
		sleep_ms(10);
	if (daemon_running(d))
		return 0;
	daemon_kill(d);		/* reaps it */
	return 1;
}

/*
 * One crash: armed at point:pass, appends one event at a time until the
 * daemon dies; after a restart exactly the committed entries are there.
 * Returns the tree size after the restart, or -1.
 */
static long long
crash_once(struct daemon *d, const char *point, int pass, long long size_before)
{
	struct appended acks[64], a;
	struct http_client hc;
	char spec[64], marker[32], *ev, *bytes = NULL;
	size_t n_acks = 0, len;
	long long size;
	int i, status, in_flight = -1;

	snprintf(spec, sizeof(spec), "%s:%d", point, pass);
	setenv("LEDGERD_CRASH_AT", spec, 1);
	i = daemon_restart(d);
	unsetenv("LEDGERD_CRASH_AT");
	if (i != 0)
		return -1;
	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < pass + 2; i++) {
		ev = marked_event((int)size_before * 10 + i, 10);
		status = post_event(&hc, ev, NULL, NULL, &a, NULL);
		free(ev);
		if (status == 201) {
			acks[n_acks++] = a;
			continue;
		}
		in_flight = (int)size_before * 10 + i;
		break;
	}
	http_client_close(&hc);
	CHECK_INT(n_acks, pass - 1);
	CHECK(in_flight >= 0);
	if (!wait_dead(d)) {
		fprintf(stderr, "  the daemon did not crash at %s\n", spec);
		test_failures_++;
		return -1;
	}
	if (daemon_restart(d) != 0)
		return -1;
	size = check_served_log(d, acks, n_acks);
	if (size < 0)
		return -1;
	/* The entry in flight: gone before the commit, whole after it. */
	if (strcmp(point, "after-commit") == 0)
		CHECK_INT(size, size_before + (long long)n_acks + 1);
	else
		CHECK_INT(size, size_before + (long long)n_acks);
	if (size == size_before + (long long)n_acks + 1) {
		http_client_init(&hc, d->port, d->token);
		snprintf(marker, sizeof(marker), "faultmark-%06d", in_flight);
		CHECK_INT(fetch_entry(&hc, (uint64_t)size - 1, &bytes, &len), 200);
		CHECK(bytes != NULL && memmem(bytes, len, marker, strlen(marker)));
		free(bytes);
		http_client_close(&hc);
	}
	printf("  crash at %-13s pass %d: %zu acknowledged, tree size %lld -> %lld\n",
	    point, pass, n_acks, size_before, size);
	CHECK_INT(daemon_stop(d), 0);
	CHECK_INT(daemon_fsck(d), 0);
	return size;
}

/*
 * Every crash point of the write path (crash.h), at the first and the
 * third commit after a start.
 */
static void
body_crash_points(struct daemon *d)
{
	static const char *points[] = { "sign", "before-commit", "after-commit" };
	static const int passes[] = { 1, 3 };
	struct http_client hc;
	long long size = 3;
	size_t p, k;

	http_client_init(&hc, d->port, d->token);
	REQUIRE(post_events(&hc, 0, 3, 1) == 0);
	http_client_close(&hc);
	REQUIRE(daemon_stop(d) == 0);
	for (p = 0; p < 3; p++)
		for (k = 0; k < 2; k++)
			REQUIRE((size = crash_once(d, points[p], passes[k], size)) >= 0);
	REQUIRE(daemon_restart(d) == 0);
}

/* The crash points are only in the test daemon (crash.h). */
static void
test_crash_points(void)
{
	const char *faults = getenv("LEDGERD_FAULTS_BIN");
	char *release = xstrdup(daemon_bin());

	if (faults == NULL || faults[0] == '\0')
		faults = "build/ledgerd-faults";
	setenv("LEDGERD_BIN", faults, 1);
	daemon_test(body_crash_points);
	setenv("LEDGERD_BIN", release, 1);
	free(release);
}

/*
 * The ledgerd that ships has no fault injection: armed, it warns, and the
 * commit it would have died in is answered and kept.
 */
static void
body_release_ignores_crash_points(struct daemon *d)
{
	struct http_client hc;

	REQUIRE(daemon_stop(d) == 0);
	setenv("LEDGERD_CRASH_AT", "before-commit", 1);
	REQUIRE(daemon_restart(d) == 0);
	unsetenv("LEDGERD_CRASH_AT");
	CHECK(log_holds(d, "LEDGERD_CRASH_AT is ignored"));
	http_client_init(&hc, d->port, d->token);
	CHECK(post_events(&hc, 0, 2, 1) == 0);
	http_client_close(&hc);
	CHECK(daemon_running(d));
	CHECK(!log_holds(d, "fault injection: crashing"));
}

static void
test_release_ignores_crash_points(void)
{
	daemon_test(body_release_ignores_crash_points);
}

/* Runs `ledgerd fsck` on the data directory and returns its output (free()). */
static char *
fsck_output(const struct daemon *d, int *code)
{
	char cmd[1400], *out = xcalloc(1, 65536);
	size_t n = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "'%s' fsck '%s' 2>&1", daemon_bin(), d->data);
	if ((p = popen(cmd, "r")) == NULL) {
		*code = -1;
		return out;
	}
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	status = pclose(p);
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return out;
}

/* Flips one character of the copy of needle in the data file. */
static int
flip_in_data_file(const struct daemon *d, const char *needle)
{
	char path[700];
	struct stat st;
	uint8_t *buf, *p;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/ledger.mdb", d->data);
	if (stat(path, &st) != 0 || (f = fopen(path, "r+b")) == NULL)
		return 0;
	buf = xmalloc((size_t)st.st_size);
	if (fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
		for (p = buf; (p = memmem(p, (size_t)st.st_size - (size_t)(p - buf),
		    needle, strlen(needle))) != NULL; p += strlen(needle)) {
			p[strlen(needle) - 1] ^= 1;	/* '0' <-> '1': still JSON */
			n++;
		}
		fseek(f, 0, SEEK_SET);
		fwrite(buf, 1, (size_t)st.st_size, f);
	}
	fclose(f);
	free(buf);
	return n;
}

/*
 * Damage: a flipped byte in an old entry is reported by fsck with its seq;
 * in the newest entry ledgerd refuses to start; a truncated data file and a
 * missing key file stop it from starting, with a log line that says why.
 */
static void
body_corruption(struct daemon *d)
{
	struct http_client hc;
	char *ev, *out, path[700], cmd[4096];
	int i, code;

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < 6; i++) {
		ev = marked_event(7000 + i, 10);
		REQUIRE(post_event(&hc, ev, NULL, NULL, NULL, NULL) == 201);
		free(ev);
	}
	http_client_close(&hc);
	REQUIRE(daemon_stop(d) == 0);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s.good'", d->data, d->data);
	REQUIRE(system(cmd) == 0);

	/* Entry 2 (of 0..5) altered: found by fsck, named by its seq. */
	REQUIRE(flip_in_data_file(d, "faultmark-007002") > 0);
	out = fsck_output(d, &code);
	CHECK(code != 0);
	CHECK(strstr(out, "seq 2") != NULL);
	if (code == 0 || strstr(out, "seq 2") == NULL)
		fprintf(stderr, "  fsck said: %s\n", out);
	free(out);

	/* The newest entry altered: the daemon does not start. */
	REQUIRE(flip_in_data_file(d, "faultmark-007005") > 0);
	printf("  (a refusal to start is expected next)\n");
	CHECK(daemon_restart(d) != 0);
	CHECK(log_holds(d, "entry seq 5 does not hash"));

	/* A data file cut in half: refused at start, reported by fsck. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s.good' '%s'", d->data,
	    d->data, d->data);
	REQUIRE(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/ledger.mdb", d->data);
	{
		struct stat st;
		REQUIRE(stat(path, &st) == 0);
		REQUIRE(truncate(path, st.st_size / 2) == 0);
	}
	printf("  (a refusal to start is expected next)\n");
	CHECK(daemon_restart(d) != 0);
	CHECK(log_holds(d, "truncated"));
	out = fsck_output(d, &code);
	CHECK(code != 0 && code < 128);
	free(out);

	/* The log's signing key missing: refused, never replaced. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s.good' '%s' && rm '%s/log.key'",
	    d->data, d->data, d->data, d->data);
	REQUIRE(system(cmd) == 0);
	printf("  (a refusal to start is expected next)\n");
	CHECK(daemon_restart(d) != 0);
	snprintf(path, sizeof(path), "%s/log.key", d->data);
	CHECK(access(path, F_OK) != 0);

	/* The undamaged copy still starts and verifies. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mv '%s.good' '%s'", d->data,
	    d->data, d->data);
	REQUIRE(system(cmd) == 0);
	REQUIRE(daemon_restart(d) == 0);
	CHECK_INT(check_served_log(d, NULL, 0), 6);
}

static void
test_corruption(void)
{
	daemon_test(body_corruption);
}

/* The preloaded clock shim, built beside the tests. */
static int
clockshim_path(char *out, size_t len)
{
	char bin[PATH_MAX];

	snprintf(bin, sizeof(bin), "%s", daemon_bin());
	snprintf(out, len, "%s/tests/clockshim.so", dirname(bin));
	return access(out, R_OK);
}

static void
write_skew(const char *path, long long seconds)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fprintf(f, "%lld\n", seconds);
		fclose(f);
	}
}

/*
 * The wall clock steps back an hour while the daemon runs: received_at
 * never decreases along seq, and moves on once the clock has caught up.
 */
static void
body_clock(struct daemon *d)
{
	char shim[PATH_MAX + 32], skew[700], *bytes;
	const char *old_asan = getenv("ASAN_OPTIONS");
	char *asan = xasprintf("%s%sverify_asan_link_order=0", old_asan ? old_asan : "",
	    old_asan ? ":" : "");
	struct appended a[9];
	struct http_client hc;
	size_t len;
	int i;

	REQUIRE(daemon_stop(d) == 0);
	if (clockshim_path(shim, sizeof(shim)) != 0) {
		printf("  SKIPPED: no clock shim at %s\n", shim);
		free(asan);
		REQUIRE(daemon_restart(d) == 0);
		return;
	}
	snprintf(skew, sizeof(skew), "%s/../clock-skew", d->data);
	write_skew(skew, 0);
	setenv("LD_PRELOAD", shim, 1);
	setenv("LEDGER_CLOCK_SKEW_FILE", skew, 1);
	setenv("ASAN_OPTIONS", asan, 1);
	i = daemon_restart(d);
	unsetenv("LD_PRELOAD");
	unsetenv("LEDGER_CLOCK_SKEW_FILE");
	if (old_asan != NULL)
		setenv("ASAN_OPTIONS", old_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan);
	REQUIRE(i == 0);

	http_client_init(&hc, d->port, d->token);
	for (i = 0; i < 9; i++) {
		char *ev = marked_event(8000 + i, 10);

		if (i == 3)
			write_skew(skew, -3600);	/* back an hour */
		if (i == 6)
			write_skew(skew, 2);		/* ahead again */
		REQUIRE(post_event(&hc, ev, NULL, NULL, &a[i], NULL) == 201);
		free(ev);
	}
	for (i = 1; i < 9; i++) {
		if (strcmp(a[i - 1].received_at, a[i].received_at) > 0) {
			fprintf(stderr, "  received_at went back: %s then %s\n",
			    a[i - 1].received_at, a[i].received_at);
			test_failures_++;
		}
	}
	/* While the clock is behind, time stands still at the last entry's. */
	CHECK_STR(a[3].received_at, a[2].received_at);
	CHECK_STR(a[5].received_at, a[2].received_at);
	CHECK(strcmp(a[6].received_at, a[2].received_at) > 0);
	/* The stored entries say the same as the answers. */
	for (i = 0; i < 9; i++) {
		REQUIRE(fetch_entry(&hc, a[i].seq, &bytes, &len) == 200);
		CHECK(memmem(bytes, len, a[i].received_at, strlen(a[i].received_at)));
		free(bytes);
	}
	http_client_close(&hc);
	CHECK_INT(daemon_stop(d), 0);
	CHECK_INT(daemon_fsck(d), 0);
}

static void
test_clock_backwards(void)
{
	daemon_test(body_clock);
}

int
main(void)
{
	RUN(test_disk_full);
	RUN(test_crash_points);
	RUN(test_release_ignores_crash_points);
	RUN(test_corruption);
	RUN(test_clock_backwards);
	return TEST_SUMMARY();
}
