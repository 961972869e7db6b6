/*
 * webhook_sig.h: Standard Webhooks 1.0 signatures.
 *
 * The secret is "whsec_" followed by the base64 of the key bytes. The
 * signature of a message is "v1," + base64(HMAC-SHA256(key,
 * "<webhook-id>.<webhook-timestamp>.<body>")). Pure functions: no I/O.
 *
 * Ownership: returned strings and key bytes belong to the caller (free).
 */
#ifndef BJ_WEBHOOK_SIG_H
#define BJ_WEBHOOK_SIG_H

#include <stddef.h>

/*
 * Decode a "whsec_…" secret into key bytes. Returns the key (caller
 * frees) and *keylen, or NULL with a static *why.
 */
unsigned char *bj_webhook_key(const char *secret, size_t *keylen, const char **why);

/* The webhook-signature header value "v1,<base64>" (caller frees). */
char *bj_webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id,
    long long timestamp, const char *body, size_t body_len);

/* The stable webhook-id of a notification row: "msg_<id>" (caller frees). */
char *bj_webhook_msg_id(long long notification_id);

#endif
