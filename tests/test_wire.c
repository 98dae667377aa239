/* test_wire.c -- the wire module: the request decoder on hostile input, the reply
 * encoder and decoder round trip, and the JSON rendering of a reply. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tu_msgpack.h"
#include "wire.h"

static const char *const scenes[] = {"profile", "comment", "forum"};
static const fw_limits lim = {100, scenes, 3, 1, 4};

/* Decode len bytes; the error code, with r and err filled. */
static int decode(const void *buf, size_t len, fw_request *r, char *err)
{
    return fw_request_decode(buf, len, &lim, r, err, 256);
}

static void test_a_good_request(void **state)
{
    fw_request r;
    char err[256];
    tu_mp b;
    (void)state;
    tu_mp_begin(&b, 5);
    tu_mp_kv(&b, "op", "check");
    tu_mp_kv(&b, "text", "hello");
    tu_mp_kv(&b, "scene", "forum");
    tu_mp_kv(&b, "id", "abc");
    tu_mp_kv(&b, "later", "unknown keys are ignored");
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    assert_int_equal(r.op, FW_OP_CHECK);
    assert_int_equal(r.textlen, 5);
    assert_memory_equal(r.text, "hello", 5);
    assert_int_equal(r.scene, 2);
    assert_int_equal(r.idlen, 4);             /* the id's msgpack bytes: fixstr + 3 */
    assert_memory_equal(r.id, "\xa3" "abc", 4);
    assert_int_equal(r.budget_ms, -1);
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_truncated_at_every_byte(void **state)
{
    fw_request r;
    char err[256];
    tu_mp b;
    (void)state;
    tu_mp_begin(&b, 3);
    tu_mp_kv(&b, "id", "x");
    tu_mp_kv(&b, "text", "some text to cut");
    msgpack_pack_str_with_body(&b.pk, "budget_ms", 9);
    msgpack_pack_uint32(&b.pk, 70000);
    for (size_t n = 0; n < b.sb.size; n++) {
        char *copy = malloc(n ? n : 1);   /* exactly n bytes: ASan sees any overread */
        memcpy(copy, b.sb.data, n);
        assert_int_equal(decode(copy, n, &r, err), FW_E_BAD_REQUEST);
        free(copy);
    }
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    assert_int_equal(r.budget_ms, 70000);
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_wrong_types(void **state)
{
    static const struct { const char *bytes; size_t len; const char *msg; } cases[] = {
        {"\x81\xa4text\x05", 7, "text must be a str"},
        {"\x81\xa2op\x01", 5, "op must be a str"},
        {"\x81\xa5scene\xc3", 8, "scene must be a str"},
        {"\x81\xa9" "budget_ms\xa1x", 13, "budget_ms must be a uint"},
        {"\x81\xa7" "explain\x01", 10, "explain must be a bool"},
        {"\x81\xa1v\x02", 4, "unsupported protocol version"},
        {"\x81\xa2id\xc0", 5, "id must be a str, int or bin"},
        {"\x81\x01\x02", 3, "map keys must be strings"},
        {"\x92\x01\x02", 3, "not a msgpack map"},
        {"\xc1", 1, "not msgpack"},
        {"\x80\x00", 2, "trailing bytes"},
        {"\x81\xa2op\xa5" "check", 10, "check needs text"},
        {"\x81\xa5scene\xa4nope", 12, "unknown scene (profile, comment, forum)"},
    };
    fw_request r;
    char err[256];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(decode(cases[i].bytes, cases[i].len, &r, err), FW_E_BAD_REQUEST);
        if (!strstr(err, cases[i].msg))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].msg);
    }
}

static void test_the_id_survives_other_errors(void **state)
{
    fw_request r;
    char err[256];
    (void)state;
    /* {id: 7, text: 5}: bad text, but the id is read for the error reply */
    assert_int_equal(decode("\x82\xa2id\x07\xa4text\x05", 11, &r, err), FW_E_BAD_REQUEST);
    assert_int_equal(r.idlen, 1);
    assert_int_equal((unsigned char)r.id[0], 7);
}

