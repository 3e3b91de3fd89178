/*
 * MANIFEST (see manifest.h): written after the other files, checked first;
 * strict, so that a changed name, hash or line break is a problem too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ledger/xmalloc.h"

#include "ctl.h"
#include "manifest.h"

const char *const bundle_files[BUNDLE_NFILES] = {
	"README", "checkpoint", "context.jsonl", "context.proofs", "entries.csv",
	"entries.jsonl", "opened.jsonl", "proofs",
};

const char bundle_readme[] =
    "Compliance bundle of a ledgerd log, written by ledgerctl export.\n"
    "\n"
    "Check it offline with the log's verifier key:\n"
    "    ledgerctl verify-export DIR --key VKEY\n"
    "It prints what it proved: that every entry is in the signed log and\n"
    "matches what the export entry records, and, for an export without org,\n"
    "subject or object filter, that the entries are all of the log in the\n"
    "range.\n"
    "\n"
    "entries.jsonl   the exported entries, one a line, as the log stores them\n"
    "proofs          an inclusion proof (C2SP tlog-proof) per line of\n"
    "                entries.jsonl\n"
    "context.jsonl   the export's own entry (the last line), which records\n"
    "                the filters; before it, for an export without org,\n"
    "                subject or object filter, the entries just outside\n"
    "                the range\n"
    "context.proofs  an inclusion proof per line of context.jsonl\n"
    "checkpoint      the signed checkpoint every proof refers to\n"
    "entries.csv     entries.jsonl as a table (RFC 4180, CRLF)\n"
    "opened.jsonl    the sealed values of the entries that seal fields, with\n"
    "                their salts, or the destruction that ended them; each is\n"
    "                checked against the commitment its entry holds\n"
    "MANIFEST        the SHA-256 of each file (sha256sum -c MANIFEST)\n"
    "\n"
    "entries.csv is a view of entries.jsonl, which is the record.  Formula\n"
    "guard: a cell whose first character is = + - @ TAB CR or ' is written\n"
    "with a ' in front, so that a spreadsheet shows it as text instead of\n"
    "taking it for a formula; the value is the cell without that first '.\n";

int
file_sha256(const char *path, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[1 << 16];
	unsigned int n = 0;
	size_t got;
	FILE *f;
	int rc = -1;

	if (ctx == NULL || (f = fopen(path, "rb")) == NULL) {
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		if (EVP_DigestUpdate(ctx, buf, got) != 1)
			goto out;
	if (!ferror(f) && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 32)
		rc = 0;
out:
	fclose(f);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void
hex(const uint8_t h[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

int
manifest_write(const char *dir)
{
	uint8_t h[32];
	char *path, hx[65];
	FILE *f;
	int i, rc = 0;

	path = xasprintf("%s/MANIFEST", dir);
	f = fopen(path, "wx");
	free(path);
	if (f == NULL)
		return -1;
	for (i = 0; i < BUNDLE_NFILES && rc == 0; i++) {
		path = xasprintf("%s/%s", dir, bundle_files[i]);
		if (file_sha256(path, h) != 0)
			rc = -1;
		else {
			hex(h, hx);
			fprintf(f, "%s  %s\n", hx, bundle_files[i]);
		}
		free(path);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

size_t
manifest_check(const char *dir, void (*report)(void *arg, const char *msg),
    void *arg)
{
	char *path = xasprintf("%s/MANIFEST", dir), *text = NULL, *line, *nl;
	char expect[128], msg[512], hx[65];
	size_t len, problems = 0;
	uint8_t h[32];
	int i;

	if (ctl_read_file(path, &text, &len) != 0) {
		snprintf(msg, sizeof(msg), "MANIFEST: cannot read it: %s",
		    strerror(errno));
		report(arg, msg);
		free(path);
		return 1;
	}
	free(path);
	if (strlen(text) != len) {
		report(arg, "MANIFEST: holds a NUL byte");
		problems++;
	}
	line = text;
	for (i = 0; i < BUNDLE_NFILES; i++) {
		if ((nl = strchr(line, '\n')) == NULL) {
			snprintf(msg, sizeof(msg), "MANIFEST line %d: missing or "
			    "not ended by a newline (want the line for %s)",
			    i + 1, bundle_files[i]);
			report(arg, msg);
			problems++;
			break;
		}
		*nl = '\0';
		snprintf(expect, sizeof(expect), "  %s", bundle_files[i]);
		if (strlen(line) != 64 + strlen(expect) ||
		    strcmp(line + 64, expect) != 0 ||
		    strspn(line, "0123456789abcdef") != 64) {
			snprintf(msg, sizeof(msg), "MANIFEST line %d: malformed "
			    "(want \"<64 hex>  %s\")", i + 1, bundle_files[i]);
			report(arg, msg);
			problems++;
		} else {
			path = xasprintf("%s/%s", dir, bundle_files[i]);
			if (file_sha256(path, h) != 0) {
				snprintf(msg, sizeof(msg), "%s: cannot read it: "
				    "%s", bundle_files[i], strerror(errno));
				report(arg, msg);
				problems++;
			} else {
				hex(h, hx);
				if (memcmp(hx, line, 64) != 0) {
					snprintf(msg, sizeof(msg), "MANIFEST "
					    "line %d: the SHA-256 listed for %s "
					    "does not match the file", i + 1,
					    bundle_files[i]);
					report(arg, msg);
					problems++;
				}
			}
			free(path);
		}
		line = nl + 1;
	}
	if (problems == 0 && *line != '\0') {
		report(arg, "MANIFEST: lines after the last file");
		problems++;
	}
	free(text);
	return problems;
}
