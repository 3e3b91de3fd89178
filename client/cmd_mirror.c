/*
 * ledgerctl mirror --out DIR: a copy of the log in the C2SP tlog-tiles
 * layout (checkpoint, tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]) that
 * any static web server serves to audit and verify as the log itself
 * would.  Everything copied is verified against the signed checkpoint
 * before it becomes visible, and each run copies only what is new.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/merkle.h"
#include "ledger/tile.h"
#include "ledger/xmalloc.h"

#include "ctl.h"
#include "progress.h"
#include "tiles.h"

#define TMP_DIR ".mirror-tmp"
#define CACHE_TILES 64
#define MAX_LEVELS 8		/* 256^8 leaves: every 64-bit tree size */

static const char usage_text[] =
    "usage: ledgerctl mirror [options] --out DIR\n"
    "Copies the checkpoint (with its cosignatures), the hash tiles and the\n"
    "entry bundles of the log at --url into DIR, in the C2SP tlog-tiles\n"
    "layout, for any static web server to serve (docs/mirror.md).  Every\n"
    "file is verified against the signed checkpoint before it is put in\n"
    "place, the new checkpoint is proven consistent with the one DIR held,\n"
    "and only what is new is fetched; the checkpoint is written last.\n"
    "  --no-entries   hash tiles and checkpoint only (no read rights needed)\n"
    "A rollback or fork against DIR's checkpoint exits with 4, DIR unchanged.\n";

/* One file of the new tree: held by DIR already, or fetched. */
struct plan_file {
	struct ledger_tile t;
	char path[LEDGER_TILE_PATH_MAX];	/* "tile/…", relative to DIR */
	int fetch;				/* not in DIR: fetched */
	char *tmp;				/* the fetched copy, until installed */
};

struct mirror {
	struct ctl *ctl;
	const char *dir;
	int dirfd;			/* DIR, locked */
	char *tmpdir;			/* DIR/.mirror-tmp */
	uint64_t old_size, new_size;
	int have_old;
	struct plan_file *tiles;	/* hash tiles, by level, then index */
	size_t n_tiles, level_start[MAX_LEVELS + 1];
	int levels;
	struct plan_file *bundles;	/* entry bundles, by index */
	size_t n_bundles;
	uint64_t fetched_tiles, fetched_bundles, kept, bytes, removed, tmp_seq;
};

/* "DIR/tile/…" or "/tile/… (fetched)" for messages: where the bytes are from. */
static char *
origin_of(const struct mirror *m, const struct plan_file *f)
{
	return f->fetch ? xasprintf("/%s (fetched)", f->path) :
	    xasprintf("%s/%s", m->dir, f->path);
}

