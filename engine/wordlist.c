/* wordlist.c -- parse word-list files; every error is "file:line: reason". */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fold.h"
#include "strutil.h"
#include "taxonomy.h"
#include "wordlist.h"

#define MAX_FILE_BYTES (64u << 20)   /* a list file larger than this is refused */
#define MAX_DEPTH 8                  /* folder nesting under the list folder */

uint64_t fe_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* File-level defaults, changed by @ directives, and what the file's end reports. */
typedef struct defaults {
    int label, action;   /* -1: none / the label's default */
    int word, allow, view;
    unsigned unlabelled; /* entries without a label: one error per file, at its end */
    unsigned unlabelled_line;  /* the first of them */
    unsigned views_on, views_off;
} defaults;

static const struct {
    const char *name;
    int view;
} switches[] = {
    {"sound", FE_VIEW_PHONETIC}, {"emoji", FE_VIEW_EMOJI}, {"initials", FE_VIEW_INITIALS},
    {"leet", FE_VIEW_LEET},
};

unsigned fe_wl_switch(const char *name, int *off)
{
    *off = !strncmp(name, "no", 2);
    if (!strcmp(name, "nodisguise"))
        return FE_DISGUISE_VIEWS;
    for (size_t i = 0; i < sizeof switches / sizeof switches[0]; i++)
        if (!strcmp(name + (*off ? 2 : 0), switches[i].name))
            return FE_VIEW_BIT(switches[i].view);
    return 0;
}

/* Turn the views of a switch on or off in (on, off). */
static void apply_switch(unsigned bits, int off, unsigned *on, unsigned *offs)
{
    if (off) {
        *offs |= bits;
        *on &= ~bits;
    } else {
        *on |= bits;
        *offs &= ~bits;
    }
}

static int valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = fe_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k < 0)
            return 0;
        i += (size_t)k;
    }
    return 1;
}

/* The label a file's name gives it: "zh/porn.txt" -> porn. */
static int label_of_name(const char *name)
{
    const char *base = strrchr(name, '/');
    char buf[64];
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    if (n < 5 || n - 4 >= sizeof buf || strcmp(base + n - 4, ".txt"))
        return -1;
    memcpy(buf, base, n - 4);
    buf[n - 4] = '\0';
    return fe_label_lookup(buf);
}

static int directive(defaults *d, char *s, const char *where, fe_errors *err)
{
    char *arg = s;
    while (*arg && !isspace((unsigned char)*arg))
        arg++;
    if (*arg)
        *arg++ = '\0';
    arg = fe_trim(arg);
    int off;
    unsigned bits = !*arg ? fe_wl_switch(s + 1, &off) : 0;
    if (bits) {
        apply_switch(bits, off, &d->views_on, &d->views_off);
    } else if (!strcmp(s, "@label")) {
        if ((d->label = fe_label_lookup(arg)) < 0)
            goto bad_label;
    } else if (!strcmp(s, "@action")) {
        if ((d->action = fe_action_lookup(arg)) < 0)
            goto bad_action;
    } else if (!strcmp(s, "@word") && !*arg) {
        d->word = 1;
    } else if (!strcmp(s, "@allow") && !*arg) {
        d->allow = 1;
    } else if (!strcmp(s, "@view")) {
        if ((d->view = fe_view_lookup(arg)) < 0 || d->view >= FE_NBASE_VIEWS) {
            fe_errors_add(err, "%s: unknown view '%s' (folded or compact)", where, arg);
            return -1;
        }
    } else {
        fe_errors_add(err, "%s: unknown directive '%s' (@label, @action, @word, @view, @allow, "
                      "@sound, @emoji, @initials, @leet, their @no forms, @nodisguise)",
                      where, s);
        return -1;
    }
    return 0;
bad_label:
    fe_errors_add(err, "%s: unknown label '%s'", where, arg);
    return -1;
bad_action:
    fe_errors_add(err, "%s: unknown action '%s' (block, flag or allow)", where, arg);
    return -1;
}

