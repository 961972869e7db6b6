/* token.c: random tokens, SHA-256, HMAC and base64 via libcrypto. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

void
bj_sha256_hex(const void *data, size_t len, char out[BJ_SHA256_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	SHA256(data, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void
bj_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	unsigned int outlen = 32;

	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
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
