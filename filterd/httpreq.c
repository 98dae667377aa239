/* httpreq.c -- the HTTP front door's routes: the table, what every request is checked for, /v1/check.
 *
 * A request is checked in two steps. When its headers are in (fd_hreq_begin):
 * path (404), method (405), content type (415), declared length (413) and,
 * for the checks, the token; then its body is read, up to http-max-body
 * (more is read and dropped, then 413). When the body is in (fd_hreq_run),
 * the route's start function parses it. A JSON body must be valid UTF-8,
 * without NUL characters (raw or \u0000, which would cut a text short), and
 * one JSON value: else 400, with {"error": {"code", "message"}} as the
 * wire protocol's error replies. msgSecCheck's route (wxa.c) answers its
 * errors in WeChat's shape instead. Adding a route is a row in the table. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "console.h"

static int health_start(fd_http *h, fd_hreq *r);

static const fd_route routes[FD_HTTP_ROUTES] = {
    {"/wxa/msg_sec_check", "POST", FD_RT_BODY | FD_RT_WXA, fd_wxa_start, fd_wxa_done, NULL},
    {"/v1/check", "POST", FD_RT_BODY | FD_RT_AUTH, fd_check_start, fd_check_done, NULL},
    {"/metrics", "GET", 0, fd_metrics_start, NULL, fd_metrics_render},
    {"/readyz", "GET", 0, fd_metrics_start, NULL, fd_ready_render},
    {"/healthz", "GET", 0, health_start, NULL, NULL},
    {"/console/api/", NULL, FD_RT_PREFIX | FD_RT_ADMIN | FD_RT_BODY, fd_console_api,
     fd_console_done, fd_live_stats},
    {"/console", "GET", FD_RT_PREFIX, fd_console_page, NULL, NULL},
};

const fd_route *fd_route_find(const char *path, int *index)
{
    for (int i = 0; i < FD_HTTP_ROUTES; i++)
        if ((routes[i].flags & FD_RT_PREFIX) ? !strncmp(routes[i].path, path,
                                                        strlen(routes[i].path))
                                             : !strcmp(routes[i].path, path)) {
            *index = i;
            return &routes[i];
        }
    *index = FD_HTTP_ROUTES;
    return NULL;
}

const char *fd_route_path(int index)
{
    return index >= 0 && index < FD_HTTP_ROUTES ? routes[index].path : "other";
}

/* ---- responses ------------------------------------------------------------ */

void fd_hreq_text(fd_hreq *r, int status, const char *ctype, char *text, size_t len)
{
    free(r->out);
    r->out = text;
    r->outlen = len;
    r->ctype = ctype;
    r->status = status;
    if (!text) {                  /* out of memory: a 500 that needs no memory */
        r->out = NULL;
        r->outlen = 0;
        r->status = 500;
    }
}

void fd_hreq_json(fd_hreq *r, int status, cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    fd_hreq_text(r, status, "application/json", s, s ? strlen(s) : 0);
}

void fd_hreq_jbuf(fd_hreq *r, int status, fw_jbuf *b)
{
    if (b->oom) {
        free(b->p);
        b->p = NULL;
    }
    fd_hreq_text(r, status, "application/json", b->p, b->len);
    *b = (fw_jbuf){0};
}

/* An object's opening, with "id": id first when there is one. */
static void open_with_id(fw_jbuf *b, const cJSON *id)
{
    FW_JB_LIT(b, "{");
    if (id) {
        FW_JB_LIT(b, "\"id\":");
        fw_jb_json(b, id);
        FW_JB_LIT(b, ",");
    }
}

/* {"id"?: id, "error": {"code", "message"}} appended to b. */
static void error_to(fw_jbuf *b, const cJSON *id, const char *code, const char *msg)
{
    open_with_id(b, id);
    FW_JB_LIT(b, "\"error\":{\"code\":");
    fw_jb_str(b, code, SIZE_MAX);
    FW_JB_LIT(b, ",\"message\":");
    fw_jb_str(b, msg, SIZE_MAX);
    FW_JB_LIT(b, "}}");
}

void fd_hreq_error(fd_hreq *r, int status, const cJSON *id, const char *code, const char *msg)
{
    fw_jbuf b = {0};
    error_to(&b, id, code, msg);
    fd_hreq_jbuf(r, status, &b);
}

