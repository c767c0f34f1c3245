/*
 * sign: Standard Webhooks signing (webhook-signature, v1 = HMAC-SHA256)
 * and the stable webhook-id. Pure functions; any thread.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "webhook/webhook_int.h"

int bl_wh_key_decode(const char *secret, bl_wh_key_t *key, char *errstr, size_t errstr_size)
{
    static const char prefix[] = "whsec_";
    if (strncmp(secret, prefix, sizeof(prefix) - 1) != 0) {
        snprintf(errstr, errstr_size, "a secret must start with \"whsec_\"");
        return -1;
    }
    const char *b64 = secret + sizeof(prefix) - 1;
    size_t b64_len = strlen(b64);
    if (b64_len == 0 || b64_len % 4 != 0 || b64_len / 4 * 3 > sizeof(key->bytes)) {
        snprintf(errstr, errstr_size, "the part after \"whsec_\" must be base64 of 1 to %d bytes",
                 BL_WH_MAX_KEY_BYTES);
        return -1;
    }
    for (size_t i = 0; i < b64_len; i++) {
        char c = b64[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' || (c == '=' && i >= b64_len - 2);
        if (!ok) {
            snprintf(errstr, errstr_size, "the part after \"whsec_\" is not valid base64");
            return -1;
        }
    }
    /* EVP_DecodeBlock counts padding as zero bytes; take them off. */
    int n = EVP_DecodeBlock(key->bytes, (const unsigned char *)b64, (int)b64_len);
    if (n < 0) {
        snprintf(errstr, errstr_size, "the part after \"whsec_\" is not valid base64");
        return -1;
    }
    if (b64[b64_len - 1] == '=')
        n--;
    if (b64[b64_len - 2] == '=')
        n--;
    if (n <= 0) {
        snprintf(errstr, errstr_size, "the key after \"whsec_\" is empty");
        return -1;
    }
    key->len = (size_t)n;
    return 0;
}

int bl_wh_sign(const bl_wh_key_t *keys, int nkeys, const char *msg_id, int64_t timestamp,
               const char *body, size_t body_len, char *out, size_t out_size)
{
    char prefix[160];
    int prefix_len = snprintf(prefix, sizeof(prefix), "%s.%" PRId64 ".", msg_id, timestamp);
    if (prefix_len < 0 || (size_t)prefix_len >= sizeof(prefix))
        return -1;
    size_t used = 0;
    for (int i = 0; i < nkeys; i++) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        /* Streams prefix and body without copying the body; the HMAC_CTX
         * API that would do the same is deprecated in OpenSSL 3. */
        EVP_PKEY *pkey =
            EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL, keys[i].bytes, keys[i].len);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t sig_len = sizeof(mac);
        int ok = pkey && ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
                 EVP_DigestSignUpdate(ctx, prefix, (size_t)prefix_len) == 1 &&
                 EVP_DigestSignUpdate(ctx, body, body_len) == 1 &&
                 EVP_DigestSignFinal(ctx, mac, &sig_len) == 1;
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        if (!ok)
            return -1;
        mac_len = (unsigned int)sig_len;
        /* "v1," + base64(32 bytes) = 3 + 44, plus separator and NUL */
        if (used + 3 + 4 * ((mac_len + 2) / 3) + 2 > out_size)
            return -1;
        if (i > 0)
            out[used++] = ' ';
        memcpy(out + used, "v1,", 3);
        used += 3;
        used += (size_t)EVP_EncodeBlock((unsigned char *)out + used, mac, (int)mac_len);
        out[used] = '\0';
    }
    if (nkeys == 0 && out_size > 0)
        out[0] = '\0';
    return (int)used;
}

void bl_wh_message_id(const char *endpoint, const bl_wh_ident_t *idents, int nidents,
                      char out[BL_WH_ID_SIZE])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    /* NUL separators keep ("ab","c") and ("a","bc") apart. */
    EVP_DigestUpdate(ctx, endpoint, strlen(endpoint) + 1);
    for (int i = 0; i < nidents; i++) {
        char pos[64];
        int pos_len = snprintf(pos, sizeof(pos), "%" PRId32 ":%" PRId64, idents[i].partition,
                               idents[i].offset);
        EVP_DigestUpdate(ctx, idents[i].record_id, strlen(idents[i].record_id) + 1);
        EVP_DigestUpdate(ctx, idents[i].topic, strlen(idents[i].topic) + 1);
        EVP_DigestUpdate(ctx, pos, (size_t)pos_len + 1);
    }
    EVP_DigestFinal_ex(ctx, digest, NULL);
    EVP_MD_CTX_free(ctx);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "msg_", 4);
    for (int i = 0; i < 16; i++) {
        out[4 + 2 * i] = hex[digest[i] >> 4];
        out[5 + 2 * i] = hex[digest[i] & 15];
    }
    out[36] = '\0';
}