static void test_oversized_id_and_text(void **state)
{
    fw_request r;
    char err[256], big[300];
    tu_mp b;
    (void)state;
    memset(big, 'i', 129);
    big[129] = '\0';
    tu_mp_begin(&b, 2);
    tu_mp_kv(&b, "id", big);
    tu_mp_kv(&b, "text", "t");
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_BAD_REQUEST);
    assert_non_null(strstr(err, "id is longer than 128 bytes"));
    msgpack_sbuffer_destroy(&b.sb);

    memset(big, 't', 101);
    big[101] = '\0';
    tu_mp_begin(&b, 1);
    tu_mp_kv(&b, "text", big);
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_TOO_LARGE);
    assert_non_null(strstr(err, "101 bytes, over the limit of 100"));
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_deep_nesting_and_impossible_counts(void **state)
{
    enum { DEPTH = 1000000 };
    fw_request r;
    char err[256];
    (void)state;
    /* {text: "t", x: [[[[...]]]]} a million deep under an unknown key: skipped, no recursion */
    unsigned char *p = malloc(DEPTH + 16);
    size_t n = 0;
    memcpy(p, "\x82\xa4text\xa1t\xa1x", 10);
    n = 10;
    for (int i = 0; i < DEPTH; i++)
        p[n++] = 0x91;
    p[n++] = 0x90;
    assert_int_equal(decode(p, n, &r, err), FW_E_OK);
    assert_int_equal(decode(p, n - 1, &r, err), FW_E_BAD_REQUEST);   /* the last one missing */
    free(p);
    /* a map that claims 2^32 - 1 pairs in 6 bytes: refused at once */
    assert_int_equal(decode("\xdf\xff\xff\xff\xff\x00", 6, &r, err), FW_E_BAD_REQUEST);
    /* a str that claims 4 GiB */
    assert_int_equal(decode("\x81\xa4text\xdb\xff\xff\xff\xff", 11, &r, err), FW_E_BAD_REQUEST);
}

static void test_ops(void **state)
{
    fw_request r;
    char err[256];
    (void)state;
    assert_int_equal(decode("\x81\xa2op\xa4ping", 9, &r, err), FW_E_OK);
    assert_int_equal(r.op, FW_OP_PING);
    assert_int_equal(decode("\x81\xa2op\xa5stats", 10, &r, err), FW_E_OK);
    assert_true(fw_op_admin(r.op));
    assert_int_equal(decode("\x81\xa2op\xa3\x01zz", 8, &r, err), FW_E_UNKNOWN_OP);
    assert_non_null(strstr(err, "unknown op '?zz'"));   /* control bytes are not echoed */
}

static void test_request_round_trip(void **state)
{
    fw_request q = {.op = FW_OP_CHECK, .text = "abc", .textlen = 3, .scene_name = "profile",
                    .budget_ms = 20, .explain = 1}, r;
    char err[256];
    tu_mp b;
    (void)state;
    tu_mp_open(&b);
    assert_int_equal(fw_request_encode(&b.pk, &q, 42), 0);
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    assert_int_equal(r.op, FW_OP_CHECK);
    assert_int_equal(r.scene, 0);
    assert_int_equal(r.budget_ms, 20);
    assert_true(r.explain);
    assert_int_equal(r.idlen, 1);
    assert_int_equal((unsigned char)r.id[0], 42);
    msgpack_sbuffer_destroy(&b.sb);
}

/* A decision with one of everything. */
static fw_reply sample(fw_match *m, fw_view *v)
{
    static const char *labels[] = {"porn"}, *warnings[] = {"nul"};
    *m = (fw_match){3, 9, "色情", "porn", "block", "zh/porn.txt", 12, "compact"};
    *v = (fw_view){"folded", "abc", 3};
    return (fw_reply){.decision = FW_BLOCK, .label = 20002, .labels = labels, .nlabels = 1,
                      .matches = m, .nmatches = 1, .warnings = warnings, .nwarnings = 1,
                      .version = "wl-0123456789abcdef", .views = v, .nviews = 1,
                      .elapsed_us = 17};
}

