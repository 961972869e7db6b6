/* webhook_sig.c: Standard Webhooks 1.0 signing (see webhook_sig.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "token.h"
#include "webhook_sig.h"

#define SECRET_PREFIX "whsec_"

/* Key bytes from "whsec_<base64>"; an empty or undecodable key is refused. */
unsigned char *
bj_webhook_key(const char *secret, size_t *keylen, const char **why)
{
	unsigned char *key;
	size_t plen = strlen(SECRET_PREFIX);

	*keylen = 0;
	if (secret == NULL || strncmp(secret, SECRET_PREFIX, plen) != 0) {
		*why = "must start with whsec_";
		return NULL;
	}
	if (secret[plen] == '\0') {
		*why = "has no key after whsec_";
		return NULL;
	}
	if ((key = bj_base64_decode(secret + plen, keylen)) == NULL || *keylen == 0) {
		free(key);
		*keylen = 0;
		*why = "is not valid base64 after whsec_";
		return NULL;
	}
	return key;
}

/* HMAC-SHA256 over "id.timestamp.body", as the webhook-signature value. */
char *
bj_webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id,
    long long timestamp, const char *body, size_t body_len)
{
	struct bj_buf b = { 0 };
	unsigned char mac[32];
	char *sig, *out;

	bj_buf_printf(&b, "%s.%lld.", msg_id, timestamp);
	bj_buf_add(&b, body, body_len);
	bj_hmac_sha256(key, keylen, b.data, b.len, mac);
	bj_buf_free(&b);
	sig = bj_base64(mac, sizeof mac, 0);
	out = bj_xasprintf("v1,%s", sig);
	free(sig);
	return out;
}

/* The id is derived from the row id alone, so every retry carries the same one. */
char *
bj_webhook_msg_id(long long notification_id)
{
	return bj_xasprintf("msg_%lld", notification_id);
}
