/* jsonl.h -- filterctl's JSON Lines: a request line in, one line out.
 *
 * The objects printed are the wire module's (fw_reply_json, fw_error_json),
 * so filterctl scan and filterctl check --jsonl print the very same shape:
 *   {"id": ..., "decision": "block", "suggest": "risky", "label": 20002,
 *    "labels": ["porn"], "matches": [{"start": 0, "end": 6, "term": "...",
 *    "label": "porn", "action": "block", "list": "zh/porn.txt", "line": 12,
 *    "via": "compact"}], "warnings": ["nul"], "version": "wl-..."}
 * A line that cannot be decided is {"id": ..., "error": "..."}. */
#ifndef FC_JSONL_H
#define FC_JSONL_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* One parsed request line. The strings point into root. */
typedef struct fc_request {
    cJSON *root;        /* the parsed line, or NULL */
    cJSON *id;          /* the "id" member, NULL when absent or unreadable */
    const char *text;   /* the "text" member; may hold NUL bytes (len counts them) */
    size_t len;
    int scene;          /* enum fe_scene, or the caller's default */
} fc_request;

/* Parse one JSON Lines request {"id": ..., "text": "...", "scene": "..."?}
 * from line[0..len), which is modified (see jsonl.c on NUL escapes). A
 * missing scene is scene. Returns 0, or -1 with a message in err and rq->id
 * set if it could be read. Release rq with fc_request_free() either way. */
int fc_request_parse(char *line, size_t len, int scene, fc_request *rq, char *err,
                     size_t errlen);
void fc_request_free(fc_request *rq);

/* Print obj as one compact line on f, through buf[0..size) when it fits.
 * Returns 0, or -1 when out of memory or on a write error. */
int fc_json_print_line(FILE *f, cJSON *obj, char *buf, size_t size);

#endif