static void test_reply_round_trip(void **state)
{
    fw_match m;
    fw_view v;
    fw_reply in = sample(&m, &v), out;
    tu_mp b;
    char err[256];
    (void)state;
    tu_mp_open(&b);
    fw_enc_decision(&b.pk, "\x2a", 1, &in);
    assert_int_equal(fw_patch_elapsed(b.sb.data, b.sb.size, 99), 0);
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), 0);
    assert_int_equal(out.decision, FW_BLOCK);
    assert_int_equal(out.label, 20002);
    assert_true(out.has_id);
    assert_int_equal(out.id, 42);
    assert_int_equal(out.nlabels, 1);
    assert_string_equal(out.labels[0], "porn");
    assert_int_equal(out.nmatches, 1);
    assert_int_equal(out.matches[0].start, 3);
    assert_int_equal(out.matches[0].end, 9);
    assert_string_equal(out.matches[0].term, "色情");
    assert_string_equal(out.matches[0].list, "zh/porn.txt");
    assert_int_equal(out.matches[0].line, 12);
    assert_string_equal(out.matches[0].via, "compact");
    assert_string_equal(out.warnings[0], "nul");
    assert_string_equal(out.version, "wl-0123456789abcdef");
    assert_null(out.degraded);
    assert_int_equal(out.nviews, 1);
    assert_string_equal(out.views[0].name, "folded");
    assert_string_equal(out.views[0].text, "abc");
    assert_int_equal(out.elapsed_us, 99);
    fw_reply_free(&out);

    /* every prefix is refused, and frees whatever it had read */
    for (size_t n = 0; n < b.sb.size; n++)
        assert_int_equal(fw_reply_decode(b.sb.data, n, &out, err, sizeof err), -1);
    msgpack_sbuffer_destroy(&b.sb);
}

/* Found by tests/fuzz/fuzz_reply: a field sent twice leaked the first
 * value's arrays; now such a reply is refused (and frees what it read). */
static void test_a_reply_field_twice_is_refused(void **state)
{
    static const char *const twice[] = {"labels", "matches", "warnings", "views", "version"};
    fw_reply out;
    char err[256];
    (void)state;
    for (size_t i = 0; i < sizeof twice / sizeof *twice; i++) {
        tu_mp b;
        int map = !strcmp(twice[i], "views"), str = !strcmp(twice[i], "version");
        tu_mp_begin(&b, 3);
        tu_mp_kv(&b, "decision", "allow");
        for (int k = 0; k < 2; k++) {
            tu_mp_str(&b, twice[i]);
            if (str)
                tu_mp_str(&b, "wl-x");
            else if (map) {
                msgpack_pack_map(&b.pk, 1);
                tu_mp_kv(&b, "folded", "abc");
            } else if (!strcmp(twice[i], "matches")) {
                msgpack_pack_array(&b.pk, 1);
                msgpack_pack_map(&b.pk, 1);
                tu_mp_kv(&b, "term", "x");
            } else {
                msgpack_pack_array(&b.pk, 1);
                tu_mp_str(&b, "porn");
            }
        }
        assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), -1);
        assert_null(out.labels);
        assert_null(out.matches);
        msgpack_sbuffer_destroy(&b.sb);
    }
}

