/* test_webhook_sig.c: Standard Webhooks signing against the specification's own vector. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "webhook_sig.h"

/* The example of the Standard Webhooks reference libraries. */
static const char SECRET[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char MSG_ID[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const char BODY[] = "{\"test\": 2432232314}";

/* The signature matches the one the Standard Webhooks libraries compute. */
static void
test_reference_vector(void)
{
	const char *why = NULL;
	size_t keylen = 0;
	unsigned char *key = bj_webhook_key(SECRET, &keylen, &why);
	char *sig;

	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	CU_ASSERT_EQUAL(keylen, 24);
	sig = bj_webhook_sign(key, keylen, MSG_ID, 1614265330LL, BODY, strlen(BODY));
	CU_ASSERT_STRING_EQUAL(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(sig);
	free(key);
}

/* Any change to id, timestamp or body changes the signature. */
static void
test_every_part_is_signed(void)
{
	const char *why = NULL;
	size_t keylen = 0;
	unsigned char *key = bj_webhook_key(SECRET, &keylen, &why);
	char *a, *b, *c, *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	a = bj_webhook_sign(key, keylen, MSG_ID, 1614265330LL, BODY, strlen(BODY));
	b = bj_webhook_sign(key, keylen, "msg_other", 1614265330LL, BODY, strlen(BODY));
	c = bj_webhook_sign(key, keylen, MSG_ID, 1614265331LL, BODY, strlen(BODY));
	d = bj_webhook_sign(key, keylen, MSG_ID, 1614265330LL, BODY, strlen(BODY) - 1);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_STRING_NOT_EQUAL(a, d);
	free(a);
	free(b);
	free(c);
	free(d);
	free(key);
}

/* A secret without whsec_, without a key, or not base64 is refused. */
static void
test_bad_secrets_are_refused(void)
{
	const char *why = NULL;
	size_t keylen = 99;

	CU_ASSERT_PTR_NULL(bj_webhook_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &keylen, &why));
	CU_ASSERT_STRING_EQUAL(why, "must start with whsec_");
	CU_ASSERT_PTR_NULL(bj_webhook_key("whsec_", &keylen, &why));
	CU_ASSERT_STRING_EQUAL(why, "has no key after whsec_");
	CU_ASSERT_PTR_NULL(bj_webhook_key("whsec_not base64!", &keylen, &why));
	CU_ASSERT_STRING_EQUAL(why, "is not valid base64 after whsec_");
	CU_ASSERT_PTR_NULL(bj_webhook_key(NULL, &keylen, &why));
	CU_ASSERT_EQUAL(keylen, 0);
}

/* The webhook-id depends on the notification id only. */
static void
test_msg_id_is_stable(void)
{
	char *a = bj_webhook_msg_id(42), *b = bj_webhook_msg_id(42);

	CU_ASSERT_STRING_EQUAL(a, "msg_42");
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
}

/* Register the suite and run it. */
int
main(void)
{
	CU_pSuite s = bj_test_suite("webhook signatures", NULL, NULL);

	CU_add_test(s, "Standard Webhooks reference vector", test_reference_vector);
	CU_add_test(s, "id, timestamp and body are all signed", test_every_part_is_signed);
	CU_add_test(s, "bad secrets are refused with a reason", test_bad_secrets_are_refused);
	CU_add_test(s, "webhook-id is stable per notification", test_msg_id_is_stable);
	return bj_test_run();
}
