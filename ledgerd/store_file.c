/*
 * The store's file as a whole: whether it is truncated, and its
 * compaction (store.h).  With store.c and store_tree.c, the only files
 * that use LMDB.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "ledger/error.h"
#include "ledger/xmalloc.h"

#include "log.h"
#include "store.h"
#include "store_impl.h"

/*
 * Whether the file is truncated: whether it ends before a page in use.
 *
 * LMDB maps the file and trusts its meta page: pages of a truncated file
 * would fault (SIGBUS) when read.  But an intact file may end before the
 * meta page's last page too: a page taken from the end of the file and
 * freed in the same transaction is never written (deleting many records
 * does this).  So a file that ends early is truncated unless every page
 * past its end is on LMDB's free list, which is read here under a SIGBUS
 * handler: a free list whose own pages lie past the end is truncation too.
 * Called by store_open before anything else is read, while no other thread
 * reads the map.
 */
static sigjmp_buf bus_jump;

static void
on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jump, 1);
}

/*
 * Counts the pages on LMDB's free list (database 0: one IDL a record, a
 * count then page numbers) through c, a cursor on it (LMDB opens one only
 * in a read-only transaction): all of them, and those in [from, to).
 * Returns an LMDB code.
 */
static int
count_free_pages(MDB_cursor *c, uint64_t from, uint64_t to, uint64_t *total,
    uint64_t *in_range)
{
	MDB_val k, v;
	int rc;

	*total = *in_range = 0;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		size_t n, i, id;

		if (v.mv_size < sizeof(n)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(&n, v.mv_data, sizeof(n));
		if (n > v.mv_size / sizeof(id) - 1) {
			rc = MDB_CORRUPTED;
			break;
		}
		*total += n;
		for (i = 1; i <= n; i++) {
			memcpy(&id, (const char *)v.mv_data + i * sizeof(id),
			    sizeof(id));
			if (id >= from && id < to)
				(*in_range)++;
		}
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_file_truncated(MDB_env *env, const char *path)
{
	struct sigaction sa, old;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;
	volatile int truncated = 1;
	uint64_t have, need, total, past_end;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0 ||
	    stat(path, &sb) != 0)
		return 0;	/* nothing to compare; LMDB checks what it can */
	have = (uint64_t)sb.st_size / ms.ms_psize;
	need = (uint64_t)info.me_last_pgno + 1;
	if (have >= need)
		return 0;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return 1;
	if (mdb_cursor_open(txn, 0, &c) != 0) {
		mdb_txn_abort(txn);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_bus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jump, 1) == 0 &&
	    count_free_pages(c, have, need, &total, &past_end) == 0)
		truncated = past_end != need - have;
	sigaction(SIGBUS, &old, NULL);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (!truncated)
		log_info("store: %s ends %llu pages before its last page, all "
		    "of them free", path, (unsigned long long)(need - have));
	return truncated;
}

#define COMPACT_DUE_KEY "compact-due"	/* meta: store_compact() is due */
#define COMPACT_SUFFIX ".compact"

int
store_mark_compact_due(struct store_txn *txn)
{
	uint8_t one = 1;

	return store_put_meta(txn, COMPACT_DUE_KEY, &one, 1);
}

int
store_compact_due(struct store *st)
{
	struct store_txn *txn;
	uint8_t one;
	int rc;

	if ((rc = store_read_begin(st, &txn)) != 0)
		return rc;
	rc = store_get_meta(txn, COMPACT_DUE_KEY, &one, 1);
	store_txn_end(txn);
	return rc == 0 ? 1 : rc == LEDGER_ENOTFOUND ? 0 : rc;
}

/* Bytes of the pages in use: the file's pages less the free list's. */
static int
bytes_in_use(struct store *st, uint64_t *bytes)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	MDB_cursor *c;
	uint64_t free_pages, unused;
	int rc;

	if ((rc = mdb_env_info(st->env, &info)) != 0 ||
	    (rc = mdb_env_stat(st->env, &ms)) != 0 ||
	    (rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return store_lmdb_error("stat", rc);
	if ((rc = mdb_cursor_open(txn, 0, &c)) == 0) {
		rc = count_free_pages(c, 0, 0, &free_pages, &unused);
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	if (rc != 0)
		return store_lmdb_error("free list", rc);
	*bytes = ((uint64_t)info.me_last_pgno + 1 - free_pages) * ms.ms_psize;
	return LEDGER_OK;
}

int
store_compact(struct store *st)
{
	char *tmp = xasprintf("%s%s", st->path, COMPACT_SUFFIX);
	char *dir = xstrdup(st->path), *slash;
	struct statvfs sv;
	uint64_t need = 0;
	int fd = -1, dfd = -1, rc;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	(void)unlink(tmp);	/* a copy a crash left half written */
	if ((rc = bytes_in_use(st, &need)) != 0)
		goto out;
	if (statvfs(dir, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < need + need / 8 + STORE_LOW_SPACE) {
		log_warnx("store: not compacted: %llu MB free beside %s, %llu MB "
		    "needed; tried again at the next start",
		    (unsigned long long)((uint64_t)sv.f_bavail * sv.f_frsize >> 20),
		    st->path, (unsigned long long)(need >> 20));
		rc = LEDGER_ENOSPC;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		log_warn("store: %s", tmp);
		rc = LEDGER_EIO;
		goto out;
	}
	if ((rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT)) != 0) {
		rc = store_lmdb_error("compact copy", rc);
		goto out;
	}
	/* The copy is whole on disk before it takes the store's name. */
	if (fdatasync(fd) != 0 || rename(tmp, st->path) != 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		log_warn("store: compact copy of %s", st->path);
		rc = LEDGER_EIO;
		goto out;
	}
	rc = LEDGER_OK;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rc != LEDGER_OK)
		(void)unlink(tmp);
	free(tmp);
	free(dir);
	return rc;
}

int
store_compact_done(struct store *st)
{
	struct store_txn *txn;
	int rc;

	if ((rc = store_write_begin(st, &txn)) != 0)
		return rc;
	rc = store_del_meta(txn, COMPACT_DUE_KEY);
	if (rc != 0 && rc != LEDGER_ENOTFOUND) {
		store_txn_end(txn);
		return rc;
	}
	return store_commit(txn);
}
