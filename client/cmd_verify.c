/*
 * ledgerctl verify: monitor mode.  The last verified checkpoint is kept in
 * a state file per log origin; a new one is accepted only when its
 * signature verifies and a consistency proof shows it extends the saved
 * one.  A smaller tree is a rollback, a different tree a fork (split view).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/xmalloc.h"

#include "ctl.h"

static const char usage_text[] =
    "usage: ledgerctl verify [options]\n"
    "Fetches the latest checkpoint, verifies its signature, proves that it\n"
    "extends the checkpoint saved by the previous run, and saves it.\n"
    "  --state FILE   the state file (default: $XDG_STATE_HOME/ledgerctl/\n"
    "                 ORIGIN.checkpoint, or ~/.local/state/ledgerctl/…)\n"
    "A rollback or fork exits with 4 and prints both checkpoints.\n";

/* mkdir -p with mode 0700 for the state directory. */
static int
make_dirs(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* The default state file of an origin; new string. */
static char *
default_state_path(const char *origin)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *dir, *name, *p, *path;

	if (xdg != NULL && xdg[0] == '/')
		dir = xasprintf("%s/ledgerctl", xdg);
	else if (home != NULL && home[0] != '\0')
		dir = xasprintf("%s/.local/state/ledgerctl", home);
	else
		return NULL;
	/* The origin is a schema-less URL: keep it readable, but one name. */
	name = xstrdup(origin);
	for (p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\' || *p == ':' || *p == ' ')
			*p = '_';
	if (name[0] == '.')
		name[0] = '_';
	path = xasprintf("%s/%s.checkpoint", dir, name);
	free(name);
	free(dir);
	return path;
}

/* Writes note to path atomically: a temporary file, fsync, rename, fsync dir. */
static int
save_atomically(const char *path, const char *note)
{
	char *tmp = xasprintf("%s.XXXXXX", path), *dcopy = xstrdup(path);
	size_t len = strlen(note), off = 0;
	ssize_t n;
	int fd, dfd, rc = -1;

	if (make_dirs(dirname(dcopy)) != 0)
		goto out;
	free(dcopy);
	dcopy = xstrdup(path);
	if ((fd = mkstemp(tmp)) < 0)
		goto out;
	while (off < len) {
		if ((n = write(fd, note + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off != len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	free(tmp);
	free(dcopy);
	return rc;
}

static void
show(FILE *f, const char *label, const char *note)
{
	fprintf(f, "--- %s ---\n%s", label, note);
}

int
cmd_verify(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS,
	    { "state", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	struct ledger_checkpoint cp, old;
	char *note = NULL, *saved = NULL, *path = NULL, root[48];
	const char *state = NULL, *verdict;
	size_t saved_len;
	json_t *out;
	int c, rc, have_old = 0;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("%s%s", usage_text, CTL_COMMON_HELP);
			return EXIT_OK;
		}
		if (c == 's')
			state = optarg;
		else if (!ctl_common_option(ctl, c, optarg))
			return ctl_usage_error("verify", "bad option");
	}
	if (optind != argc)
		return ctl_usage_error("verify", "no arguments expected");
	if ((rc = ctl_need_key(ctl)) != 0)
		return rc;
	path = state ? xstrdup(state) : default_state_path(ctl->key.name);
	if (path == NULL)
		return ctl_fail(EXIT_USAGE, "no state file: set --state, "
		    "XDG_STATE_HOME or HOME");
	if (ctl_read_file(path, &saved, &saved_len) == 0) {
		/* Our own file, but it proves nothing unless it verifies. */
		if ((rc = ctl_open_checkpoint_unwitnessed(ctl, saved,
		    saved_len, path, &old)) != 0)
			goto out;
		have_old = 1;
	} else if (errno != ENOENT) {
		rc = ctl_fail(EXIT_IO, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((rc = ctl_fetch_checkpoint(ctl, &cp, &note)) != 0)
		goto out;
	verdict = "first checkpoint, saved";
	if (have_old) {
		if (strcmp(old.origin, cp.origin) != 0) {
			rc = ctl_fail(EXIT_USAGE, "%s holds a checkpoint of %s, "
			    "not %s", path, old.origin, cp.origin);
			goto out;
		}
		if (cp.tree_size < old.tree_size) {
			ctl_fail(EXIT_SPLIT, "ROLLBACK: the log's checkpoint has "
			    "tree size %" PRIu64 ", smaller than the %" PRIu64
			    " verified before", cp.tree_size, old.tree_size);
			show(stderr, "saved (verified earlier)", saved);
			show(stderr, "served now", note);
			rc = EXIT_SPLIT;
			goto out;
		}
		rc = ctl_fetch_consistency(ctl, &old, &cp);
		if (rc == EXIT_SPLIT) {
			ctl_fail(EXIT_SPLIT, "FORK (split view): the checkpoint "
			    "of size %" PRIu64 " is not consistent with the one "
			    "of size %" PRIu64 " verified before; both are "
			    "signed by %s", cp.tree_size, old.tree_size,
			    ctl->key.name);
			show(stderr, "saved (verified earlier)", saved);
			show(stderr, "served now", note);
			rc = EXIT_SPLIT;
			goto out;
		}
		if (rc != 0)
			goto out;
		verdict = cp.tree_size == old.tree_size ? "unchanged" :
		    "consistent with the saved checkpoint, saved";
	}
	if ((!have_old || cp.tree_size != old.tree_size) &&
	    save_atomically(path, note) != 0) {
		rc = ctl_fail(EXIT_IO, "cannot save %s: %s", path,
		    strerror(errno));
		goto out;
	}
	ctl_hash_b64(cp.root, root);
	if (ctl->json) {
		out = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s}", "origin",
		    cp.origin, "tree_size", (json_int_t)cp.tree_size, "root",
		    root, "previous_size", (json_int_t)(have_old ?
		    old.tree_size : 0), "state", path, "verdict", verdict);
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else
		printf("%s: tree size %" PRIu64 " (was %s%" PRIu64 "), root %s: "
		    "%s\n", cp.origin, cp.tree_size, have_old ? "" : "none, ",
		    have_old ? old.tree_size : 0, root, verdict);
out:
	free(note);
	free(saved);
	free(path);
	return rc;
}