/* Issue 12: "comment\0evil" is not the scene comment (nor any other). */
static void test_a_scene_with_a_nul_is_refused(void **state)
{
    fw_request r;
    char err[256];
    tu_mp b;
    (void)state;
    tu_mp_begin(&b, 2);
    tu_mp_kv(&b, "text", "hello");
    tu_mp_str(&b, "scene");
    msgpack_pack_str_with_body(&b.pk, "comment\0evil", 12);
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_BAD_REQUEST);
    assert_non_null(strstr(err, "unknown scene"));
    msgpack_sbuffer_destroy(&b.sb);

    tu_mp_begin(&b, 2);   /* the same scene without the tail is fine */
    tu_mp_kv(&b, "text", "hello");
    tu_mp_kv(&b, "scene", "comment");
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    assert_int_equal(r.scene, 1);
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_error_pong_and_fallback_replies(void **state)
{
    fw_reply out, fb;
    tu_mp b;
    char err[256];
    (void)state;
    tu_mp_open(&b);
    fw_enc_error(&b.pk, "\x05", 1, FW_E_TOO_LARGE, "too long");
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), 0);
    assert_string_equal(out.error, "too_large");
    assert_string_equal(out.error_message, "too long");
    assert_int_equal(out.id, 5);
    fw_reply_free(&out);

    msgpack_sbuffer_clear(&b.sb);
    fw_enc_pong(&b.pk, NULL, 0, "wl-1");
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), 1);
    assert_false(out.has_id);
    assert_string_equal(out.version, "wl-1");
    fw_reply_free(&out);

    msgpack_sbuffer_clear(&b.sb);
    fw_fallback(&fb, FW_FLAG, "wl-2", FW_DEG_OVERLOAD);
    fw_enc_decision(&b.pk, NULL, 0, &fb);
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), 0);
    assert_int_equal(out.decision, FW_FLAG);
    assert_int_equal(out.label, FW_CODE_FALLBACK);
    assert_string_equal(out.degraded, "overload");
    assert_int_equal(out.nmatches, 0);
    fw_reply_free(&out);

    /* a map without a decision: refused, but the id is kept */
    assert_int_equal(fw_reply_decode("\x81\xa2id\x09", 5, &out, err, sizeof err), -1);
    assert_true(out.has_id);
    assert_int_equal(out.id, 9);
    assert_non_null(strstr(err, "without a decision"));
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_json_has_the_fields_in_order(void **state)
{
    fw_match m;
    fw_view v;
    fw_reply r = sample(&m, &v);
    cJSON *id = cJSON_CreateNumber(7);
    (void)state;
    r.nviews = 0;
    cJSON *j = fw_reply_json(&r, id, 1);
    char *s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"id\":7,\"decision\":\"block\",\"suggest\":\"risky\",\"label\":20002,"
                           "\"labels\":[\"porn\"],\"matches\":[{\"start\":3,\"end\":9,"
                           "\"term\":\"色情\",\"label\":\"porn\",\"action\":\"block\","
                           "\"list\":\"zh/porn.txt\",\"line\":12,\"via\":\"compact\"}],"
                           "\"warnings\":[\"nul\"],\"version\":\"wl-0123456789abcdef\"}");
    free(s);
    cJSON_Delete(j);
    r.error = "bad_request";
    r.error_message = "no";
    j = fw_reply_json(&r, NULL, 0);
    s = cJSON_PrintUnformatted(j);
    assert_string_equal(s, "{\"error\":\"bad_request: no\"}");
    free(s);
    cJSON_Delete(j);
    cJSON_Delete(id);
}

/* Round 8 of issue 13: fw_reply_json_to writes straight into a buffer, and
 * fw_reply_json reads that text back into a tree: cJSON must print the tree
 * as the same bytes (what filterctl prints is what the HTTP front door
 * sends), for every shape of reply (explained, degraded, an error, no
 * matches) and every kind of id and of string (escapes, control bytes,
 * non-ASCII, a view cut at a NUL) and number. */