static int health_start(fd_http *h, fd_hreq *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", h->stopping ? "stopping" : "ok");
    fd_hreq_json(r, h->stopping ? 503 : 200, o);
    return 0;
}

/* An error before the body: in msgSecCheck's shape on its route. */
static int refuse(fd_hreq *r, int status, int errcode, const char *code, const char *msg)
{
    if (r->route && (r->route->flags & FD_RT_WXA))
        fd_wxa_error(r, status, errcode, msg);
    else
        fd_hreq_error(r, status, NULL, code, msg);
    return 1;
}

/* ---- checks of a request --------------------------------------------------- */

/* application/json, with no charset or charset=utf-8; empty when absent is ok. */
static int json_type(const char *ct, int absent_ok)
{
    if (!ct)
        return absent_ok;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n != 16 || strncasecmp(ct, "application/json", 16))
        return 0;
    for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
        const char *v = p + 1 + strspn(p + 1, " \t");
        if (!strncasecmp(v, "charset=", 8) && strncasecmp(v + 8, "utf-8", 5) &&
            strncasecmp(v + 8, "\"utf-8\"", 7))
            return 0;
    }
    return 1;
}

int fd_hreq_authorised(const fd_http *h, const fd_hreq *r, const char *token)
{
    if (!h->has_tokens)
        return r->conn->loopback;
    return token && fd_tokens_match(&h->tokens, token, strlen(token));
}

/* The token of /v1/check: "Authorization: Bearer T", or ?access_token=T. */
static const char *bearer(struct MHD_Connection *mc)
{
    const char *a = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (a && !strncasecmp(a, "Bearer ", 7))
        return a + 7 + strspn(a + 7, " ");
    return MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "access_token");
}

int fd_hreq_begin(fd_http *h, fd_hreq *r, const char *url, const char *method)
{
    struct MHD_Connection *mc = r->conn->mc;
    char msg[128];
    r->route = fd_route_find(url, &r->route_index);
    if (!r->route)
        return refuse(r, 404, 0, "not_found", "no such path (see docs/http.md)");
    snprintf(r->method, sizeof r->method, "%s", method);
    if ((r->route->flags & FD_RT_PREFIX) && !(r->url = strdup(url)))
        return refuse(r, 500, -1, "internal", "out of memory");
    if (!r->route->method && strcmp(method, "GET") && strcmp(method, "HEAD") &&
        strcmp(method, "POST")) {
        r->allow = "GET, HEAD, POST";
        return refuse(r, 405, 0, "method_not_allowed", "GET, HEAD or POST");
    }
    int get = r->route->method && !strcmp(r->route->method, "GET");
    if (r->route->method && strcmp(method, r->route->method) &&
        !(get && !strcmp(method, "HEAD"))) {
        r->allow = get ? "GET, HEAD" : "POST";
        snprintf(msg, sizeof msg, "%s takes %s only", r->route->path, r->allow);
        return refuse(r, 405, 43302, "method_not_allowed", msg);
    }
    if (h->stopping && r->route->start != health_start)
        return refuse(r, 503, -1, "unavailable", "filterd is stopping");
    if ((r->route->flags & FD_RT_ADMIN) &&
        fd_console_auth(h, r, MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                          MHD_HTTP_HEADER_AUTHORIZATION)))
        return 1;
    if (!(r->route->flags & FD_RT_BODY) || (!r->route->method && strcmp(method, "POST")))
        return 0;
    int wxa = r->route->flags & FD_RT_WXA;
    if (!json_type(MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
                   wxa || !r->route->method))   /* the console's POSTs without a body */
        return refuse(r, 415, 47001, "unsupported_media_type",
                      "the body must be JSON: Content-Type: application/json (charset utf-8)");
    const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > h->cfg->http_max_body) {
        snprintf(msg, sizeof msg, "the body is larger than http-max-body (%zu bytes)",
                 h->cfg->http_max_body);
        return refuse(r, 413, 45002, "too_large", msg);
    }
    if ((r->route->flags & FD_RT_AUTH) && !fd_hreq_authorised(h, r, bearer(mc)))
        return h->has_tokens ? refuse(r, 401, 40001, "unauthorized", "a valid access token is "
                                      "needed: Authorization: Bearer TOKEN, or ?access_token=")
                             : refuse(r, 403, 40001, "forbidden", "no http-tokens file is "
                                      "configured: only loopback clients are answered");
    return 0;
}

