/* fuzz_reply.c -- libFuzzer harness: the client's reply decoder (fw_reply_decode) and JSON.
 *
 * The client library parses whatever a server (or anything at its endpoint)
 * sends, so any bytes are a reply. A decoded reply is rendered as the HTTP
 * front door sends it (fw_reply_json_to) and as filterctl prints it
 * (fw_reply_json: that text read back, which must print as the same bytes)
 * and freed; LeakSanitizer sees anything the decoder loses on the way. A bulk reply's items are each checked as one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decision or an error, complete: what filterctl may print. */
static void check_one(const fw_reply *r)
{
    if (!r->error && (!r->version || r->decision < 0 || r->decision > 2))
        abort();
    for (size_t i = 0; i < r->nmatches; i++)
        if (!r->matches[i].term || !r->matches[i].label || !r->matches[i].action ||
            !r->matches[i].list || !r->matches[i].via ||
            (r->matches[i].nchain && !r->matches[i].chain))
            abort();
    for (size_t i = 0; i < r->nmatches; i++)   /* a chain's steps: strings, every one */
        for (size_t k = 0; k < r->matches[i].nchain; k++)
            if (!r->matches[i].chain[k])
                abort();
    for (size_t i = 0; i < r->nviews; i++)
        if (strlen(r->views[i].text) != r->views[i].len)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fw_reply r;
    char err[256] = "";

    int rc = fw_reply_decode(data, size, &r, err, sizeof err);
    if (rc < 0) {
        if (!err[0] || r.matches || r.labels || r.version || r.results)
            abort();
        fw_reply_free(&r);
        return 0;
    }
    if (rc == 2) {          /* a bulk reply (issue 11): each item a decision or an error */
        if (r.nresults && !r.results)
            abort();
        for (size_t i = 0; i < r.nresults; i++)
            if (r.results[i].nresults)
                abort();
            else
                check_one(&r.results[i]);
    } else {
        check_one(&r);
    }
    cJSON *id = cJSON_CreateNumber((double)r.id);
    cJSON *json = fw_reply_json(&r, id, 1);
    char *line = json ? cJSON_PrintUnformatted(json) : NULL;
    fw_jbuf b = {0};              /* straight into a buffer: the same bytes */
    fw_reply_json_to(&b, &r, id, 1);
    if (line && !b.oom && (b.len != strlen(line) || memcmp(b.p, line, b.len)))
        abort();
    free(b.p);
    free(line);
    cJSON_Delete(json);
    cJSON_Delete(id);
    fw_reply_free(&r);
    return 0;
}
