/*
 * TLS for the HTTP listener (spec §9.6): the OpenSSL server context and the
 * client certificate of a request's connection.  Certificates are checked
 * by OpenSSL against tls.client_ca during the handshake; which principal a
 * verified certificate names is decided per request (http.c).
 */
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"
#include "tls.h"

/* TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* OpenSSL's reason for the last failure, for an error message. */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : "unknown error";
}

/*
 * Lets the handshake go on whatever the verdict: SSL_get_verify_result()
 * keeps it, and the request that follows is answered 401 with the reason.
 */
static int
accept_any(int preverify_ok, X509_STORE_CTX *ctx)
{
	return 1;
}

SSL_CTX *
tls_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "ledgerd";
	STACK_OF(X509_NAME) *names;
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", ssl_reason());
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		snprintf(err, errlen, "TLS settings: %s", ssl_reason());
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		snprintf(err, errlen, "tls.cert %s: %s", cfg->tls_cert,
		    ssl_reason());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key,
	    SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "tls.key %s: %s", cfg->tls_key,
		    ssl_reason());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "tls.key %s does not match tls.cert %s",
		    cfg->tls_key, cfg->tls_cert);
		goto fail;
	}
	/* Resumed sessions keep the peer's certificate and verdict. */
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1) != 1) {
		snprintf(err, errlen, "TLS session context: %s", ssl_reason());
		goto fail;
	}
	if (cfg->tls_client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca,
		    NULL) != 1 ||
		    (names = SSL_load_client_CA_file(cfg->tls_client_ca)) ==
		    NULL) {
			snprintf(err, errlen, "tls.client_ca %s: %s",
			    cfg->tls_client_ca, ssl_reason());
			goto fail;
		}
		/* Tells clients which CA to pick a certificate for. */
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tls_peer_get(struct evhttp_request *req, struct tls_peer *out)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	unsigned int mdlen = 0;
	X509 *cert;
	BIO *bio;
	long vr;
	int n;
	SSL *ssl;

	memset(out, 0, sizeof(*out));
	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(evcon)) ==
	    NULL)
		return 0;
	/* evhttp's bufferevent is the guard's filter over the TLS one. */
	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL &&
	    (bev = bufferevent_get_underlying(bev)) != NULL)
		ssl = bufferevent_openssl_get_ssl(bev);
	if (ssl == NULL)
		return 0;
	out->tls = 1;
	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return 0;
	out->has_cert = 1;
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		out->error = X509_verify_cert_error_string(vr);
		return 0;
	}
	if (X509_digest(cert, EVP_sha256(), out->cert_sha256, &mdlen) != 1 ||
	    mdlen != LEDGER_HASH_LEN) {
		out->error = "cannot hash the certificate";
		return -1;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		out->error = "out of memory";
		return -1;
	}
	/* RFC 2253: most specific first, the form configs use. */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_read(bio, out->subject,
	    (int)sizeof(out->subject) - 1)) > 0 &&
	    BIO_pending(bio) == 0)
		out->subject[n] = '\0';
	else
		out->subject[0] = '\0';
	BIO_free(bio);
	out->verified = 1;
	return 0;
}
