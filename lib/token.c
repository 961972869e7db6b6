/* token.c: random tokens, SHA-256, HMAC and base64 via libcrypto. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
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

/* out = SHA-256 of the n pieces p[i] of length l[i]; one context, reused. */
static void
sha256_parts(int n, const void *const *p, const size_t *l, unsigned char out[32])
{
	static EVP_MD_CTX *ctx;
	int ok;

	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	ok = EVP_DigestInit_ex2(ctx, sha256_md(), NULL) == 1;
	for (int i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, p[i], l[i]) == 1;
	if (!ok || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		abort();	/* only allocation can fail here */
}

void
bj_sha256_hex(const void *data, size_t len, char out[BJ_SHA256_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	sha256_parts(1, &data, &len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* HMAC-SHA256 as RFC 2104 defines it, over the digest fetched once. */
void
bj_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	unsigned char k[64], pad[64], inner[32];
	const void *p[2];
	size_t l[2];

	memset(k, 0, sizeof k);
	if (keylen > sizeof k)
		sha256_parts(1, &key, &keylen, k);	/* a long key is hashed first */
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	p[0] = pad, l[0] = sizeof pad, p[1] = data, l[1] = len;
	sha256_parts(2, p, l, inner);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	p[1] = inner, l[1] = sizeof inner;
	sha256_parts(2, p, l, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
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
