/* Binary search of the log by received_at (see timerange.h). */
#include <jansson.h>

#include "ledger/entry.h"
#include "ledger/error.h"
#include "ledger/jsonparse.h"

#include "store.h"
#include "timerange.h"

/* received_at of entry seq, in microseconds. */
static int
received_us(struct store_txn *txn, uint64_t seq, int64_t *us)
{
	const char *bytes, *s;
	json_t *entry;
	size_t len;
	int rc;

	if ((rc = store_get_entry(txn, seq, &bytes, &len)) != 0)
		return rc;
	if ((entry = ledger_json_loadb(bytes, len, 0, NULL)) == NULL)
		return LEDGER_ECORRUPT;
	s = json_string_value(json_object_get(entry, "received_at"));
	rc = s != NULL && ledger_time_parse_rfc3339(s, us) == 0 ? 0 :
	    LEDGER_ECORRUPT;
	json_decref(entry);
	return rc;
}

int
seq_by_received_at(struct store_txn *txn, uint64_t lo, uint64_t hi, int64_t t,
    int strictly_after, uint64_t *out)
{
	uint64_t mid;
	int64_t us;
	int rc;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((rc = received_us(txn, mid, &us)) != 0)
			return rc;
		if (strictly_after ? us > t : us >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	*out = lo;
	return 0;
}
