/* jsonout.h -- the JSON shapes of filterctl: a request line in, a decision out.
 *
 * One decision is one object (filterctl scan prints one per line, and
 * filterctl check --jsonl must print the very same):
 *   {"id": ..., "decision": "block", "suggest": "risky", "label": 20002,
 *    "labels": ["porn"], "matches": [{"start": 0, "end": 6, "term": "...",
 *    "label": "porn", "action": "block", "list": "zh/porn.txt", "line": 12,
 *    "via": "compact"}], "warnings": ["nul"], "version": "wl-..."}
 * A line that cannot be decided is {"id": ..., "error": "..."}. */
#ifndef FC_JSONOUT_H
#define FC_JSONOUT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "engine.h"

/* One parsed request line. The strings point into root. */
typedef struct fc_request {
    cJSON *root;        /* the parsed line, or NULL */
    cJSON *id;          /* the "id" member, NULL when absent or unreadable */
    const char *text;   /* the "text" member; may hold NUL bytes (len counts them) */
    size_t len;
    int scene;          /* enum fe_scene */
} fc_request;

/* Parse one JSON Lines request {"id": ..., "text": "...", "scene": "..."?}
 * from line[0..len), which is modified (see jsonout.c on NUL escapes). A
 * missing scene is scene. Returns 0, or -1 with a message in err and rq->id
 * set if it could be read. Release rq with fc_request_free() either way. */
int fc_request_parse(char *line, size_t len, int scene, fc_request *rq, char *err,
                     size_t errlen);
void fc_request_free(fc_request *rq);

/* The decision object for r, the result of scanning text[0..len) with rs.
 * id is copied (NULL: "id": null). Returns a new object the caller frees
 * with cJSON_Delete(), or NULL when out of memory or when r does not
 * belong to that text. */
cJSON *fc_result_json(const fe_ruleset *rs, const fe_result *r, const char *text, size_t len,
                      cJSON *id);
/* {"id": ..., "error": msg}; id copied, left out when NULL. Caller frees. */
cJSON *fc_error_json(const cJSON *id, const char *msg);

/* Print obj as one compact line on f, through buf[0..size) when it fits.
 * Returns 0, or -1 when out of memory or on a write error. */
int fc_json_print_line(FILE *f, cJSON *obj, char *buf, size_t size);

#endif
