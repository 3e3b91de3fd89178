/*
 * ledger_entry_write against its reference: ledger_entry_build_tokens, then
 * ledger_entry_seal_plain under a policy, then Jansson's json_dumpb.  Every
 * case must give the same result code and, when it succeeds, the same
 * bytes.  The policy's fields are sealable names, as every policy's are.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/base64.h"
#include "ledger/entry.h"
#include "ledger/entry_write.h"
#include "ledger/error.h"
#include "ledger/sealed.h"

#include "entry_reference.h"
#include "rnd.h"
#include "testlib.h"

/* rnd(), but 0 for n 0, and then without a draw. */
static size_t
below(size_t n)
{
	return n ? (size_t)rnd(n) : 0;
}

static size_t cases, written;

#define AGREES(ev, meta, tokens, n, sealing) \
	agrees_(__FILE__, __LINE__, ev, meta, tokens, n, sealing)

static void
agrees_(const char *file, int line, const json_t *event,
    const struct ledger_entry_meta *meta, const char *const *tokens,
    size_t n_tokens, const struct ledger_entry_sealing *sealing)
{
	char *want, *got;
	size_t want_len, got_len;
	int want_rc, got_rc;

	want_rc = entry_reference(event, meta, tokens, n_tokens, sealing, &want,
	    &want_len);
	got_rc = ledger_entry_write(event, meta, tokens, n_tokens, sealing,
	    &got, &got_len);
	cases++;
	if (got_rc != want_rc || got_len != want_len ||
	    (want_rc == 0 && memcmp(got, want, want_len) != 0)) {
		char *text = json_dumps(event, JSON_COMPACT | JSON_ENCODE_ANY);
		fprintf(stderr, "  %s:%d: rc %d, want %d; %zu bytes, want %zu\n"
		    "    event %s\n    got  %.*s\n    want %.*s\n", file, line,
		    got_rc, want_rc, got_len, want_len, text ? text : "?",
		    (int)(got_len > 400 ? 400 : got_len), got ? got : "",
		    (int)(want_len > 400 ? 400 : want_len), want ? want : "");
		free(text);
		test_failures_++;
	}
	if (got_rc == 0)
		written++;
	free(want);
	free(got);
}

static void
default_meta(struct ledger_entry_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->seq = 42;
	snprintf(meta->received_at, sizeof(meta->received_at), "%s",
	    "2026-03-04T05:06:07.123456Z");
	meta->submitter = "police-app";
	for (int i = 0; i < LEDGER_HASH_LEN; i++)
		meta->prev[i] = (uint8_t)(i * 7);
	for (int i = 0; i < LEDGER_SALT_LEN; i++)
		meta->salt[i] = (uint8_t)(0xa0 + i);
}

static const char *const token_a = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
static const char *const token_b = "_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-0";

static json_t *
sample_event(void)
{
	return json_pack("{s:s, s:{s:s, s:s}, s:[s, s], s:[s], s:{s:s}, "
	    "s:s, s:s, s:s, s:[i], s:{s:i, s:s, s:[b, n, f]}}",
	    "type", "share",
	    "actor", "org", "police", "user", "officer \xc3\xa9",
	    "subjects", "NL-123", "NL-456",
	    "recipients", "fiod",
	    "object", "ref", "case/1",
	    "purpose", "risk \"assessment\"",
	    "legal_basis", "art. 20",
	    "occurred_at", "2026-03-04T05:00:00+01:00",
	    "refs", 3,
	    "details", "count", 2, "note", "tab\there \xf0\x9f\x98\x80",
	    "list", 1, 0.25);
}

