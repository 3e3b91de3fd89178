/*
 * TLS for the HTTP listener: the server context built from the config's
 * certificate, key and client-CA bundle, and what a request's connection
 * says about the client certificate it presented.
 */
#ifndef LEDGERD_TLS_H
#define LEDGERD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "ledger/hash.h"

struct config;
struct evhttp_request;

/*
 * tls_ctx_new - a server context for cfg's tls.cert (a PEM chain, leaf
 * first), tls.key and, when set, tls.client_ca: TLS 1.2 at least (1.3
 * preferred by OpenSSL), forward-secret AEAD suites only for 1.2, no
 * renegotiation.  With a client CA the server asks for a certificate but
 * does not require one (tokens work too) and lets the handshake finish even
 * when the certificate does not verify: the request is then refused with a
 * JSON 401 naming the reason, which a handshake alert could not carry.
 *	err	out: why it failed (OpenSSL's reason included)
 * Returns a new context (SSL_CTX_free() it), or NULL.
 */
SSL_CTX *tls_ctx_new(const struct config *cfg, char *err, size_t errlen);

/* What a connection's client certificate shows. */
struct tls_peer {
	int tls;			/* the connection is TLS */
	int has_cert;			/* the client sent a certificate */
	int verified;			/* it chains to tls.client_ca, in date */
	const char *error;		/* why not (static), when !verified */
	uint8_t cert_sha256[LEDGER_HASH_LEN];	/* SHA-256 of its DER form */
	char subject[512];		/* RFC 2253 form, "" when too long */
};

/*
 * tls_peer_get - the client certificate of req's connection.
 *	out	out: filled; out->tls is 0 for a plain connection (or one that
 *		has gone)
 * Returns 0, or -1 when the certificate cannot be read (out->error says).
 */
int tls_peer_get(struct evhttp_request *req, struct tls_peer *out);

#endif
