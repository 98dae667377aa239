/* fuzz_jsonl.c -- libFuzzer harness: filterctl's JSON Lines request parser (fc_request_parse).
 *
 * Any bytes are one line (the parser rewrites \u0000 escapes in place, so it
 * gets a copy). An accepted line has a text of the length it says, inside
 * the parsed tree, and a known scene. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fc_request rq;
    char err[256] = "";
    char *line = malloc(size ? size : 1);

    if (!line)
        return 0;
    memcpy(line, data, size);
    int rc = fc_request_parse(line, size, FE_SCENE_DEFAULT, &rq, err, sizeof err);
    if (rc < 0) {
        if (!err[0])
            abort();
    } else {
        if (!rq.root || !rq.text || rq.scene < 0 || rq.scene >= FE_NSCENES ||
            rq.text[rq.len] != '\0')
            abort();
        volatile char sink = 0;
        for (size_t i = 0; i < rq.len; i++)   /* every byte readable (ASan) */
            sink ^= rq.text[i];
        (void)sink;
    }
    fc_request_free(&rq);
    free(line);
    return 0;
}