static void test_json_to_is_cjson_byte_for_byte(void **state)
{
    static const char *steps[] = {"traditional->simplified", "a\"b\\c\n\t\x01\x1f\x7f é"};
    static const char *warns[] = {"invalid_utf8", "truncated"};
    static const double nums[] = {7, 0, -0.0, -1, 0.1, 1.5e-7, 1e15, 1e300, 123456789012345678.0,
                                  3.141592653589793, -2147483649.0, 4294967296.0, 1e-320};
    static const char *strs[] = {"", "c1", "q\"uote", "back\\slash", "\b\f\n\r\t\x01\x1f",
                                 "汉字 é \x7f", "/"};
    fw_match m[2];
    fw_view v[2];
    fw_reply r = sample(&m[0], &v[0]);
    (void)state;
    m[0].chain = steps, m[0].nchain = 2;
    m[1] = m[0];
    m[1].term = "te\"rm\x02", m[1].via = "sound", m[1].start = 4000000000u, m[1].line = -3;
    m[1].chain = NULL, m[1].nchain = 0;
    v[1] = (fw_view){"sound", "ab\0cd", 5};   /* cJSON's string ends at the NUL */
    r.matches = m, r.nmatches = 2, r.views = v, r.nviews = 2;
    for (int shape = 0; shape < 6; shape++) {
        fw_reply t = r;
        if (shape == 1)
            t.nviews = 0, t.warnings = warns, t.nwarnings = 2, t.degraded = "deadline";
        if (shape == 2)
            t.nmatches = 0, t.nlabels = 0, t.nwarnings = 0, t.nviews = 0, t.version = NULL;
        if (shape == 3)
            t.error = "too_large", t.error_message = "a \"text\"\n over max";
        if (shape == 4)
            t.error = "internal", t.error_message = NULL;
        if (shape == 5)
            t.decision = FW_ALLOW, t.label = 100, t.nviews = 0;
        int nid = (int)(sizeof nums / sizeof *nums + sizeof strs / sizeof *strs) + 4;
        for (int k = 0; k < nid; k++) {
            size_t nn = sizeof nums / sizeof *nums, ns = sizeof strs / sizeof *strs;
            cJSON *id = (size_t)k < nn ? cJSON_CreateNumber(nums[k])
                      : (size_t)k < nn + ns ? cJSON_CreateString(strs[k - nn])
                      : (size_t)k == nn + ns ? cJSON_CreateNull()
                      : (size_t)k == nn + ns + 1 ? cJSON_Parse("[1,{\"a\":true}]") : NULL;
            int with_id = (size_t)k != nn + ns + 3;
            cJSON *j = fw_reply_json(&t, id, with_id);
            char *want = cJSON_PrintUnformatted(j);
            fw_jbuf b = {0};
            fw_reply_json_to(&b, &t, id, with_id);
            assert_false(b.oom);
            assert_string_equal(b.p, want);
            assert_int_equal(b.len, strlen(want));
            free(b.p);
            free(want);
            cJSON_Delete(j);
            cJSON_Delete(id);
        }
    }
}

/* Issue 16: a reply without explain is what it was before matches had a
 * chain: these 224 bytes are the sample's encoding by the tree before. A
 * chain set on a match is not written unless the reply is explained. */
static void test_a_reply_without_explain_is_unchanged(void **state)
{
    static const char before[] =
        "\x8b\xa1\x76\x01\xa2\x69\x64\x2a\xa8\x64\x65\x63\x69\x73\x69\x6f"
        "\x6e\xa5\x62\x6c\x6f\x63\x6b\xa7\x73\x75\x67\x67\x65\x73\x74\xa5"
        "\x72\x69\x73\x6b\x79\xa5\x6c\x61\x62\x65\x6c\xcd\x4e\x22\xa6\x6c"
        "\x61\x62\x65\x6c\x73\x91\xa4\x70\x6f\x72\x6e\xa7\x6d\x61\x74\x63"
        "\x68\x65\x73\x91\x88\xa5\x73\x74\x61\x72\x74\x03\xa3\x65\x6e\x64"
        "\x09\xa4\x74\x65\x72\x6d\xa6\xe8\x89\xb2\xe6\x83\x85\xa5\x6c\x61"
        "\x62\x65\x6c\xa4\x70\x6f\x72\x6e\xa6\x61\x63\x74\x69\x6f\x6e\xa5"
        "\x62\x6c\x6f\x63\x6b\xa4\x6c\x69\x73\x74\xab\x7a\x68\x2f\x70\x6f"
        "\x72\x6e\x2e\x74\x78\x74\xa4\x6c\x69\x6e\x65\x0c\xa3\x76\x69\x61"
        "\xa7\x63\x6f\x6d\x70\x61\x63\x74\xa8\x77\x61\x72\x6e\x69\x6e\x67"
        "\x73\x91\xa3\x6e\x75\x6c\xa7\x76\x65\x72\x73\x69\x6f\x6e\xb3\x77"
        "\x6c\x2d\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x61\x62\x63\x64"
        "\x65\x66\xa8\x64\x65\x67\x72\x61\x64\x65\x64\xc0\xaa\x65\x6c\x61"
        "\x70\x73\x65\x64\x5f\x75\x73\xcf\x00\x00\x00\x00\x00\x00\x00\x11";
    static const char *steps[] = {"case"};
    fw_match m;
    fw_view v;
    fw_reply r = sample(&m, &v);
    tu_mp b;
    (void)state;
    r.nviews = 0;
    for (int k = 0; k < 2; k++) {
        m.chain = k ? steps : NULL;
        m.nchain = (size_t)k;
        tu_mp_open(&b);
        fw_enc_decision(&b.pk, "\x2a", 1, &r);
        assert_int_equal(b.sb.size, sizeof before - 1);
        assert_memory_equal(b.sb.data, before, sizeof before - 1);
        msgpack_sbuffer_destroy(&b.sb);
        cJSON *j = fw_reply_json(&r, NULL, 0);
        assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "matches"), 0),
                                        "chain"));
        cJSON_Delete(j);
    }
}

