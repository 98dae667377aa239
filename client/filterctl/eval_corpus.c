/* eval_corpus.c -- filterctl eval's corpus readers: clean text, labelled CSV and JSON Lines.
 *
 * A clean corpus is one text per line. A labelled corpus is CSV with a
 * header, or JSON Lines; the text (text or content), label and topic columns
 * or members are found by name, case-insensitively. Every text goes to
 * fc_eval_text; rows without a text or a readable label are only counted. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "csv.h"
#include "eval.h"

static size_t chomp(char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    s[n] = '\0';
    return n;
}

typedef int (*line_fn)(eval *ev, corpus *cp, const char *line, size_t len, unsigned long no);

/* Call fn for each non-blank line of f (a leading BOM dropped), until it fails. */
static int each_line(eval *ev, corpus *cp, FILE *f, line_fn fn)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long no = 0;
    int rc = 0;

    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        size_t len = chomp(line, (size_t)n);
        const char *p = line;
        no++;
        if (no == 1 && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3, len -= 3;
        if (len)
            rc = fn(ev, cp, p, len, no);
    }
    free(line);
    return rc;
}

/* A clean corpus: one text per line. */
static int clean_line(eval *ev, corpus *cp, const char *line, size_t len, unsigned long no)
{
    return fc_eval_text(ev, cp, line, len, -1, NULL, no);
}

/* A label: 1/0, true/false, yes/no, or a number (non-zero is 1). -1 if unreadable. */
static int parse_label(const char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!strncasecmp(s, "true", 4) || !strncasecmp(s, "yes", 3))
        return 1;
    if (!strncasecmp(s, "false", 5) || !strncasecmp(s, "no", 2))
        return 0;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    return v != 0;
}

static int label_of_json(const cJSON *l)
{
    if (cJSON_IsBool(l))
        return cJSON_IsTrue(l);
    if (cJSON_IsNumber(l))
        return l->valuedouble != 0;
    if (cJSON_IsString(l))
        return parse_label(l->valuestring);
    return -1;
}

/* The first member named like one of names (case-insensitive), or NULL. */
static cJSON *member(const cJSON *o, const char *const *names)
{
    for (; *names; names++) {
        cJSON *m = cJSON_GetObjectItem(o, *names);   /* case-insensitive */
        if (m)
            return m;
    }
    return NULL;
}

static const char *const text_names[] = {"text", "content", NULL};
static const char *const label_names[] = {"label", NULL};
static const char *const topic_names[] = {"topic", NULL};

static int jsonl_line(eval *ev, corpus *cp, const char *line, size_t len, unsigned long no)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    cJSON *t = o ? member(o, text_names) : NULL, *tp = o ? member(o, topic_names) : NULL;
    int label = o ? label_of_json(member(o, label_names)) : -1, rc = 0;

    if (!cJSON_IsString(t) || label < 0)
        cp->unlabelled++;
    else {
        cp->has_topic |= cJSON_IsString(tp);
        rc = fc_eval_text(ev, cp, t->valuestring, strlen(t->valuestring), label,
                          cJSON_IsString(tp) ? tp->valuestring : NULL, no);
    }
    cJSON_Delete(o);
    return rc;
}

/* Index of the header field named like one of names, or -1. */
static int column(const fc_csv *c, const char *const *names)
{
    for (; *names; names++)
        for (size_t i = 0; i < c->nfields; i++) {
            size_t len;
            const char *f = fc_csv_field(c, i, &len);
            while (len && isspace((unsigned char)*f))
                f++, len--;
            while (len && isspace((unsigned char)f[len - 1]))
                len--;
            if (len == strlen(*names) && !strncasecmp(f, *names, len))
                return (int)i;
        }
    return -1;
}

static int read_csv(eval *ev, corpus *cp, FILE *f)
{
    fc_csv c;
    int n, rc = -1, ct, cl, ctp;

    fc_csv_init(&c, f);
    if ((n = fc_csv_next(&c)) <= 0) {
        fprintf(stderr, "filterctl eval: %s: no header line\n", cp->path);
        goto out;
    }
    ct = column(&c, text_names), cl = column(&c, label_names), ctp = column(&c, topic_names);
    if (ct < 0 || cl < 0) {
        fprintf(stderr, "filterctl eval: %s: the header needs a text (or content) and a "
                        "label column\n", cp->path);
        goto out;
    }
    cp->has_topic = ctp >= 0;
    rc = 0;
    while (rc == 0 && (n = fc_csv_next(&c)) > 0) {
        size_t len, tl;
        const char *text = fc_csv_field(&c, (size_t)ct, &len);
        int label = parse_label(fc_csv_field(&c, (size_t)cl, &tl));
        if (n == 1 && !len)
            continue;   /* blank line */
        if (label < 0 || (size_t)ct >= c.nfields)
            cp->unlabelled++;
        else
            rc = fc_eval_text(ev, cp, text, len, label,
                              ctp >= 0 ? fc_csv_field(&c, (size_t)ctp, &tl) : NULL, c.line);
    }
    if (n < 0) {
        fprintf(stderr, "filterctl eval: %s: read error or out of memory\n", cp->path);
        rc = -1;
    }
out:
    fc_csv_free(&c);
    return rc;
}

/* JSON Lines when the name says so or the first byte (after a BOM) is '{'. */
static int is_jsonl(const char *path, FILE *f)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson") || !strcmp(dot, ".json")))
        return 1;
    if (dot && !strcmp(dot, ".csv"))
        return 0;
    unsigned char b[4] = {0};
    size_t n = fread(b, 1, sizeof b, f);
    rewind(f);
    size_t i = n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0;
    return i < n && b[i] == '{';
}

/* A clean or labelled corpus, by cp->labelled; labelled ones by is_jsonl(). */
int fc_eval_read_corpus(eval *ev, corpus *cp)
{
    static char buf[IO_BUF];
    FILE *f = fopen(cp->path, "rb");
    int rc;

    if (!f) {
        fprintf(stderr, "filterctl eval: %s: ", cp->path);
        perror(NULL);
        return -1;
    }
    setvbuf(f, buf, _IOFBF, sizeof buf);
    if (!cp->labelled)
        rc = each_line(ev, cp, f, clean_line);
    else
        rc = is_jsonl(cp->path, f) ? each_line(ev, cp, f, jsonl_line) : read_csv(ev, cp, f);
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "filterctl eval: %s: read error\n", cp->path);
        rc = -1;
    }
    fclose(f);
    return rc;
}
