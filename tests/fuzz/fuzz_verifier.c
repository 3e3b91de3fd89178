/*
 * Fuzzes the note-verifier key form `<name>+<hex id>+<base64(type||key)>`
 * and the matching PRIVATE+KEY signer form: whatever parses formats back
 * to the same text (the key ID's hex in lowercase), and its key ID is the one its name and key
 * give.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ledger/error.h"
#include "ledger/note.h"

#include "fuzz.h"

#define INPUT_MAX 1024

/*
 * Equal up to the case of the hex key ID after the name: parsers (ours and
 * Go's x/mod/sumdb/note) accept either case, formatting writes lowercase.
 */
static int
same_key_text(const char *formatted, const char *text)
{
	const char *plus = strchr(text, '+');
	size_t i, n = strlen(text);

	if (strlen(formatted) != n || plus == NULL)
		return 0;
	if (strncmp(text, "PRIVATE+KEY+", 12) == 0 && (plus = strchr(text + 12, '+')) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		int in_id = text + i > plus && text + i <= plus + 8;

		if (in_id ? tolower((unsigned char)text[i]) != formatted[i] :
		    text[i] != formatted[i])
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger_verifier v;
	struct ledger_signer *s = NULL;
	char *text, *again;
	int rc;

	if (size > INPUT_MAX)
		return -1;
	text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	rc = ledger_verifier_parse(text, &v);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL);
	if (rc == 0) {
		FUZZ_ASSERT(ledger_key_name_valid(v.name));
		FUZZ_ASSERT(v.type == LEDGER_SIGTYPE_ED25519 ||
		    v.type == LEDGER_SIGTYPE_COSIGNATURE);
		FUZZ_ASSERT(v.key_id == ledger_key_id(v.name, v.type, v.public_key));
		again = ledger_verifier_format(&v);
		FUZZ_ASSERT(same_key_text(again, text));
		free(again);
	}

	rc = ledger_signer_parse(text, &s);
	FUZZ_ASSERT(rc == 0 || rc == LEDGER_EINVAL || rc == LEDGER_ECRYPTO);
	if (rc == 0) {
		const struct ledger_verifier *pub = ledger_signer_verifier(s);

		FUZZ_ASSERT(pub->key_id ==
		    ledger_key_id(pub->name, pub->type, pub->public_key));
		again = ledger_signer_format(s);
		FUZZ_ASSERT(again != NULL && same_key_text(again, text));
		OPENSSL_cleanse(again, strlen(again));
		free(again);
		ledger_signer_free(s);
	}
	free(text);
	return 0;
}
