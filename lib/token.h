/*
 * token.h: random tokens and hashes (libcrypto).
 *
 * Tokens are URL-safe base64 of random bytes from getrandom(2). API tokens
 * are stored only as the hex SHA-256 of the token.
 */
#ifndef BJ_TOKEN_H
#define BJ_TOKEN_H

#include <stddef.h>

#define BJ_TOKEN_BYTES	24			/* 192 bits */
#define BJ_TOKEN_LEN	32			/* base64url chars for 24 bytes */
#define BJ_SHA256_HEX	65			/* 64 hex digits + NUL */

/* Fill buf with n random bytes; returns 0 or -1. */
int bj_random_bytes(void *buf, size_t n);
/* Write a new token of BJ_TOKEN_LEN chars plus NUL into out. */
int bj_token_new(char out[BJ_TOKEN_LEN + 1]);
/* Raw SHA-256 of data; out holds 32 bytes. */
void bj_sha256(const void *data, size_t len, unsigned char out[32]);
/* Hex SHA-256 of data. */
void bj_sha256_hex(const void *data, size_t len, char out[BJ_SHA256_HEX]);
/* Raw HMAC-SHA256; out must hold 32 bytes. */
void bj_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32]);
/* Base64 (standard alphabet, padded) or base64url (unpadded); caller frees. */
char *bj_base64(const void *data, size_t len, int url);
/* Decode standard base64; returns allocated bytes and *outlen, or NULL. */
unsigned char *bj_base64_decode(const char *s, size_t *outlen);
/* Constant-time comparison of two equal-length strings; 0 when equal. */
int bj_ct_strcmp(const char *a, const char *b);

#endif
