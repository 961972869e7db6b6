/* token.c: random tokens, SHA-256, HMAC and base64 via libcrypto. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "buf.h"
#include "token.h"

int
bj_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
bj_token_new(char out[BJ_TOKEN_LEN + 1])
{
	unsigned char raw[BJ_TOKEN_BYTES];
	char *s;

	if (bj_random_bytes(raw, sizeof raw) == -1)
		return -1;
	s = bj_base64(raw, sizeof raw, 1);
	memcpy(out, s, BJ_TOKEN_LEN);
	out[BJ_TOKEN_LEN] = '\0';
	free(s);
	return 0;
}

/*
 * SHA-256, looked up once: OpenSSL 3's one-shot SHA256() and HMAC() fetch
 * the algorithm by name on every call, which was most of their cost on the
 * short inputs of each request (a token, a form token). Every program
 * has one thread, so the digest and its context are set up unguarded.
 */
static const EVP_MD *
sha256_md(void)
{
	static EVP_MD *md;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		abort();	/* libcrypto without SHA-256: nothing can work */
	return md;
}

/* out = SHA-256 of data; one context, reused. */
void
bj_sha256(const void *data, size_t len, unsigned char out[32])
{
	static EVP_MD_CTX *ctx;

	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestInit_ex2(ctx, sha256_md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		abort();	/* only allocation can fail here */
}

void
bj_sha256_hex(const void *data, size_t len, char out[BJ_SHA256_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	bj_sha256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/*
 * HMAC-SHA256 through one EVP_MAC context whose digest is set once: each
 * call only sets the key, so nothing is fetched by name per request.
 */
void
bj_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	static EVP_MAC_CTX *ctx;
	size_t outl = 0;

	if (ctx == NULL) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM params[2];

		params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		if (mac == NULL || (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
		    EVP_MAC_CTX_set_params(ctx, params) != 1)
			abort();	/* libcrypto without HMAC-SHA256: nothing can work */
		EVP_MAC_free(mac);	/* the context keeps its own reference */
	}
	/* a NULL key would mean "the previous key": never pass one */
	if (EVP_MAC_init(ctx, key != NULL ? key : "", keylen, NULL) != 1 ||
	    EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outl, 32) != 1 || outl != 32)
		abort();	/* only allocation can fail here */
}

char *
bj_base64(const void *data, size_t len, int url)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = bj_xmalloc(cap);
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

	out[n] = '\0';
	if (url) {
		for (int i = 0; i < n; i++) {
			if (out[i] == '+')
				out[i] = '-';
			else if (out[i] == '/')
				out[i] = '_';
		}
		while (n > 0 && out[n - 1] == '=')
			out[--n] = '\0';
	}
	return out;
}

unsigned char *
bj_base64_decode(const char *s, size_t *outlen)
{
	size_t len = strlen(s), pad = 0;
	unsigned char *out;
	int n;

	if (len % 4 != 0)
		return NULL;
	out = bj_xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	*outlen = (size_t)n - pad;
	return out;
}

int
bj_ct_strcmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 1;
	return CRYPTO_memcmp(a, b, la) != 0;
}