/* The worked cases: a full event, and each way the reference refuses one. */
static void
test_cases(void)
{
	struct ledger_entry_meta meta;
	const char *tokens[2] = { token_a, token_b };
	const char *bad[2] = { token_a, "not a token" };
	json_t *ev = sample_event(), *e;
	size_t i;

	default_meta(&meta);
	AGREES(ev, &meta, tokens, 2, NULL);
	AGREES(ev, &meta, tokens, 1, NULL);
	AGREES(ev, &meta, bad, 2, NULL);
	AGREES(ev, &meta, NULL, 2, NULL);
	AGREES(ev, &meta, tokens, 3, NULL);

	meta.seq = (uint64_t)INT64_MAX;
	AGREES(ev, &meta, tokens, 2, NULL);
	meta.seq = (uint64_t)INT64_MAX + 1;
	AGREES(ev, &meta, tokens, 2, NULL);
	default_meta(&meta);
	meta.seq = 0;
	AGREES(ev, &meta, tokens, 2, NULL);

	meta.submitter = NULL;
	AGREES(ev, &meta, tokens, 2, NULL);
	meta.submitter = "\xff bad utf-8";
	AGREES(ev, &meta, tokens, 2, NULL);
	meta.submitter = "quote \" back\\slash \x01 \xe2\x82\xac";
	AGREES(ev, &meta, tokens, 2, NULL);
	meta.submitter = "";
	AGREES(ev, &meta, tokens, 2, NULL);
	default_meta(&meta);
	snprintf(meta.received_at, sizeof(meta.received_at), "%s",
	    "2026-02-30T05:06:07.123456Z");
	AGREES(ev, &meta, tokens, 2, NULL);
	snprintf(meta.received_at, sizeof(meta.received_at), "%s", "2026");
	AGREES(ev, &meta, tokens, 2, NULL);
	default_meta(&meta);

	/* A server field, or "sealed", in the event. */
	static const char *const names[] = { "v", "seq", "received_at",
	    "submitter", "prev", "salt", "sealed" };
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		e = json_deep_copy(ev);
		json_object_set_new(e, names[i], json_integer(1));
		AGREES(e, &meta, tokens, 2, NULL);
		json_decref(e);
	}

	/* subjects that are not an array of strings, or absent. */
	e = json_deep_copy(ev);
	json_object_set_new(e, "subjects", json_string("NL-1"));
	AGREES(e, &meta, tokens, 0, NULL);
	json_object_set_new(e, "subjects", json_pack("[s, i]", "NL-1", 2));
	AGREES(e, &meta, tokens, 2, NULL);
	json_object_set_new(e, "subjects", json_array());
	AGREES(e, &meta, tokens, 0, NULL);
	json_object_del(e, "subjects");
	AGREES(e, &meta, tokens, 0, NULL);
	AGREES(e, &meta, tokens, 2, NULL);
	json_decref(e);

	/* Not an object. */
	e = json_array();
	AGREES(e, &meta, NULL, 0, NULL);
	json_decref(e);
	e = json_object();
	AGREES(e, &meta, NULL, 0, NULL);
	json_decref(e);

	/* Keys that sort between and around the server's. */
	e = json_deep_copy(ev);
	static const char *const near[] = { "", "s", "sa", "salt0", "sealeb",
	    "seq\x7f", "submitter0", "prev_", "u", "v0", "\xc3\xa9", "~",
	    "recei", "A", "0" };
	for (i = 0; i < sizeof(near) / sizeof(near[0]); i++)
		json_object_set_new(e, near[i], json_integer((json_int_t)i));
	AGREES(e, &meta, tokens, 2, NULL);
	/* A key with a NUL inside. */
	json_object_setn_new(e, "v\0x", 3, json_true());
	json_object_setn_new(e, "subjects\0", 9, json_null());
	AGREES(e, &meta, tokens, 2, NULL);
	json_decref(e);
	json_decref(ev);
}

/* Entries around the first-try buffer and the size limit. */
static void
test_sizes(void)
{
	struct ledger_entry_meta meta;
	json_t *ev = json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "query",
	    "actor", "org", "police", "user", "u", "occurred_at",
	    "2026-03-04T05:00:00Z");
	size_t sizes[] = { 0, 3500, 3900, 4000, 4096, 4200, 9000, 65000,
	    65400, 65450, 65500, 70000 };
	char *pad;

	default_meta(&meta);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int delta = -40; delta <= 40; delta += 8) {
			size_t n = sizes[i] + (size_t)(delta + 40);

			pad = malloc(n + 1);
			memset(pad, 'x', n);
			pad[n] = '\0';
			json_object_set_new(ev, "purpose", json_string(pad));
			AGREES(ev, &meta, NULL, 0, NULL);
			/* An escaped character costs six bytes. */
			if (n > 0)
				pad[n / 2] = '\x01';
			json_object_set_new(ev, "purpose", json_string(pad));
			AGREES(ev, &meta, NULL, 0, NULL);
			free(pad);
		}
	}
	/* Exactly the largest entry, and one byte more. */
	char *bytes;
	size_t len, base;
	pad = calloc(1, 70000);
	memset(pad, 'x', 60000);
	json_object_set_new(ev, "purpose", json_string(pad));
	REQUIRE(ledger_entry_write(ev, &meta, NULL, 0, NULL, &bytes, &base) == 0);
	free(bytes);
	for (size_t want = LEDGER_ENTRY_MAX; want <= LEDGER_ENTRY_MAX + 1; want++) {
		size_t n = 60000 + (want - base);

		memset(pad, 'x', n);
		pad[n] = '\0';
		json_object_set_new(ev, "purpose", json_string(pad));
		AGREES(ev, &meta, NULL, 0, NULL);
		CHECK_INT(ledger_entry_write(ev, &meta, NULL, 0, NULL, &bytes,
		    &len), want == LEDGER_ENTRY_MAX ? 0 : LEDGER_ETOOBIG);
		if (want == LEDGER_ENTRY_MAX)
			CHECK_INT(len, LEDGER_ENTRY_MAX);
		free(bytes);
	}
	free(pad);
	json_decref(ev);
}

