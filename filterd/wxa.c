/* wxa.c -- POST /wxa/msg_sec_check: a drop-in for WeChat's msgSecCheck v2 (docs/http.md).
 *
 * The request is WeChat's: ?access_token=T, and a JSON body {content,
 * version: 2, scene: 1-4, openid, title?, nickname?, signature?}. Every text
 * field goes to the broker in one check (a bulk check when there are
 * several), each under its own scene: content under the request's scene
 * (1 profile, 2 comment, 3 forum, 4 social_log), title under "title",
 * nickname under "nickname", signature
 * under "profile" (msgSecCheck reads it with scene 1 only, and so do we;
 * content over 2,500 characters is 45002, as there). The answer
 * is WeChat's shape: {errcode, errmsg, trace_id, result {suggest, label},
 * detail [{strategy: "keyword", errcode, suggest, label, keyword, prob,
 * level}]}, with filterd's own facts added beside WeChat's fields, never in
 * their place (detail[].field, start, end, list, line, via; version;
 * degraded). Errors use WeChat's errcodes with HTTP 200, as WeChat does,
 * but for the HTTP-level refusals (405, 413, 415: httpreq.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

enum { F_CONTENT, F_TITLE, F_NICKNAME, F_SIGNATURE, F_N };
static const char *const field_name[F_N] = {"content", "title", "nickname", "signature"};
/* msgSecCheck's scenes 1-4, then the scene each optional field is checked under. */
static const char *const wxa_scene[5] = {NULL, "profile", "comment", "forum", "social_log"};
static const char *const field_scene[F_N] = {NULL, "title", "nickname", "profile"};
#define WXA_CONTENT_MAX 2500      /* characters of content, as msgSecCheck */

#define WXA_ERRMSG(code) ((code) == 40001 ? "invalid credential, access_token is invalid or not latest" \
    : (code) == 41001 ? "access_token missing" : (code) == 40003 ? "invalid openid"              \
    : (code) == 40129 ? "invalid scene" : (code) == 44002 ? "empty post data"                    \
    : (code) == 45002 ? "content size out of limit" : (code) == 43302 ? "require POST method"    \
    : (code) == 47001 ? "data format error" : "system error")

void fd_wxa_error(fd_hreq *r, int status, int errcode, const char *detail)
{
    char msg[320];
    fw_jbuf b = {0};
    snprintf(msg, sizeof msg, "%s%s%s%s", WXA_ERRMSG(errcode), detail ? " (" : "",
             detail ? detail : "", detail ? ")" : "");
    FW_JB_LIT(&b, "{\"errcode\":");
    fw_jb_int(&b, errcode);
    FW_JB_LIT(&b, ",\"errmsg\":");
    fw_jb_str(&b, msg, SIZE_MAX);
    FW_JB_LIT(&b, "}");
    fd_hreq_jbuf(r, status, &b);
}

/* Characters (code points) of valid UTF-8 s. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static int refuse(fd_hreq *r, int errcode, const char *detail)
{
    fd_wxa_error(r, 200, errcode, detail);
    return 0;
}

/* The token: in the query string, one of http-tokens; without a token file,
 * any (or none) from loopback. 0, or the errcode. */
static int token_errcode(const fd_http *h, const fd_hreq *r, const cJSON *doc)
{
    const char *tok = MHD_lookup_connection_value(r->conn->mc, MHD_GET_ARGUMENT_KIND,
                                                  "access_token");
    if (!h->has_tokens)
        return r->conn->loopback ? 0 : 40001;
    if (!tok || !tok[0])
        return cJSON_GetObjectItemCaseSensitive(doc, "access_token") ? 47001 : 41001;
    return fd_hreq_authorised(h, r, tok) ? 0 : 40001;
}

int fd_wxa_start(fd_http *h, fd_hreq *r)
{
    char err[160];
    fc_query q[F_N];
    if (!r->len)
        return refuse(r, 44002, NULL);
    cJSON *o = fd_hreq_doc(r, err, sizeof err);
    int code = token_errcode(h, r, o);
    if (code)
        return refuse(r, code, code == 47001 ? "access_token goes in the query string"
                               : !h->has_tokens ? "filterd has no http-tokens file: only "
                               "loopback clients are answered" : NULL);
    if (!o || !cJSON_IsObject(o))
        return refuse(r, 47001, o ? "the body must be a JSON object" : err);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "version");
    const cJSON *openid = cJSON_GetObjectItemCaseSensitive(o, "openid");
    const cJSON *scene = cJSON_GetObjectItemCaseSensitive(o, "scene");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 2)
        return refuse(r, 47001, "version must be 2");
    if (!cJSON_IsString(openid) || !openid->valuestring[0])
        return refuse(r, 40003, "openid must be a non-empty string");
    if (!cJSON_IsNumber(scene) || scene->valuedouble < 1 || scene->valuedouble > 4 ||
        scene->valuedouble != (double)(int)scene->valuedouble)
        return refuse(r, 40129, "scene must be 1, 2, 3 or 4");
    int sc = (int)scene->valuedouble;
    r->nitems = 0;
    for (int f = 0; f < F_N; f++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, field_name[f]);
        if (!t && f != F_CONTENT)
            continue;
        if (!cJSON_IsString(t)) {
            snprintf(err, sizeof err, "%s must be a string", field_name[f]);
            return refuse(r, 47001, err);
        }
        if ((f != F_CONTENT && !t->valuestring[0]) || (f == F_SIGNATURE && sc != 1))
            continue;             /* msgSecCheck reads a signature with scene 1 only */
        if (f == F_CONTENT && utf8_chars(t->valuestring) > WXA_CONTENT_MAX) {
            snprintf(err, sizeof err, "content is over %d characters", WXA_CONTENT_MAX);
            return refuse(r, 45002, err);
        }
        q[r->nitems] = (fc_query){.text = t->valuestring, .len = strlen(t->valuestring),
                                  .scene = f ? field_scene[f] : wxa_scene[sc]};
        r->field[r->nitems++] = (unsigned char)f;
    }
    if (fd_http_send(h, r, q, (size_t)r->nitems, r->nitems > 1, 0) < 0)
        return refuse(r, -1, "the broker cannot be reached");
    return 1;
}