/* Issue 16: with explain every match carries its chain, last, in msgpack
 * (a single reply and a bulk item) and in JSON; [] when matched as written. */
static void test_chain_round_trip(void **state)
{
    static const char *steps[] = {"traditional->simplified", "色情網站 -> 色情网站"};
    fw_match m[2];
    fw_view v;
    fw_reply in = sample(&m[0], &v), out;
    tu_mp b;
    char err[256];
    (void)state;
    m[0].chain = steps, m[0].nchain = 2;
    m[1] = m[0];
    m[1].chain = NULL, m[1].nchain = 0;
    in.matches = m, in.nmatches = 2;
    tu_mp_open(&b);
    fw_enc_bulk_begin(&b.pk, NULL, 0, 2);
    fw_enc_decision(&b.pk, NULL, 0, &in);   /* (a whole reply as an item: decoded alike) */
    fw_enc_item(&b.pk, NULL, 0, &in);
    fw_enc_bulk_end(&b.pk, 0);
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), 2);
    for (size_t i = 0; i < 2; i++) {
        const fw_reply *r = &out.results[i];
        assert_int_equal(r->nmatches, 2);
        assert_int_equal(r->matches[0].nchain, 2);
        assert_string_equal(r->matches[0].chain[0], "traditional->simplified");
        assert_string_equal(r->matches[0].chain[1], "色情網站 -> 色情网站");
        assert_int_equal(r->matches[1].nchain, 0);
        cJSON *j = fw_reply_json(r, NULL, 0);
        char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "matches"));
        assert_non_null(strstr(s, "\"via\":\"compact\",\"chain\":[\"traditional->simplified\","
                                  "\"色情網站 -> 色情网站\"]}"));
        assert_non_null(strstr(s, "\"via\":\"compact\",\"chain\":[]}"));
        free(s);
        cJSON_Delete(j);
    }
    fw_reply_free(&out);
    for (size_t n = 0; n < b.sb.size; n++)   /* every prefix refused, nothing leaks */
        assert_int_equal(fw_reply_decode(b.sb.data, n, &out, err, sizeof err), -1);
    msgpack_sbuffer_destroy(&b.sb);

    /* a match with chain twice is damaged (the first array would leak) */
    tu_mp_begin(&b, 2);
    tu_mp_kv(&b, "decision", "block");
    tu_mp_str(&b, "matches");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_map(&b.pk, 2);
    for (int k = 0; k < 2; k++) {
        tu_mp_str(&b, "chain");
        msgpack_pack_array(&b.pk, 1);
        tu_mp_str(&b, "case");
    }
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), -1);
    assert_null(out.matches);
    msgpack_sbuffer_destroy(&b.sb);
}

/* ---- bulk checks ---- */

/* {id: "b", scene: "forum", items: [...]}: the items as given. */
static void bulk_begin(tu_mp *b, uint32_t nitems)
{
    tu_mp_begin(b, 3);
    tu_mp_kv(b, "id", "b");
    tu_mp_kv(b, "scene", "forum");
    tu_mp_str(b, "items");
    msgpack_pack_array(&b->pk, nitems);
}