/* Reads exactly len bytes of path; 0, or -1 with errno (EFBIG: another length). */
static int
read_exact(const char *path, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;
	size_t off = 0;
	ssize_t n;
	uint8_t extra;

	if (fd < 0)
		return -1;
	while (off < len) {
		if ((n = read(fd, buf + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0) {
			errno = EFBIG;	/* shorter: reported as the wrong size */
			goto fail;
		}
		off += (size_t)n;
	}
	if ((n = read(fd, &extra, 1)) != 0) {
		errno = n > 0 ? EFBIG : errno;
		goto fail;
	}
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Where a planned file's bytes are now: its fetched copy, or DIR's. */
static char *
where(const struct mirror *m, const struct plan_file *f)
{
	return f->fetch ? xstrdup(f->tmp) : xasprintf("%s/%s", m->dir, f->path);
}

static struct plan_file *
find_tile(struct mirror *m, int level, uint64_t index)
{
	size_t first;

	if (level < 0 || level >= m->levels)
		return NULL;
	first = m->level_start[level];
	if (index >= m->level_start[level + 1] - first)
		return NULL;
	return &m->tiles[first + index];
}

/* The plan as a source of hash tiles for the tile store. */
static int
read_planned(void *arg, const struct ledger_tile *t, uint8_t *out)
{
	struct mirror *m = arg;
	struct plan_file *f = find_tile(m, t->level, t->index);
	char *path, *name;
	int rc = 0;

	if (f == NULL || f->t.width != t->width)
		return LEDGER_EVERIFY;
	path = where(m, f);
	if (read_exact(path, out, (size_t)t->width * LEDGER_HASH_LEN) != 0) {
		name = origin_of(m, f);
		if (errno == EFBIG) {
			rc = LEDGER_EVERIFY;
			ctl_verify_fail("%s: not %u bytes, the size of a tile of "
			    "width %u", name, t->width * LEDGER_HASH_LEN,
			    t->width);
		} else {
			rc = LEDGER_EIO;
			ctl_fail(EXIT_IO, "cannot read %s: %s", path,
			    strerror(errno));
		}
		free(name);
	}
	free(path);
	return rc;
}

/* Adds the files of one level of the new tree to the plan. */
static void
plan_level(struct mirror *m, int level, struct plan_file **files, size_t *n,
    size_t *cap)
{
	struct plan_file *f;
	uint64_t index;
	unsigned width;

	for (index = 0; (width = ledger_tile_width_at(level, index,
	    m->new_size)) != 0; index++) {
		if (*n == *cap) {
			*cap = *cap * 2 + 64;
			*files = xrealloc(*files, *cap * sizeof(**files));
		}
		f = &(*files)[(*n)++];
		memset(f, 0, sizeof(*f));
		f->t.level = level;
		f->t.index = index;
		f->t.width = width;
		ledger_tile_path_format(&f->t, f->path);
		/*
		 * A path names its bytes for good (full tiles never change, a
		 * partial one's width is in its name): what DIR held at its
		 * checkpoint's size and still has is kept.  But a grown
		 * tree's partial hash tiles, its right edge, which its root
		 * and the old tree's root are computed from, are always
		 * fetched: then a root that differs is the server's doing (a
		 * fork), never an altered file of DIR.
		 */
		f->fetch = !(m->have_old && width == ledger_tile_width_at(level,
		    index, m->old_size) && faccessat(m->dirfd, f->path, F_OK,
		    0) == 0) || (level >= 0 && width < LEDGER_TILE_WIDTH &&
		    m->new_size > m->old_size);
		if (!f->fetch)
			m->kept++;
	}
}

static void
plan(struct mirror *m, int entries)
{
	size_t cap = 0, bcap = 0;
	int level;

	for (level = 0; level < MAX_LEVELS &&
	    ledger_tile_width_at(level, 0, m->new_size) != 0; level++) {
		m->level_start[level] = m->n_tiles;
		plan_level(m, level, &m->tiles, &m->n_tiles, &cap);
	}
	m->levels = level;
	m->level_start[level] = m->n_tiles;
	if (entries)
		plan_level(m, LEDGER_TILE_LEVEL_ENTRIES, &m->bundles,
		    &m->n_bundles, &bcap);
}

/* Writes len bytes to a new file, with the umask's mode, and fsyncs it. */
static int
write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	const char *p = data;
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off != len || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

/* Fetches one planned file into the temporary directory. */
static int
fetch(struct mirror *m, struct plan_file *f)
{
	struct http_reply r;
	int rc;

	if ((rc = tile_get(m->ctl, &f->t, &r, NULL)) != 0)
		return rc;
	if (f->t.level != LEDGER_TILE_LEVEL_ENTRIES &&
	    r.len != (size_t)f->t.width * LEDGER_HASH_LEN) {
		rc = ctl_verify_fail("/%s: %zu bytes, not the %u of a tile of "
		    "width %u", f->path, r.len, f->t.width * LEDGER_HASH_LEN,
		    f->t.width);
		goto out;
	}
	f->tmp = xasprintf("%s/%" PRIu64, m->tmpdir, m->tmp_seq++);
	if (write_file(f->tmp, r.body, r.len) != 0) {
		rc = ctl_fail(EXIT_IO, "cannot write %s: %s", f->tmp,
		    strerror(errno));
		goto out;
	}
	m->bytes += r.len;
	if (f->t.level == LEDGER_TILE_LEVEL_ENTRIES)
		m->fetched_bundles++;
	else
		m->fetched_tiles++;
out:
	http_reply_free(&r);
	return rc;
}

static int
fetch_all(struct mirror *m)
{
	struct progress pg;
	uint64_t total = 0, done = 0;
	size_t i;
	int rc = 0;

	for (i = 0; i < m->n_tiles; i++)
		total += m->tiles[i].fetch;
	for (i = 0; i < m->n_bundles; i++)
		total += m->bundles[i].fetch;
	progress_start(&pg, "mirroring", "files", total);
	for (i = 0; i < m->n_tiles && rc == 0; i++)
		if (m->tiles[i].fetch && (rc = fetch(m, &m->tiles[i])) == 0)
			progress_update(&pg, ++done);
	for (i = 0; i < m->n_bundles && rc == 0; i++)
		if (m->bundles[i].fetch && (rc = fetch(m, &m->bundles[i])) == 0)
			progress_update(&pg, ++done);
	progress_end(&pg);
	return rc;
}

/*
 * The right edge: the partial tiles (and the top tile) are hashed into the
 * root with all their hashes, so the root names them together.
 */
static int
check_root(struct mirror *m, struct ledger_hash_store *hs,
    const struct ledger_checkpoint *cp)
{
	uint8_t root[LEDGER_HASH_LEN];
	char *edge = NULL, *name, *s;
	size_t i;
	int e;

	if ((e = ledger_merkle_root(hs, cp->tree_size, root)) == LEDGER_EIO)
		return EXIT_IO;		/* said by read_planned */
	if (e == LEDGER_EVERIFY)
		return EXIT_VERIFY;	/* said by read_planned */
	if (e != 0)
		return ctl_verify_fail("the tree of the hash tiles: %s",
		    ledger_strerror(e));
	if (memcmp(root, cp->root, LEDGER_HASH_LEN) == 0)
		return 0;
	for (i = 0; i < m->n_tiles; i++) {
		if (m->tiles[i].t.width == LEDGER_TILE_WIDTH)
			continue;
		name = origin_of(m, &m->tiles[i]);
		s = xasprintf("%s%s%s", edge ? edge : "", edge ? ", " : "", name);
		free(edge);
		free(name);
		edge = s;
	}
	ctl_verify_fail("the tiles at the right edge of the tree (%s) do not "
	    "lead to the root of the signed checkpoint of size %" PRIu64,
	    edge ? edge : "none", cp->tree_size);
	free(edge);
	return EXIT_VERIFY;
}

/*
 * Top down: each hash of a tile already believed is the root of a full
 * tile below it, which is believed in turn.  Only parents that are new
 * are read: a parent DIR held was checked with its children when it came.
 */
static int
check_children(struct mirror *m)
{
	uint8_t *parent, *child, root[LEDGER_HASH_LEN];
	struct plan_file *p, *c;
	char *name, *pname;
	size_t i, sz = LEDGER_TILE_WIDTH * LEDGER_HASH_LEN;
	unsigned k;
	int level, rc = 0, e;

	parent = xmalloc(sz);
	child = xmalloc(sz);
	for (level = m->levels - 1; level >= 1 && rc == 0; level--)
		for (i = m->level_start[level]; i < m->level_start[level + 1] &&
		    rc == 0; i++) {
			p = &m->tiles[i];
			if (!p->fetch)
				continue;
			if ((e = read_planned(m, &p->t, parent)) != 0) {
				rc = e == LEDGER_EIO ? EXIT_IO : EXIT_VERIFY;
				break;
			}
			for (k = 0; k < p->t.width && rc == 0; k++) {
				c = find_tile(m, level - 1, p->t.index *
				    LEDGER_TILE_WIDTH + k);
				if (c == NULL || c->t.width != LEDGER_TILE_WIDTH) {
					rc = ctl_verify_fail("/%s: hash %u has no "
					    "full tile below it", p->path, k);
					break;
				}
				if ((e = read_planned(m, &c->t, child)) != 0)
					rc = e == LEDGER_EIO ? EXIT_IO :
					    EXIT_VERIFY;
				else if (tile_subtree_root(child, root) != 0)
					rc = ctl_fail(EXIT_VERIFY, "SHA-256 "
					    "failed");
				else if (memcmp(root, parent + (size_t)k *
				    LEDGER_HASH_LEN, LEDGER_HASH_LEN) != 0) {
					name = origin_of(m, c);
					pname = origin_of(m, p);
					rc = ctl_verify_fail("%s: the tile does not "
					    "hash to its hash in %s, which leads "
					    "to the signed root", name, pname);
					free(name);
					free(pname);
				}
			}
		}
	free(parent);
	free(child);
	return rc;
}

/* Each fetched bundle: exactly its width of entries, each its leaf. */
static int
check_bundles(struct mirror *m)
{
	uint8_t *leaves, leaf[LEDGER_HASH_LEN];
	const uint8_t *entry;
	struct plan_file *b, *t;
	char *bytes = NULL, *name;
	size_t i, len, pos, elen;
	unsigned k;
	int rc = 0, e;

	leaves = xmalloc(LEDGER_TILE_WIDTH * LEDGER_HASH_LEN);
	for (i = 0; i < m->n_bundles && rc == 0; i++) {
		b = &m->bundles[i];
		if (!b->fetch)
			continue;
		if ((t = find_tile(m, 0, b->t.index)) == NULL ||
		    t->t.width != b->t.width) {
			rc = ctl_verify_fail("/%s: no level-0 tile of its width",
			    b->path);
			break;
		}
		if ((e = read_planned(m, &t->t, leaves)) != 0) {
			rc = e == LEDGER_EIO ? EXIT_IO : EXIT_VERIFY;
			break;
		}
		if (ctl_read_file(b->tmp, &bytes, &len) != 0) {
			rc = ctl_fail(EXIT_IO, "cannot read %s: %s", b->tmp,
			    strerror(errno));
			break;
		}
		pos = 0;
		for (k = 0; k < b->t.width && ledger_bundle_next(
		    (const uint8_t *)bytes, len, &pos, &entry, &elen) == 0; k++)
			if (ledger_leaf_hash(entry, elen, leaf) != 0 ||
			    memcmp(leaf, leaves + (size_t)k * LEDGER_HASH_LEN,
			    LEDGER_HASH_LEN) != 0)
				break;
		name = origin_of(m, t);
		if (k < b->t.width)
			rc = ctl_verify_fail("/%s (fetched): entry %" PRIu64
			    " is missing or does not hash to its leaf in %s",
			    b->path, b->t.index * LEDGER_TILE_WIDTH + k, name);
		else if (pos != len)
			rc = ctl_verify_fail("/%s (fetched): bytes after its %u "
			    "entries", b->path, b->t.width);
		free(name);
		free(bytes);
		bytes = NULL;
	}
	free(leaves);
	return rc;
}

/* mkdir -p of the directories of a path relative to DIR. */
static int
make_parents(int dirfd, const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = strchr(p, '/'); s != NULL && rc == 0; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdirat(dirfd, p, 0777) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

/* fsync of the directory holding path (relative to DIR). */
static int
sync_parent(int dirfd, const char *path)
{
	char *p = xstrdup(path), *slash = strrchr(p, '/');
	int fd, rc;

	if (slash != NULL)
		*slash = '\0';
	fd = openat(dirfd, slash != NULL ? p : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Puts the fetched files in place, each by rename (a reader sees the whole
 * file or none), then makes the renames durable, so that the checkpoint
 * written after them never names a tile a crash could lose.
 */
static int
install(struct mirror *m, struct plan_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!files[i].fetch)
			continue;
		if (make_parents(m->dirfd, files[i].path) != 0 ||
		    renameat(AT_FDCWD, files[i].tmp, m->dirfd,
		    files[i].path) != 0)
			return ctl_fail(EXIT_IO, "cannot put %s/%s in place: %s",
			    m->dir, files[i].path, strerror(errno));
		free(files[i].tmp);
		files[i].tmp = NULL;
	}
	for (i = 0; i < n; i++)
		if (files[i].fetch && sync_parent(m->dirfd, files[i].path) != 0)
			return ctl_fail(EXIT_IO, "cannot sync the directory of "
			    "%s/%s: %s", m->dir, files[i].path, strerror(errno));
	return 0;
}

/* Removes DIR/<path>.p/ (partial tiles of a full one) and what it holds. */
static void
remove_partials(struct mirror *m, const struct ledger_tile *full)
{
	char path[LEDGER_TILE_PATH_MAX + 4];
	struct dirent *de;
	DIR *d;
	int fd;

	ledger_tile_path_format(full, path);
	strcat(path, ".p");
	if ((fd = openat(m->dirfd, path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			m->removed++;
	}
	closedir(d);
	unlinkat(m->dirfd, path, AT_REMOVEDIR);
}

/*
 * tlog-tiles lets a log delete a partial tile once the full tile exists.
 * Those whose full tile DIR already held at its previous checkpoint go:
 * a reader of that checkpoint needed none of them, and a reader of an
 * older one falls back to the full tile, as the spec lets clients do.
 */
static void
prune(struct mirror *m, int entries)
{
	struct ledger_tile t;
	int level;

	if (!m->have_old)
		return;
	for (level = entries ? LEDGER_TILE_LEVEL_ENTRIES : 0; level < m->levels;
	    level++) {
		t.level = level;
		t.width = LEDGER_TILE_WIDTH;
		for (t.index = 0; ledger_tile_width_at(level, t.index,
		    m->old_size) == LEDGER_TILE_WIDTH; t.index++)
			remove_partials(m, &t);
	}
}

/* rm -r of the temporary directory (flat: files only). */
static void
remove_tmpdir(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	char *f;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		f = xasprintf("%s/%s", path, de->d_name);
		unlink(f);
		free(f);
	}
	closedir(d);
	rmdir(path);
}

/* Writes the checkpoint last, atomically, and makes it durable. */
static int
write_checkpoint(struct mirror *m, const char *note)
{
	char *tmp = xasprintf("%s/checkpoint", m->tmpdir);
	int rc = 0;

	if (write_file(tmp, note, strlen(note)) != 0 ||
	    renameat(AT_FDCWD, tmp, m->dirfd, "checkpoint") != 0 ||
	    fsync(m->dirfd) != 0)
		rc = ctl_fail(EXIT_IO, "cannot write %s/checkpoint: %s", m->dir,
		    strerror(errno));
	free(tmp);
	return rc;
}

static void
show(const char *label, const char *note)
{
	fprintf(stderr, "--- %s ---\n%s", label, note);
}

/* Opens and locks DIR, creating it when missing; 0 or an exit code. */
static int
open_dir(struct mirror *m)
{
	if (mkdir(m->dir, 0777) != 0 && errno != EEXIST)
		return ctl_fail(EXIT_IO, "cannot create %s: %s", m->dir,
		    strerror(errno));
	if ((m->dirfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ctl_fail(EXIT_IO, "cannot open %s: %s", m->dir,
		    strerror(errno));
	/* One writer at a time; readers (the web server) need no lock. */
	if (flock(m->dirfd, LOCK_EX | LOCK_NB) != 0)
		return ctl_fail(EXIT_IO, "%s: %s", m->dir, errno == EWOULDBLOCK ?
		    "another ledgerctl mirror is writing it" : strerror(errno));
	m->tmpdir = xasprintf("%s/%s", m->dir, TMP_DIR);
	/* What a run that died left behind was never put in place. */
	remove_tmpdir(m->tmpdir);
	if (mkdir(m->tmpdir, 0700) != 0)
		return ctl_fail(EXIT_IO, "cannot create %s: %s", m->tmpdir,
		    strerror(errno));
	return 0;
}

static void
report(struct mirror *m, const struct ledger_checkpoint *cp, int json,
    const char *verdict)
{
	json_t *out;

	if (json) {
		out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:s, s:b}", "dir", m->dir, "origin", cp->origin,
		    "tree_size", (json_int_t)cp->tree_size, "previous_size",
		    (json_int_t)m->old_size, "fetched_tiles",
		    (json_int_t)m->fetched_tiles, "fetched_bundles",
		    (json_int_t)m->fetched_bundles, "bytes",
		    (json_int_t)m->bytes, "kept", (json_int_t)m->kept,
		    "removed_partials", (json_int_t)m->removed, "verdict",
		    verdict, "verified", 1);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
		return;
	}
	printf("mirror of %s in %s: tree size %" PRIu64 " (was %s%" PRIu64
	    "), %s\n  fetched %" PRIu64 " hash tiles and %" PRIu64 " entry "
	    "bundles (%" PRIu64 " bytes), kept %" PRIu64 " files, removed %"
	    PRIu64 " superseded partial tiles\n  every file fetched verified "
	    "against the signed checkpoint before it was put in place\n",
	    cp->origin, m->dir, cp->tree_size, m->have_old ? "" : "none, ",
	    m->old_size, verdict, m->fetched_tiles, m->fetched_bundles,
	    m->bytes, m->kept, m->removed);
}

int
cmd_mirror(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "out", required_argument, NULL, 'o' },
	    { "no-entries", no_argument, NULL, 'n' },
	    { NULL, 0, NULL, 0 } };
	struct ledger_checkpoint old, cp;
	struct ledger_hash_store hs;
	struct tile_store *ts = NULL;
	struct mirror m;
	char *saved = NULL, *note = NULL, *old_path = NULL;
	const char *verdict;
	uint8_t root[LEDGER_HASH_LEN];
	size_t saved_len, i;
	int c, rc, entries = 1;

	memset(&m, 0, sizeof(m));
	m.dirfd = -1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		case 'o': m.dir = optarg; break;
		case 'n': entries = 0; break;
		default:
			if (!ctl_common_option(ctl, c, optarg))
				return ctl_usage_error("mirror", "bad option");
		}
	}
	if (optind != argc || m.dir == NULL)
		return ctl_usage_error("mirror", "give --out DIR and no "
		    "arguments");
	m.ctl = ctl;
	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	if (ctl_http(ctl) == NULL)
		return EXIT_USAGE;
	if ((rc = open_dir(&m)) != 0)
		goto out;
	old_path = xasprintf("%s/checkpoint", m.dir);
	if (ctl_read_file(old_path, &saved, &saved_len) == 0) {
		/* DIR's own checkpoint: it was verified when it was written. */
		if ((rc = ctl_open_checkpoint_unwitnessed(ctl, saved, saved_len,
		    old_path, &old)) != 0)
			goto out;
		m.have_old = 1;
		m.old_size = old.tree_size;
	} else if (errno != ENOENT) {
		rc = ctl_fail(EXIT_IO, "cannot read %s: %s", old_path,
		    strerror(errno));
		goto out;
	}
	if ((rc = ctl_fetch_checkpoint(ctl, &cp, &note)) != 0)
		goto out;
	if (m.have_old && cp.tree_size < old.tree_size) {
		rc = ctl_fail(EXIT_SPLIT, "ROLLBACK: the log's checkpoint has "
		    "tree size %" PRIu64 ", smaller than the %" PRIu64 " of %s; "
		    "nothing was changed", cp.tree_size, old.tree_size,
		    old_path);
		show("in the mirror", saved);
		show("served now", note);
		goto out;
	}
	if (m.have_old && cp.tree_size == old.tree_size &&
	    memcmp(cp.root, old.root, LEDGER_HASH_LEN) != 0) {
		rc = ctl_fail(EXIT_SPLIT, "FORK (split view): the checkpoint of "
		    "size %" PRIu64 " has another root than the one of %s; both "
		    "are signed by %s; nothing was changed", cp.tree_size,
		    old_path, ctl->key.name);
		show("in the mirror", saved);
		show("served now", note);
		goto out;
	}
	m.new_size = cp.tree_size;
	plan(&m, entries);
	if ((rc = fetch_all(&m)) != 0)
		goto out;
	/* Nothing is put in place before all of it is verified. */
	ts = tile_store_new_reader(cp.tree_size, CACHE_TILES, read_planned, &m);
	hs = tile_store_hash_store(ts);
	if ((rc = check_root(&m, &hs, &cp)) != 0)
		goto out;
	/*
	 * Before the tiles below: the old tree's root is computed from the
	 * right edge just fetched (what is left of the old right edge is in
	 * it), so a fork is told from a file of DIR that was altered.
	 */
	if (m.have_old && (rc = ledger_merkle_root(&hs, m.old_size,
	    root)) != 0) {
		rc = rc == LEDGER_EIO ? EXIT_IO : EXIT_VERIFY;	/* said */
		goto out;
	}
	if (m.have_old && memcmp(root, old.root, LEDGER_HASH_LEN) != 0) {
		/* The tiles lead to the new signed root: the old one is not in it. */
		rc = ctl_fail(EXIT_SPLIT, "FORK (split view): the checkpoint of "
		    "size %" PRIu64 " is not consistent with the one of size %"
		    PRIu64 " in %s; both are signed by %s; nothing was changed",
		    cp.tree_size, old.tree_size, old_path, ctl->key.name);
		show("in the mirror", saved);
		show("served now", note);
		goto out;
	}
	if ((rc = check_children(&m)) != 0 || (rc = check_bundles(&m)) != 0)
		goto out;
	if ((rc = install(&m, m.tiles, m.n_tiles)) != 0 ||
	    (rc = install(&m, m.bundles, m.n_bundles)) != 0)
		goto out;
	verdict = !m.have_old ? "first checkpoint" : cp.tree_size !=
	    old.tree_size ? "consistent with the checkpoint it held" :
	    strcmp(saved, note) == 0 ? "unchanged" : "the same tree, its "
	    "checkpoint text updated (cosignatures)";
	/* Last: a reader that sees it finds every tile it names. */
	if ((!m.have_old || strcmp(saved, note) != 0) &&
	    (rc = write_checkpoint(&m, note)) != 0)
		goto out;
	prune(&m, entries);
	report(&m, &cp, ctl->json, verdict);
	rc = EXIT_OK;
out:
	tile_store_free(ts);
	for (i = 0; i < m.n_tiles; i++)
		free(m.tiles[i].tmp);
	for (i = 0; i < m.n_bundles; i++)
		free(m.bundles[i].tmp);
	free(m.tiles);
	free(m.bundles);
	if (m.tmpdir != NULL)
		remove_tmpdir(m.tmpdir);
	free(m.tmpdir);
	if (m.dirfd >= 0)
		close(m.dirfd);
	free(saved);
	free(note);
	free(old_path);
	return rc;
}
