/* Signing against the Standard Webhooks published test vector, key
 * decoding, rotation (two signatures) and the stable webhook-id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "webhook/webhook_int.h"

static const char spec_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char spec_id[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const char spec_body[] = "{\"test\": 2432232314}";

static void spec_vector(void **state)
{
    bl_wh_key_t key;
    char err[200], sig[256];
    assert_int_equal(bl_wh_key_decode(spec_secret, &key, err, sizeof(err)), 0);
    assert_int_equal(key.len, 24);
    int n =
        bl_wh_sign(&key, 1, spec_id, 1614265330, spec_body, strlen(spec_body), sig, sizeof(sig));
    assert_true(n > 0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void rotation_two_signatures(void **state)
{
    bl_wh_key_t keys[2];
    char err[200], sig[256];
    assert_int_equal(bl_wh_key_decode("whsec_c2Vjb25kLWtleQ==", &keys[0], err, sizeof(err)), 0);
    assert_int_equal(keys[0].len, 10); /* "second-key": padding is not key material */
    assert_int_equal(bl_wh_key_decode(spec_secret, &keys[1], err, sizeof(err)), 0);
    bl_wh_sign(keys, 2, spec_id, 1614265330, spec_body, strlen(spec_body), sig, sizeof(sig));
    /* python3: hmac.new(b"second-key", b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{...}", sha256) */
    assert_string_equal(sig, "v1,4Wzb6tcIfznzcEHPT7GcEE5B7qzv9qwZv0ckDDA6dJo= "
                             "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void bad_secrets(void **state)
{
    bl_wh_key_t key;
    char err[200];
    assert_int_equal(bl_wh_key_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "whsec_"));
    assert_int_equal(bl_wh_key_decode("whsec_", &key, err, sizeof(err)), -1);
    assert_int_equal(bl_wh_key_decode("whsec_abc", &key, err, sizeof(err)), -1);
    assert_int_equal(bl_wh_key_decode("whsec_ab!d", &key, err, sizeof(err)), -1);
    /* the error never echoes the secret */
    assert_null(strstr(err, "ab!d"));
}

static void small_buffer(void **state)
{
    bl_wh_key_t key;
    char err[200], sig[20];
    bl_wh_key_decode(spec_secret, &key, err, sizeof(err));
    assert_int_equal(bl_wh_sign(&key, 1, spec_id, 1, "{}", 2, sig, sizeof(sig)), -1);
}

static void message_id_stable_and_distinct(void **state)
{
    bl_wh_ident_t a = {"rec-1", "articles.enriched", 3, 42};
    char id1[BL_WH_ID_SIZE], id2[BL_WH_ID_SIZE], id3[BL_WH_ID_SIZE], id4[BL_WH_ID_SIZE];
    bl_wh_message_id("CRM", &a, 1, id1);
    bl_wh_message_id("CRM", &a, 1, id2);
    assert_string_equal(id1, id2);
    assert_int_equal(strlen(id1), 36);
    assert_memory_equal(id1, "msg_", 4);
    bl_wh_message_id("SLACK", &a, 1, id3); /* other endpoint, other id */
    assert_string_not_equal(id1, id3);
    bl_wh_ident_t b = a;
    b.offset = 43;
    bl_wh_message_id("CRM", &b, 1, id4);
    assert_string_not_equal(id1, id4);
    /* python3: hashlib.sha256(b"CRM\0rec-1\0articles.enriched\0" b"3:42\0").hexdigest()[:32] */
    assert_string_equal(id1, "msg_4e5e9fbb591d81101d4d31c4f79f1c05");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_vector),
        cmocka_unit_test(rotation_two_signatures),
        cmocka_unit_test(bad_secrets),
        cmocka_unit_test(small_buffer),
        cmocka_unit_test(message_id_stable_and_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