static void test_bulk_items_each_with_its_error(void **state)
{
    fw_request r;
    fw_items it;
    fw_item item;
    char err[256], big[101];
    tu_mp b;
    (void)state;
    memset(big, 't', 101);
    bulk_begin(&b, 4);
    msgpack_pack_map(&b.pk, 2), tu_mp_kv(&b, "text", "one"), tu_mp_kv(&b, "id", "i1");
    msgpack_pack_int(&b.pk, 5);                                   /* not a map */
    msgpack_pack_map(&b.pk, 3);                                   /* scene unknown, id kept */
    tu_mp_kv(&b, "id", "i3"), tu_mp_kv(&b, "text", "x"), tu_mp_kv(&b, "scene", "nope");
    msgpack_pack_map(&b.pk, 2);                                   /* too large, scene its own */
    tu_mp_str(&b, "text"), msgpack_pack_str_with_body(&b.pk, big, sizeof big);
    tu_mp_kv(&b, "scene", "profile");
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    assert_true(r.bulk);
    assert_int_equal(r.nitems, 4);
    assert_int_equal(r.scene, 2);
    fw_items_begin(&it, &r);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), FW_E_OK);
    assert_int_equal(item.textlen, 3);
    assert_memory_equal(item.text, "one", 3);
    assert_int_equal(item.scene, 2);                             /* the request's */
    assert_memory_equal(item.id, "\xa2i1", 3);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), FW_E_BAD_REQUEST);
    assert_non_null(strstr(err, "an item must be a map"));
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), FW_E_BAD_REQUEST);
    assert_non_null(strstr(err, "unknown scene"));
    assert_memory_equal(item.id, "\xa2i3", 3);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), FW_E_TOO_LARGE);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), -1);
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_bulk_request_errors(void **state)
{
    fw_request r;
    fw_items it;
    fw_item item;
    char err[256];
    tu_mp b;
    (void)state;
    bulk_begin(&b, 5);                                            /* over max_items (4) */
    for (int i = 0; i < 5; i++)
        msgpack_pack_map(&b.pk, 1), tu_mp_kv(&b, "text", "t");
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_TOO_LARGE);
    assert_non_null(strstr(err, "over the limit of 4 (max-items)"));
    assert_int_equal(r.idlen, 2);                                 /* the id is still read */
    msgpack_sbuffer_destroy(&b.sb);

    tu_mp_begin(&b, 2), tu_mp_kv(&b, "text", "t"), tu_mp_str(&b, "items");
    msgpack_pack_array(&b.pk, 0);
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_BAD_REQUEST);
    assert_non_null(strstr(err, "text or items, not both"));
    msgpack_sbuffer_destroy(&b.sb);

    tu_mp_begin(&b, 1), tu_mp_kv(&b, "items", "t");
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_BAD_REQUEST);
    assert_non_null(strstr(err, "items must be an array"));
    msgpack_sbuffer_destroy(&b.sb);

    bulk_begin(&b, 0);                                            /* empty: fine, no items */
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    fw_items_begin(&it, &r);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), -1);
    msgpack_sbuffer_destroy(&b.sb);

    /* an item map cut short, at every byte: the request is refused, never read past */
    bulk_begin(&b, 2);
    msgpack_pack_map(&b.pk, 2), tu_mp_kv(&b, "id", "x"), tu_mp_kv(&b, "text", "first");
    msgpack_pack_map(&b.pk, 1), tu_mp_kv(&b, "text", "second");
    for (size_t n = 0; n < b.sb.size; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, b.sb.data, n);
        assert_int_equal(decode(copy, n, &r, err), FW_E_BAD_REQUEST);
        free(copy);
    }
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_bulk_request_round_trip(void **state)
{
    fw_request base = {.budget_ms = 30}, items[2] = {{.text = "ab", .textlen = 2},
                                                     {.text = "c", .textlen = 1,
                                                      .scene_name = "profile"}}, r;
    fw_items it;
    fw_item item;
    char err[256];
    tu_mp b;
    (void)state;
    tu_mp_open(&b);
    assert_int_equal(fw_request_encode_bulk(&b.pk, &base, items, 2, 9), 0);
    assert_int_equal(decode(b.sb.data, b.sb.size, &r, err), FW_E_OK);
    assert_int_equal(r.budget_ms, 30);
    assert_int_equal(r.nitems, 2);
    fw_items_begin(&it, &r);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), FW_E_OK);
    assert_int_equal(item.scene, 1);                              /* the server's default */
    assert_int_equal(item.idlen, 0);
    assert_int_equal(fw_items_next(&it, &lim, &r, &item, err, sizeof err), FW_E_OK);
    assert_int_equal(item.scene, 0);
    assert_memory_equal(item.text, "c", 1);
    msgpack_sbuffer_destroy(&b.sb);
}