void fd_hreq_body(fd_http *h, fd_hreq *r, const char *data, size_t n)
{
    if (r->too_large || !r->route || !(r->route->flags & FD_RT_BODY))
        return;                   /* dropped: over the limit, or a body nobody asked for */
    if (n > h->cfg->http_max_body - r->len) {
        r->too_large = 1;         /* a chunked body past the limit: read on, keep nothing */
        free(r->body);
        r->body = NULL;
        r->len = r->cap = 0;
        return;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n)
            cap *= 2;
        if (cap > h->cfg->http_max_body)
            cap = h->cfg->http_max_body;
        char *b = realloc(r->body, cap);
        if (!b) {
            r->too_large = 1;
            return;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
}

int fd_hreq_run(fd_http *h, fd_hreq *r)
{
    char msg[128];
    if (r->too_large) {
        snprintf(msg, sizeof msg, "the body is larger than http-max-body (%zu bytes)",
                 h->cfg->http_max_body);
        return !refuse(r, 413, 45002, "too_large", msg);
    }
    return r->route->start(h, r);
}

void fd_hreq_free(fd_http *h, fd_hreq *r)
{
    if (r->waiting == 2)
        fd_metrics_drop(h, r);
    if (r->waiting == 3)
        fd_console_drop(h, r);
    if (r->q != &r->q1)
        free(r->q);               /* queued, never sent: only when the process stops */
    free(r->url);
    free(r->body);
    free(r->out);
    if (r->doc != r->flat)
        cJSON_Delete(r->doc);
    free(r);
}

cJSON *fd_hreq_doc(fd_hreq *r, char *err, size_t errlen)
{
    if (r->len && (r->doc = fd_json_flat(r->body, r->len, r->flat, FD_JSON_FLAT_MAX)))
        return r->doc;
    return r->doc = fd_json_parse(r->body, r->len, err, errlen);
}

/* ---- /v1/check ----------------------------------------------------------- */

static int http_status(const char *code)
{
    return !strcmp(code, "too_large") ? 413 : !strcmp(code, "internal") ? 500
         : !strcmp(code, "forbidden") ? 403 : 400;
}

/* A text and its scene from o ("what": for messages). 0, or -1 with why. */
static int text_of(const cJSON *o, const char *what, fc_query *q, char *err, size_t errlen)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "scene");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (!cJSON_IsString(t)) {
        snprintf(err, errlen, "%stext must be a string", what);
        return -1;
    }
    if (s && !cJSON_IsString(s)) {
        snprintf(err, errlen, "%sscene must be a string", what);
        return -1;
    }
    if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id)) {
        snprintf(err, errlen, "%sid must be a string or a number", what);
        return -1;
    }
    q->text = t->valuestring;
    q->len = strlen(t->valuestring);
    q->scene = s ? s->valuestring : q->scene;
    return 0;
}

/* The request's options: scene, budget_ms, explain, v, op. 0 or -1. */
static int options(const cJSON *o, fc_query *base, int *explain, char *err, size_t errlen)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "budget_ms");
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "explain");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "op");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "scene");
    if (b && (!cJSON_IsNumber(b) || b->valuedouble < 0 || b->valuedouble > 1e9 ||
              b->valuedouble != (double)(int)b->valuedouble))
        snprintf(err, errlen, "budget_ms must be a whole number of milliseconds");
    else if (x && !cJSON_IsBool(x))
        snprintf(err, errlen, "explain must be true or false");
    else if (v && (!cJSON_IsNumber(v) || v->valuedouble != FW_VERSION))
        snprintf(err, errlen, "v must be %d", FW_VERSION);
    else if (op && (!cJSON_IsString(op) || strcmp(op->valuestring, "check")))
        snprintf(err, errlen, "op must be \"check\" (the only operation over HTTP)");
    else if (s && !cJSON_IsString(s))
        snprintf(err, errlen, "scene must be a string");
    else {
        base->budget_ms = b ? (int)b->valuedouble : 0;
        base->scene = s ? s->valuestring : NULL;
        *explain = cJSON_IsTrue(x);
        return 0;
    }
    return -1;
}

