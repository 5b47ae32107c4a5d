/*
 * sigv4_private.h - what the SigV4 stages share inside libec2ha.
 */
#ifndef EC2HA_SIGV4_PRIVATE_H
#define EC2HA_SIGV4_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/types.h>

#include "ec2ha/buf.h"
#include "ec2ha/error.h"
#include "ec2ha/sigv4.h"

#define SIGV4_CANON_CAP ((size_t)1024 * 1024)   /* any one canonical part */

/* CanonicalURI of a request-line path (normalised unless normalize is false). */
ec2ha_rc ec2ha_sigv4_canonical_uri(const char *path, bool normalize, ec2ha_buf *out);

/* CanonicalQueryString of a raw query (without '?'); NULL or "" appends nothing. */
ec2ha_rc ec2ha_sigv4_canonical_query(const char *query, ec2ha_buf *out, ec2ha_error *err);

/*
 * The libcrypto objects one signature needs, fetched once and reused for its two SHA-256
 * hashes and five HMACs.  OpenSSL 3's one-shot SHA256() and HMAC() look the algorithm up by
 * name (EVP_MD_fetch / EVP_MAC_fetch) and build a fresh context on every call.
 * Key material lives only inside mac_ctx, which OpenSSL wipes when it is re-keyed or freed.
 */
typedef struct ec2ha_sigv4_crypto {
    EVP_MD *sha256;
    EVP_MD_CTX *md_ctx;
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac_ctx;
} ec2ha_sigv4_crypto;

/* Fetch SHA-256 and HMAC-SHA256; on error *c is empty (closing it is still safe). */
ec2ha_rc ec2ha_sigv4_crypto_open(ec2ha_sigv4_crypto *c, ec2ha_error *err);
void ec2ha_sigv4_crypto_close(ec2ha_sigv4_crypto *c);
bool ec2ha_sigv4_crypto_sha256(ec2ha_sigv4_crypto *c, const void *data, size_t len,
                               unsigned char out[32]);
bool ec2ha_sigv4_crypto_hmac(ec2ha_sigv4_crypto *c, const void *key, size_t key_len,
                             const void *data, size_t len, unsigned char out[32]);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void ec2ha_sigv4_hex_encode(const unsigned char *in, size_t len, char *out);

/* The stages of sigv4.h on an open ec2ha_sigv4_crypto (ec2ha_sigv4_sign shares one). */
ec2ha_rc ec2ha_sigv4_canonical_request_with(ec2ha_sigv4_crypto *c,
                                            const ec2ha_sigv4_request *req, bool normalize_path,
                                            char **canonical_out, char **signed_headers_out,
                                            ec2ha_error *err);

#endif