/* Apply one "[...]" option to e. */
static int option(fe_entry *e, char *o, const char *where, fe_errors *err)
{
    char *v = strchr(o, '=');
    if (v)
        *v++ = '\0', v = fe_trim(v);
    o = fe_trim(o);
    int x, off;
    unsigned bits = v ? 0 : fe_wl_switch(o, &off);
    if (bits) {
        unsigned on = e->views_on, offs = e->views_off;
        apply_switch(bits, off, &on, &offs);
        e->views_on = (uint8_t)on;
        e->views_off = (uint8_t)offs;
    } else if (!strcmp(o, "action") && v) {
        if ((x = fe_action_lookup(v)) < 0) {
            fe_errors_add(err, "%s: unknown action '%s' (block, flag or allow)", where, v);
            return -1;
        }
        e->action = (uint8_t)x;
    } else if (!strcmp(o, "label") && v) {
        if ((x = fe_label_lookup(v)) < 0) {
            fe_errors_add(err, "%s: unknown label '%s'", where, v);
            return -1;
        }
        e->label = (int8_t)x;
    } else if (!strcmp(o, "view") && v) {
        if ((x = fe_view_lookup(v)) < 0 || x >= FE_NBASE_VIEWS) {
            fe_errors_add(err, "%s: unknown view '%s' (folded or compact)", where, v);
            return -1;
        }
        e->view = (int8_t)x;
    } else if (!strcmp(o, "check") && v) {
        if (strcmp(v, "idcard")) {
            fe_errors_add(err, "%s: unknown check '%s' (idcard)", where, v);
            return -1;
        }
        e->check = FE_CHECK_IDCARD;
    } else if (!strcmp(o, "word") && !v) {
        e->flags |= FE_E_WORD;
    } else if (!strcmp(o, "noword") && !v) {
        e->flags &= (uint8_t)~FE_E_WORD;
    } else if (!strcmp(o, "re") && !v) {
        e->flags |= FE_E_RE;
    } else {
        fe_errors_add(err, "%s: unknown option '%s%s%s'", where, o, v ? "=" : "", v ? v : "");
        return -1;
    }
    return 0;
}

static int push(fe_wordlists *wl, const fe_entry *e)
{
    if (wl->n == wl->cap) {
        size_t cap = wl->cap ? wl->cap * 2 : 1024;
        fe_entry *p = realloc(wl->entries, cap * sizeof *p);
        if (!p)
            return -1;
        wl->entries = p;
        wl->cap = cap;
    }
    wl->entries[wl->n++] = *e;
    return 0;
}

/* One entry line (options and term). */
static int entry(fe_wordlists *wl, defaults *d, char *s, unsigned line,
                 const char *where, fe_errors *err)
{
    fe_entry e = {0};
    int bad = 0;

    e.file = (uint32_t)(wl->nfiles - 1);
    e.line = line;
    e.label = (int8_t)d->label;
    e.action = 0xff;   /* not given: the file's @action, else the label's default */
    e.flags = (uint8_t)((d->word ? FE_E_WORD : 0) | (d->allow ? FE_E_ALLOW : 0));
    e.view = (int8_t)d->view;
    e.views_on = (uint8_t)d->views_on;
    e.views_off = (uint8_t)d->views_off;
    if (*s == '[') {
        char *close = strchr(s, ']'), *save = NULL;
        if (!close) {
            fe_errors_add(err, "%s: unclosed '[' before the term (write \\[ for a literal '[')",
                          where);
            return -1;
        }
        *close = '\0';
        for (char *o = strtok_r(s + 1, ",", &save); o; o = strtok_r(NULL, ",", &save))
            bad |= option(&e, o, where, err) < 0;
        s = fe_trim(close + 1);
    } else if (s[0] == '\\' && (s[1] == '[' || s[1] == '@' || s[1] == '#'))
        s++;
    if (e.action == 0xff)
        e.action = (uint8_t)(d->action >= 0 ? d->action : (int)fe_label_action(e.label));
    if (bad)
        return -1;
    if (!*s) {
        fe_errors_add(err, "%s: empty term", where);
        return -1;
    }
    if (!valid_utf8(s)) {
        fe_errors_add(err, "%s: term is not valid UTF-8", where);
        return -1;
    }
    if (!(e.flags & FE_E_ALLOW) && e.label < 0) {
        if (!d->unlabelled++)
            d->unlabelled_line = line;
        return -1;        /* reported once, for the whole file, by fe_wl_parse */
    }
    if (e.flags & FE_E_ALLOW)
        e.label = -1, e.action = FE_ALLOW;
    if (!(e.term = strdup(s)) || push(wl, &e) < 0) {
        free(e.term);
        fe_errors_add(err, "%s: out of memory", where);
        return -1;
    }
    return 0;
}