/* The request's shape, its options and (single) its text: 0, or -1 with why. */
static int shape(const cJSON *o, fc_query *base, int *explain, char *err, size_t errlen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    if (options(o, base, explain, err, errlen) < 0)
        return -1;
    if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id))
        snprintf(err, errlen, "id must be a string or a number");
    else if (items && cJSON_GetObjectItemCaseSensitive(o, "text"))
        snprintf(err, errlen, "a check has text or items, not both");
    else if (items && !cJSON_IsArray(items))
        snprintf(err, errlen, "items must be an array");
    else
        return items ? 0 : text_of(o, "", base, err, errlen);
    return -1;
}

int fd_check_start(fd_http *h, fd_hreq *r)
{
    char err[160];
    fc_query base = {0}, *q = &base;
    int explain = 0, rc;
    cJSON *o = fd_hreq_doc(r, err, sizeof err);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    int n = cJSON_GetArraySize(items);
    if (!o || !cJSON_IsObject(o)) {
        fd_hreq_error(r, 400, NULL, "bad_request", o ? "the body must be a JSON object" : err);
        return 0;
    }
    if (shape(o, &base, &explain, err, sizeof err) < 0) {
        fd_hreq_error(r, 400, cJSON_IsString(id) || cJSON_IsNumber(id) ? id : NULL,
                      "bad_request", err);
        return 0;
    }
    if (items && n > h->cfg->max_items) {
        snprintf(err, sizeof err, "%d items: at most max-items (%d) in one request", n,
                 h->cfg->max_items);
        fd_hreq_error(r, 413, id, "too_large", err);
        return 0;
    }
    if (items && !n) {
        cJSON *out = cJSON_CreateObject();
        if (id)
            cJSON_AddItemToObject(out, "id", cJSON_Duplicate(id, 1));
        cJSON_AddItemToObject(out, "results", cJSON_CreateArray());
        fd_hreq_json(r, 200, out);
        return 0;
    }
    if (items && !(q = calloc((size_t)n, sizeof *q))) {
        fd_hreq_error(r, 500, id, "internal", "out of memory");
        return 0;
    }
    for (int i = 0; items && i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "items[%d]: ", i);
        q[i] = base;
        if (!cJSON_IsObject(cJSON_GetArrayItem(items, i))) {
            snprintf(err, sizeof err, "%san item must be an object", what);
            goto bad;
        }
        if (text_of(cJSON_GetArrayItem(items, i), what, &q[i], err, sizeof err) < 0)
            goto bad;
    }
    rc = fd_http_send(h, r, q, items ? (size_t)n : 1, items != NULL, explain);
    if (q != &base)
        free(q);
    if (rc < 0)
        fd_hreq_error(r, 503, id, "unavailable", "the broker cannot be reached");
    return rc == 0;
bad:
    free(q);
    fd_hreq_error(r, 400, id, "bad_request", err);
    return 0;
}

/* One result, appended to b: a decision (fw_reply_json_to) or {"id"?, "error": {...}}. */
static void result_to(fw_jbuf *b, const fc_result *res, const cJSON *id)
{
    if (!res->error)
        fw_reply_json_to(b, res, id, id != NULL);
    else
        error_to(b, id, res->error, res->error_message ? res->error_message : "");
}

/* The answer rendered straight into one buffer, no cJSON tree (wire's one
 * rendering of a decision, fw_reply_json_to: what filterctl prints too). */
void fd_check_done(fd_http *h, fd_hreq *r, fc_result *res, size_t n)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r->doc, "id");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(r->doc, "items");
    fw_jbuf b = {0};
    (void)h;
    if (!n) {                     /* not sent (httpsend.c) */
        fd_hreq_error(r, 503, id, "unavailable", "the broker cannot be reached");
        return;
    }
    if (!items) {
        result_to(&b, &res[0], id);
        fd_hreq_jbuf(r, res[0].error ? http_status(res[0].error) : 200, &b);
        return;
    }
    open_with_id(&b, id);
    FW_JB_LIT(&b, "\"results\":[");
    const cJSON *it = items->child;
    for (size_t i = 0; i < n; i++, it = it ? it->next : NULL) {
        if (i)
            FW_JB_LIT(&b, ",");
        result_to(&b, &res[i], cJSON_GetObjectItemCaseSensitive(it, "id"));
    }
    FW_JB_LIT(&b, "]}");
    fd_hreq_jbuf(r, 200, &b);
}