static const char *const sealable[] = { "purpose", "legal_basis", "details" };

/*
 * Every policy (each ordered choice of the sealable fields) against every
 * event holding some of them, with plaintexts made as the writer makes
 * them; then plaintexts that do not fit.
 */
static void
test_sealing_exhaustive(void)
{
	struct ledger_entry_meta meta;
	struct ledger_entry_sealing sealing;
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX], swap;
	const char *tokens[2] = { token_a, token_b };
	const char *fields[LEDGER_SEALED_FIELDS_MAX];
	json_t *full = sample_event(), *ev;
	size_t n_plain;

	default_meta(&meta);
	for (unsigned held = 0; held < 8; held++) {
		ev = json_deep_copy(full);
		for (int f = 0; f < 3; f++)
			if (!(held & (1u << f)))
				json_object_del(ev, sealable[f]);
		/* Policies: every ordered choice of 0 to 3 fields. */
		for (unsigned code = 0; code < 64; code++) {
			size_t n = 0;
			unsigned c = code, used = 0, ok = 1;

			for (int k = 0; k < 3 && c != 0; k++, c >>= 2) {
				unsigned f = c & 3;
				if (f == 3 || (used & (1u << f))) {
					ok = 0;
					break;
				}
				used |= 1u << f;
				fields[n++] = sealable[f];
			}
			if (!ok)
				continue;
			REQUIRE(ledger_sealed_plain_make(ev, fields, n, plain,
			    &n_plain) == 0);
			sealing.fields = fields;
			sealing.n_fields = n;
			sealing.plain = plain;
			sealing.n_plain = n_plain;
			AGREES(ev, &meta, tokens, 2, &sealing);
			/* One plaintext too few, and out of order. */
			if (n_plain > 0) {
				sealing.n_plain = n_plain - 1;
				AGREES(ev, &meta, tokens, 2, &sealing);
				sealing.n_plain = n_plain;
			}
			if (n_plain > 1) {
				swap = plain[0];
				plain[0] = plain[1];
				plain[1] = swap;
				AGREES(ev, &meta, tokens, 2, &sealing);
				swap = plain[0];
				plain[0] = plain[1];
				plain[1] = swap;
			}
			/* A plaintext of another value. */
			if (n_plain > 0) {
				plain[0].plain[plain[0].plain_len - 1] ^= 1;
				AGREES(ev, &meta, tokens, 2, &sealing);
				plain[0].plain[plain[0].plain_len - 1] ^= 1;
			}
			ledger_sealed_plain_free(plain, n_plain);
		}
		/* A field named twice; a plaintext of a field not held. */
		if (held & 1) {
			struct ledger_sealed_plain two[LEDGER_SEALED_FIELDS_MAX];
			size_t n_two;

			fields[0] = fields[1] = "purpose";
			REQUIRE(ledger_sealed_plain_make(ev, fields, 1, plain,
			    &n_plain) == 0);
			sealing.fields = fields;
			sealing.n_fields = 2;
			sealing.plain = plain;
			sealing.n_plain = n_plain;
			AGREES(ev, &meta, tokens, 2, &sealing);
			ledger_sealed_plain_free(plain, n_plain);
			REQUIRE(ledger_sealed_plain_make(full, sealable, 3, two,
			    &n_two) == 0);
			sealing.fields = sealable;
			sealing.n_fields = 3;
			sealing.plain = two;
			sealing.n_plain = n_two;
			AGREES(ev, &meta, tokens, 2, &sealing);
			ledger_sealed_plain_free(two, n_two);
		}
		/* "sealed" already in the event. */
		json_object_set_new(ev, "sealed", json_object());
		fields[0] = "purpose";
		REQUIRE(ledger_sealed_plain_make(ev, fields, 1, plain,
		    &n_plain) == 0);
		sealing.fields = fields;
		sealing.n_fields = 1;
		sealing.plain = plain;
		sealing.n_plain = n_plain;
		AGREES(ev, &meta, tokens, 2, &sealing);
		ledger_sealed_plain_free(plain, n_plain);
		json_decref(ev);
	}
	json_decref(full);
}

