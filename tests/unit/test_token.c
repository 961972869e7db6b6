/* test_token.c: tokens, hashes, HMAC and base64 against known vectors. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "token.h"

static void
test_token_shape_and_uniqueness(void)
{
	char a[BJ_TOKEN_LEN + 1], b[BJ_TOKEN_LEN + 1];

	CU_ASSERT_EQUAL_FATAL(bj_token_new(a), 0);
	CU_ASSERT_EQUAL_FATAL(bj_token_new(b), 0);
	CU_ASSERT_EQUAL(strlen(a), BJ_TOKEN_LEN);
	CU_ASSERT_TRUE(BJ_TOKEN_BYTES * 8 >= 128);
	CU_ASSERT_EQUAL(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	    BJ_TOKEN_LEN);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void
test_sha256_vector(void)
{
	char hex[BJ_SHA256_HEX];

	bj_sha256_hex("abc", 3, hex);
	CU_ASSERT_STRING_EQUAL(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* RFC 4231 test case 2. */
static void
test_hmac_vector(void)
{
	unsigned char mac[32];
	char *b64;

	bj_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	b64 = bj_base64(mac, 32, 0);
	CU_ASSERT_STRING_EQUAL(b64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	free(b64);
}

/* RFC 4231 test case 6: a key longer than the block is hashed first. */
static void
test_hmac_long_key(void)
{
	unsigned char key[131], mac[32];
	const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const unsigned char want[32] = {
		0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26, 0xaa,
		0xcb, 0xf5, 0xb7, 0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28, 0xc5, 0x14,
		0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54 };

	memset(key, 0xaa, sizeof key);
	bj_hmac_sha256(key, sizeof key, data, strlen(data), mac);
	CU_ASSERT_EQUAL(memcmp(mac, want, 32), 0);
}

/* Every key length around the block size agrees with libcrypto's own HMAC(). */
static void
test_hmac_matches_libcrypto(void)
{
	unsigned char key[150], data[100], mine[32], theirs[32];
	unsigned int n = 32;

	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 13 + 5);
	for (size_t kl = 0; kl <= sizeof key; kl++) {
		size_t dl = kl % sizeof data;
		bj_hmac_sha256(key, kl, data, dl, mine);
		HMAC(EVP_sha256(), key, (int)kl, data, dl, theirs, &n);
		if (memcmp(mine, theirs, 32) != 0) {
			CU_FAIL("HMAC differs from libcrypto");
			fprintf(stderr, "key length %zu\n", kl);
			break;
		}
	}
}

static void
test_base64_round_trip(void)
{
	const char *in = "\xfb\xff hello";
	size_t n = 0;
	char *std = bj_base64(in, strlen(in), 0), *url = bj_base64(in, strlen(in), 1);
	unsigned char *back = bj_base64_decode(std, &n);

	CU_ASSERT_STRING_EQUAL(std, "+/8gaGVsbG8=");
	CU_ASSERT_STRING_EQUAL(url, "-_8gaGVsbG8");
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(n, strlen(in));
	CU_ASSERT_EQUAL(memcmp(back, in, n), 0);
	CU_ASSERT_PTR_NULL(bj_base64_decode("abc", &n));
	free(std);
	free(url);
	free(back);
}

static void
test_ct_compare(void)
{
	CU_ASSERT_EQUAL(bj_ct_strcmp("abc", "abc"), 0);
	CU_ASSERT_NOT_EQUAL(bj_ct_strcmp("abc", "abd"), 0);
	CU_ASSERT_NOT_EQUAL(bj_ct_strcmp("abc", "abcd"), 0);
}

int
main(void)
{
	CU_pSuite s = bj_test_suite("token", NULL, NULL);

	CU_add_test(s, "tokens are URL-safe, 192 bits, distinct", test_token_shape_and_uniqueness);
	CU_add_test(s, "SHA-256 of abc", test_sha256_vector);
	CU_add_test(s, "HMAC-SHA256 RFC 4231 case 2", test_hmac_vector);
	CU_add_test(s, "HMAC-SHA256 RFC 4231 case 6", test_hmac_long_key);
	CU_add_test(s, "HMAC-SHA256 agrees with libcrypto for keys of 0 to 150 bytes",
	    test_hmac_matches_libcrypto);
	CU_add_test(s, "base64 and base64url", test_base64_round_trip);
	CU_add_test(s, "constant-time compare", test_ct_compare);
	return bj_test_run();
}