/* prob and level of a keyword hit (docs/http.md): prob 100 when the text as
 * written matched, 90 when only a disguise view (a reading) did; level
 * the match's action: 30 block, 20 flag, 10 allow. */
static void detail_to(fw_jbuf *b, const fw_match *m, int field)
{
    int action = fw_decision_lookup(m->action), l = fe_label_lookup(m->label);
    int base = !strcmp(m->via, "folded") || !strcmp(m->via, "compact");
    FW_JB_LIT(b, "{\"strategy\":\"keyword\",\"errcode\":0,\"suggest\":");
    fw_jb_str(b, fw_decision_suggest(action), SIZE_MAX);
    FW_JB_LIT(b, ",\"label\":");
    fw_jb_int(b, fe_label_code(l));
    FW_JB_LIT(b, ",\"keyword\":");
    fw_jb_str(b, m->term, SIZE_MAX);
    FW_JB_LIT(b, ",\"prob\":");
    fw_jb_int(b, base ? 100 : 90);
    FW_JB_LIT(b, ",\"level\":");
    fw_jb_int(b, 10 * (action + 1));
    FW_JB_LIT(b, ",\"field\":");
    fw_jb_str(b, field_name[field], SIZE_MAX);
    FW_JB_LIT(b, ",\"start\":");
    fw_jb_int(b, (long long)m->start);
    FW_JB_LIT(b, ",\"end\":");
    fw_jb_int(b, (long long)m->end);
    FW_JB_LIT(b, ",\"list\":");
    fw_jb_str(b, m->list, SIZE_MAX);
    FW_JB_LIT(b, ",\"line\":");
    fw_jb_int(b, m->line);
    FW_JB_LIT(b, ",\"via\":");
    fw_jb_str(b, m->via, SIZE_MAX);
    FW_JB_LIT(b, "}");
}

void fd_wxa_done(fd_http *h, fd_hreq *r, fc_result *res, size_t n)
{
    char trace[40], why[200];
    int best = -1, deciding = 0;
    const char *degraded = NULL;
    for (size_t i = 0; i < n; i++) {
        if (res[i].error) {
            int too = !strcmp(res[i].error, "too_large");
            snprintf(why, sizeof why, "%s: %s", field_name[r->field[i < 4 ? i : 0]],
                     res[i].error_message ? res[i].error_message : res[i].error);
            fd_wxa_error(r, 200, too ? 45002 : -1, why);
            return;
        }
        if (res[i].decision > best)
            best = res[i].decision, deciding = (int)i;
        if (res[i].degraded && !degraded)
            degraded = res[i].degraded;
    }
    if (!n) {                     /* not sent (httpsend.c) */
        fd_wxa_error(r, 200, -1, "the broker cannot be reached");
        return;
    }
    if (best < 0 || n != (size_t)r->nitems) {
        fd_wxa_error(r, 200, -1, "the broker's reply had no result");
        return;
    }
    snprintf(trace, sizeof trace, "%08x-%08x-%08llx", h->trace_seed, (unsigned)h->trace_pid,
             (unsigned long long)++h->trace);
    fw_jbuf b = {0};              /* straight into one buffer: no cJSON tree */
    FW_JB_LIT(&b, "{\"errcode\":0,\"errmsg\":\"ok\",\"trace_id\":");
    fw_jb_str(&b, trace, SIZE_MAX);
    FW_JB_LIT(&b, ",\"result\":{\"suggest\":");
    fw_jb_str(&b, fw_decision_suggest(best), SIZE_MAX);
    FW_JB_LIT(&b, ",\"label\":");
    fw_jb_int(&b, res[deciding].label);
    FW_JB_LIT(&b, "},\"detail\":[");
    int first = 1;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < res[i].nmatches; k++, first = 0) {
            if (!first)
                FW_JB_LIT(&b, ",");
            detail_to(&b, &res[i].matches[k], r->field[i]);
        }
    FW_JB_LIT(&b, "],\"version\":");
    fw_jb_str(&b, res[deciding].version ? res[deciding].version : "", SIZE_MAX);
    if (degraded) {
        FW_JB_LIT(&b, ",\"degraded\":");
        fw_jb_str(&b, degraded, SIZE_MAX);
    }
    FW_JB_LIT(&b, "}");
    fd_hreq_jbuf(r, 200, &b);
}