int fe_wl_parse(fe_wordlists *wl, const char *name, const char *text, size_t len,
                fe_errors *err)
{
    defaults d = {label_of_name(name), -1, 0, 0, -1, 0, 0};
    char where[4200];
    int before = err->count;

    char **files = realloc(wl->files, (wl->nfiles + 1) * sizeof *files);
    if (!files || !(files[wl->nfiles] = strdup(name))) {
        if (files)
            wl->files = files;
        fe_errors_add(err, "%s: out of memory", name);
        return -1;
    }
    wl->files = files;
    wl->nfiles++;
    wl->hash = fe_hash(wl->hash ? wl->hash : FE_HASH_INIT, name, strlen(name) + 1);
    wl->hash = fe_hash(wl->hash, text, len);

    /* "base.allow.txt" and "allow.txt" are allow-lists without saying so. */
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (!strcmp(base, "allow.txt") || (strlen(base) > 10 && !strcmp(base + strlen(base) - 10, ".allow.txt")))
        d.allow = 1;

    unsigned line = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        line++;
        snprintf(where, sizeof where, "%s:%u", name, line);
        size_t n = j - i;
        char buf[4096];
        if (n >= sizeof buf) {
            fe_errors_add(err, "%s: line longer than %zu bytes", where, sizeof buf - 1);
        } else if (memchr(text + i, '\0', n)) {
            fe_errors_add(err, "%s: NUL byte in line", where);
        } else {
            memcpy(buf, text + i, n);
            buf[n] = '\0';
            char *s = fe_trim(buf);
            if (line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))  /* BOM */
                s = fe_trim(s + 3);
            if (*s == '@')
                directive(&d, s, where, err);
            else if (*s && *s != '#')
                entry(wl, &d, s, line, where, err);
        }
        i = j + 1;
    }
    if (d.unlabelled == 1)
        fe_errors_add(err, "%s:%u: no label: name the file after a label (porn.txt) or add "
                      "'@label NAME' above the entry", name, d.unlabelled_line);
    else if (d.unlabelled)
        fe_errors_add(err, "%s:%u: no label for %u entries, from this line on: name the file "
                      "after a label (porn.txt) or add '@label NAME' above them", name,
                      d.unlabelled_line, d.unlabelled);
    return err->count > before ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect "*.txt" paths under root/rel, sorted, into *paths. */
static int collect(const char *root, const char *rel, int depth, char ***paths, size_t *n,
                   fe_errors *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) {
        fe_errors_add(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) && rc == 0) {
        if (de->d_name[0] == '.')
            continue;
        char r[4096], full[8192];
        snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        snprintf(full, sizeof full, "%s/%s", root, r);
        struct stat st;
        if (stat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
            rc = collect(root, r, depth + 1, paths, n, err);
            continue;
        }
        size_t l = strlen(r);
        if (!S_ISREG(st.st_mode) || l < 4 || strcmp(r + l - 4, ".txt"))
            continue;
        char **p = realloc(*paths, (*n + 1) * sizeof *p);
        if (!p || !(p[*n] = strdup(r))) {
            if (p)
                *paths = p;
            rc = -1;
            break;
        }
        *paths = p;
        (*n)++;
    }
    closedir(d);
    return rc;
}

static char *read_file(const char *path, size_t *len, fe_errors *err, const char *name)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fe_errors_add(err, "%s: %s", name, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n + 65536 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            char *b = cap <= MAX_FILE_BYTES * 2u ? realloc(buf, cap) : NULL;
            if (!b) {
                fe_errors_add(err, "%s: too large or out of memory", name);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        r = fread(buf + n, 1, 65536, f);
        n += r;
    } while (r > 0 && n <= MAX_FILE_BYTES);
    fclose(f);
    if (n > MAX_FILE_BYTES) {
        fe_errors_add(err, "%s: larger than %u bytes", name, MAX_FILE_BYTES);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int fe_wl_load_dir(fe_wordlists *wl, const char *dir, fe_errors *err)
{
    char **paths = NULL;
    size_t n = 0;
    int before = err->count;

    if (collect(dir, "", 0, &paths, &n, err) == 0) {
        if (n == 0)
            fe_errors_add(err, "%s: no word lists (*.txt) in this folder", dir);
        qsort(paths, n, sizeof *paths, cmp_str);
        for (size_t i = 0; i < n; i++) {
            char full[8192];
            size_t len;
            snprintf(full, sizeof full, "%s/%s", dir, paths[i]);
            char *text = read_file(full, &len, err, paths[i]);
            if (text)
                fe_wl_parse(wl, paths[i], text, len, err);
            free(text);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return err->count > before ? -1 : 0;
}

void fe_wl_free(fe_wordlists *wl)
{
    for (size_t i = 0; i < wl->n; i++)
        free(wl->entries[i].term);
    for (size_t i = 0; i < wl->nfiles; i++)
        free(wl->files[i]);
    free(wl->entries);
    free(wl->files);
    memset(wl, 0, sizeof *wl);
}