static void test_bulk_reply_round_trip(void **state)
{
    fw_match m;
    fw_view v;
    fw_reply in = sample(&m, &v), out;
    tu_mp b;
    char err[256];
    (void)state;
    tu_mp_open(&b);
    fw_enc_bulk_begin(&b.pk, "\x07", 1, 3);
    fw_enc_item(&b.pk, "\xa1" "a", 2, &in);
    fw_enc_item_error(&b.pk, NULL, 0, FW_E_TOO_LARGE, "long");
    in.nviews = 0;
    fw_enc_item(&b.pk, NULL, 0, &in);
    fw_enc_bulk_end(&b.pk, 0);
    assert_int_equal(fw_patch_elapsed(b.sb.data, b.sb.size, 77), 0);
    assert_int_equal(fw_reply_decode(b.sb.data, b.sb.size, &out, err, sizeof err), 2);
    assert_true(out.has_id);
    assert_int_equal(out.id, 7);
    assert_int_equal(out.elapsed_us, 77);
    assert_int_equal(out.nresults, 3);
    assert_int_equal(out.results[0].decision, FW_BLOCK);
    assert_string_equal(out.results[0].matches[0].term, "色情");
    assert_int_equal(out.results[0].nviews, 1);
    assert_int_equal(out.results[0].elapsed_us, 0);               /* an item has none */
    assert_string_equal(out.results[1].error, "too_large");
    assert_int_equal(out.results[2].nviews, 0);
    assert_string_equal(out.results[2].version, "wl-0123456789abcdef");
    fw_reply_free(&out);
    for (size_t n = 0; n < b.sb.size; n++)
        assert_int_equal(fw_reply_decode(b.sb.data, n, &out, err, sizeof err), -1);
    msgpack_sbuffer_destroy(&b.sb);

    /* results inside a result are not followed (one level only) */
    static const char nested[] = "\x81\xa7results\x91\x82\xa8" "decision\xa5" "allow"
                                 "\xa7results\x90";
    assert_int_equal(fw_reply_decode(nested, sizeof nested - 1, &out, err, sizeof err), 2);
    assert_int_equal(out.nresults, 1);
    assert_int_equal(out.results[0].nresults, 0);
    assert_int_equal(out.results[0].decision, FW_ALLOW);
    fw_reply_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_good_request),
        cmocka_unit_test(test_truncated_at_every_byte),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_the_id_survives_other_errors),
        cmocka_unit_test(test_oversized_id_and_text),
        cmocka_unit_test(test_deep_nesting_and_impossible_counts),
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_a_reply_field_twice_is_refused),
        cmocka_unit_test(test_a_scene_with_a_nul_is_refused),
        cmocka_unit_test(test_error_pong_and_fallback_replies),
        cmocka_unit_test(test_json_has_the_fields_in_order),
        cmocka_unit_test(test_json_to_is_cjson_byte_for_byte),
        cmocka_unit_test(test_a_reply_without_explain_is_unchanged),
        cmocka_unit_test(test_chain_round_trip),
        cmocka_unit_test(test_bulk_items_each_with_its_error),
        cmocka_unit_test(test_bulk_request_errors),
        cmocka_unit_test(test_bulk_request_round_trip),
        cmocka_unit_test(test_bulk_reply_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