/* A random JSON value of at most depth levels. */
static json_t *
random_value(int depth)
{
	static const char *const words[] = { "a", "ref", "\xc3\xa9t\xc3\xa9",
	    "\xf0\x9f\x94\x91", "q\"uo\\te", "nl\n", "\x7f", "/", "\x1f",
	    "", "details", "subjects", "seq" };
	json_t *v;
	size_t i, n;

	switch (below(depth > 0 ? 10 : 7)) {
	case 0:
		return json_integer((json_int_t)(rnd64() >> below(64)) *
		    (rnd64() & 1 ? -1 : 1));
	case 1:
		return json_real((double)(int64_t)rnd64() / (double)(1 + below(1000000)));
	case 2:
		return json_true();
	case 3:
		return json_null();
	case 4:
	case 5:
		return json_string(words[below(sizeof(words) / sizeof(words[0]))]);
	case 6: {
		char buf[8];
		uint32_t cp;
		do
			cp = (uint32_t)below(0x110000);
		while (cp >= 0xd800 && cp <= 0xdfff);
		n = 0;
		if (cp < 0x80)
			buf[n++] = (char)cp;
		else if (cp < 0x800) {
			buf[n++] = (char)(0xc0 | cp >> 6);
			buf[n++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			buf[n++] = (char)(0xe0 | cp >> 12);
			buf[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			buf[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			buf[n++] = (char)(0xf0 | cp >> 18);
			buf[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
			buf[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			buf[n++] = (char)(0x80 | (cp & 0x3f));
		}
		return json_stringn(buf, n);
	}
	case 7:
		v = json_array();
		for (i = 0, n = below(5); i < n; i++)
			json_array_append_new(v, random_value(depth - 1));
		return v;
	default:
		v = json_object();
		for (i = 0, n = below(6); i < n; i++)
			json_object_set_new(v, words[below(sizeof(words) /
			    sizeof(words[0]))], random_value(depth - 1));
		return v;
	}
}

/*
 * Random events: the sample with members dropped, changed or added at
 * random, random metas and tokens, half of them under a random policy.
 */
static void
test_random(void)
{
	static const char *const extra[] = { "extra", "s", "sealed", "v",
	    "zz", "\xc3\xa9", "salt", "recipients0", "" };
	const char *fields[LEDGER_SEALED_FIELDS_MAX];
	const char *tokens[4] = { token_a, token_b, token_a, "bad token" };
	struct ledger_sealed_plain plain[LEDGER_SEALED_FIELDS_MAX];
	struct ledger_entry_sealing sealing;
	struct ledger_entry_meta meta;
	json_t *base = sample_event(), *ev;
	const char *name;
	json_t *value;
	void *tmp;
	size_t n_plain, n_tokens, n;

	for (int round = 0; round < 40000; round++) {
		ev = json_deep_copy(base);
		json_object_foreach_safe(ev, tmp, name, value) {
			switch (below(6)) {
			case 0:
				json_object_del(ev, name);
				break;
			case 1:
				json_object_set_new(ev, name, random_value(4));
				break;
			}
		}
		for (size_t i = 0, k = below(3); i < k; i++)
			json_object_set_new(ev, extra[below(sizeof(extra) /
			    sizeof(extra[0]))], random_value(3));
		default_meta(&meta);
		meta.seq = rnd64() >> below(64);
		meta.salt[below(LEDGER_SALT_LEN)] = (uint8_t)rnd64();
		meta.prev[below(LEDGER_HASH_LEN)] = (uint8_t)rnd64();
		if (below(8) == 0)
			meta.submitter = "\xe2\x82\xac \"sub\"";
		n_tokens = json_array_size(json_object_get(ev, "subjects"));
		if (n_tokens > 3 || below(10) == 0)
			n_tokens = below(5);
		if (below(2) == 0) {
			AGREES(ev, &meta, n_tokens ? tokens : NULL, n_tokens, NULL);
		} else {
			n = 0;
			for (int f = 0; f < 3; f++)
				if (below(2))
					fields[n++] = sealable[f];
			if (ledger_sealed_plain_make(ev, fields, n, plain,
			    &n_plain) != 0)
				n_plain = 0;
			sealing.fields = fields;
			sealing.n_fields = n;
			sealing.plain = plain;
			sealing.n_plain = n_plain;
			AGREES(ev, &meta, n_tokens ? tokens : NULL, n_tokens,
			    &sealing);
			ledger_sealed_plain_free(plain, n_plain);
		}
		json_decref(ev);
		if (test_failures_ > 5)
			break;
	}
	json_decref(base);
	/* The generator must reach both outcomes, often. */
	CHECK(written > cases / 4);
	CHECK(written < cases - cases / 10);
}

int
main(void)
{
	rnd_seed(0x9e3779b97f4a7c15ULL);
	RUN(test_cases);
	RUN(test_sizes);
	RUN(test_sealing_exhaustive);
	RUN(test_random);
	fprintf(stderr, "  %zu cases, %zu written\n", cases, written);
	return TEST_SUMMARY();
}
