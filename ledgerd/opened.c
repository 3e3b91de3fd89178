/*
 * The opened values of an answer's entries in one key ring exchange
 * (opened.h).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/sealed.h"
#include "ledger/xmalloc.h"

#include "jsontext.h"
#include "keyring.h"
#include "log.h"
#include "opened.h"
#include "retention.h"
#include "server.h"
#include "store.h"

/* Where one entry's "opened" member goes, and the ops that open it. */
struct opened_mark {
	size_t at;			/* offset in the answer's text */
	uint64_t seq;
	json_t *opened;			/* destroyed markers, then values */
	size_t first_op, n_ops;
};

struct opened_answer {
	struct server *srv;
	struct opened_mark *marks;
	size_t n_marks, cap_marks;
	struct keyring_op *ops;		/* KEYRING_OPEN, in mark order */
	char **fields;			/* the field each op opens */
	size_t n_ops, cap_ops;
};

struct opened_answer *
opened_answer_new(struct server *srv)
{
	struct opened_answer *a = xcalloc(1, sizeof(*a));

	a->srv = srv;
	return a;
}

static struct opened_mark *
new_mark(struct opened_answer *a, size_t at, uint64_t seq)
{
	struct opened_mark *m;

	if (a->n_marks == a->cap_marks) {
		a->cap_marks = a->cap_marks ? 2 * a->cap_marks : 16;
		a->marks = xrealloc(a->marks, a->cap_marks * sizeof(*a->marks));
	}
	m = &a->marks[a->n_marks++];
	m->at = at;
	m->seq = seq;
	m->opened = json_object();
	m->first_op = a->n_ops;
	m->n_ops = 0;
	return m;
}

static struct keyring_op *
new_op(struct opened_answer *a, struct opened_mark *m, const char *field)
{
	struct keyring_op *op;

	if (a->n_ops == a->cap_ops) {
		a->cap_ops = a->cap_ops ? 2 * a->cap_ops : 16;
		a->ops = xrealloc(a->ops, a->cap_ops * sizeof(*a->ops));
		a->fields = xrealloc(a->fields, a->cap_ops * sizeof(*a->fields));
	}
	op = &a->ops[a->n_ops];
	memset(op, 0, sizeof(*op));
	op->kind = KEYRING_OPEN;
	a->fields[a->n_ops++] = xstrdup(field);
	m->n_ops++;
	return op;
}

int
opened_answer_mark(struct opened_answer *a, struct store_txn *txn,
    uint64_t seq, const json_t *entry, struct json_text *t)
{
	const json_t *sealed = json_object_get(entry, "sealed"), *c;
	const char *field, *period;
	struct opened_mark *m;
	struct keyring_op *op;
	const uint8_t *ct;
	uint64_t by;
	size_t len;
	int rc;

	if (json_is_object(sealed)) {
		if (json_object_size(sealed) > LEDGER_SEALED_FIELDS_MAX)
			return LEDGER_ECORRUPT;
		m = new_mark(a, t->len, seq);
		json_object_foreach((json_t *)sealed, field, c) {
			if ((rc = store_get_sealed(txn, seq, field, &period, &ct,
			    &len)) != 0) {
				log_warnx("retention: entry %" PRIu64 ": no sealed "
				    "%s: %s", seq, field, ledger_strerror(rc));
				return rc == LEDGER_ENOTFOUND ? LEDGER_ECORRUPT : rc;
			}
			rc = retention_destroyed_by(txn, period, &by);
			if (rc == 0) {
				json_object_set_new(m->opened, field,
				    json_pack("{s:I}", "destroyed", (json_int_t)by));
				continue;
			}
			if (rc != LEDGER_ENOTFOUND)
				return rc;
			op = new_op(a, m, field);
			snprintf(op->period, sizeof(op->period), "%s", period);
			op->msg = ct;
			op->msg_len = len;
		}
	}
	if (retention_restricted(a->srv, entry))
		jsontext_str(t, ",\"restricted\":true");
	return LEDGER_OK;
}

/* Puts the opened values of m's ops into m->opened. */
static int
take_values(struct opened_answer *a, struct opened_mark *m)
{
	struct keyring_op *op;
	json_t *o;
	size_t k;
	int rc;

	for (k = m->first_op; k < m->first_op + m->n_ops; k++) {
		op = &a->ops[k];
		/*
		 * The record is committed before the secret goes, so a period
		 * the key ring calls destroyed always has one: this is damage.
		 */
		if ((rc = op->rc) != 0 || (rc = ledger_sealed_opened(a->fields[k],
		    op->out, op->out_len, &o)) != 0) {
			log_warnx("retention: entry %" PRIu64 ": cannot open %s "
			    "(period %s): %s", m->seq, a->fields[k], op->period,
			    keyring_strerror(rc));
			return LEDGER_ECORRUPT;
		}
		json_object_set_new(m->opened, a->fields[k], o);
	}
	return LEDGER_OK;
}

/* Wipes and frees texts[0..n). */
static void
texts_free(char **texts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (texts[i] != NULL) {
			OPENSSL_cleanse(texts[i], strlen(texts[i]));
			free(texts[i]);
		}
	free(texts);
}

int
opened_answer_finish(struct opened_answer *a, struct json_text *t)
{
	struct json_text out = { NULL, 0, 0 };
	char **texts;
	size_t i, pos = 0, more = 0;
	int rc;

	if (a->n_marks == 0)
		return LEDGER_OK;
	if (a->n_ops > 0 && (rc = keyring_run_all(a->srv->keyring, a->ops,
	    a->n_ops)) != 0)
		return rc;
	texts = xcalloc(a->n_marks, sizeof(*texts));
	for (i = 0; i < a->n_marks; i++) {
		if ((rc = take_values(a, &a->marks[i])) != 0) {
			texts_free(texts, a->n_marks);
			return rc;
		}
		if ((texts[i] = json_dumps(a->marks[i].opened,
		    JSON_COMPACT)) == NULL) {
			texts_free(texts, a->n_marks);
			return LEDGER_EINVAL;
		}
		more += strlen(",\"opened\":") + strlen(texts[i]);
	}
	/* Sized once: no realloc leaves a copy of a value behind. */
	jsontext_reserve(&out, t->len + more);
	for (i = 0; i < a->n_marks; i++) {
		jsontext_raw(&out, t->buf + pos, a->marks[i].at - pos);
		jsontext_str(&out, ",\"opened\":");
		jsontext_str(&out, texts[i]);
		pos = a->marks[i].at;
	}
	jsontext_raw(&out, t->buf + pos, t->len - pos);
	texts_free(texts, a->n_marks);
	free(t->buf);			/* held no value */
	*t = out;
	return LEDGER_OK;
}

void
opened_answer_free(struct opened_answer *a)
{
	size_t i;

	if (a == NULL)
		return;
	keyring_op_release(a->ops, a->n_ops);	/* wipes the values */
	for (i = 0; i < a->n_ops; i++)
		free(a->fields[i]);
	for (i = 0; i < a->n_marks; i++)
		json_decref(a->marks[i].opened);
	free(a->ops);
	free(a->fields);
	free(a->marks);
	free(a);
}
