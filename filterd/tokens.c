/* tokens.c -- who may call the HTTP front door's checks: access tokens, loopback; its socket.
 *
 * The token file (http-tokens) holds one token a line, '#' comments and
 * blank lines ignored. A token is compared with every configured one in
 * constant time: each comparison runs over FD_HTTP_TOKEN_MAX bytes of both
 * (zero-padded), and the results are OR-ed without branching, so neither
 * which token matched nor how long a prefix did shows in the time taken.
 * Without a token file, only loopback peers are answered. The console's
 * admin tokens (http-admin-tokens) are read by the same code, one
 * "TOKEN NAME" a line, the name being who acts, for the audit. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

/* A token line: "TOKEN" (named 0) or "TOKEN NAME" (named 1), p trimmed. */
static const char *token_line(fd_tokens *t, const char *p, int named)
{
    size_t n = named ? strcspn(p, " \t") : strlen(p);
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] > '~' || p[i] == '&' || p[i] == '%' || p[i] == '+')
            return "a token is printable ASCII without spaces, '&', '%' or '+'";
    if (n >= FD_HTTP_TOKEN_MAX)
        return "token too long";
    if (t->n == FD_HTTP_TOKENS)
        return "too many tokens";
    if (named) {
        const char *who = p + n + strspn(p + n, " \t");
        size_t w = strlen(who);
        if (!w)
            return "a line is TOKEN NAME: the name (who, for the audit) is missing";
        if (w >= FD_HTTP_NAME_MAX)
            return "name too long";
        for (size_t i = 0; i < w; i++)
            if ((unsigned char)who[i] < ' ' || who[i] == '"' || who[i] == '\\')
                return "a name has no control characters, quotes or backslashes";
        memcpy(t->name[t->n], who, w);
    }
    memcpy(t->tok[t->n], p, n);
    t->len[t->n++] = n;
    return NULL;
}

int fd_tokens_read(fd_tokens *t, const char *path, const char *setting, int named, char *err,
                   size_t errlen)
{
    static fd_tokens next;        /* large: not on the stack */
    char line[FD_HTTP_TOKEN_MAX + FD_HTTP_NAME_MAX + 64];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s: %s", setting, path, strerror(errno));
        return -1;
    }
    memset(&next, 0, sizeof next);
    unsigned ln = 0;
    const char *why = NULL;
    while (!why && fgets(line, sizeof line, f)) {
        ln++;
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(f))
            why = "line too long";
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                     line[n - 1] == '\t'))
            line[--n] = '\0';
        const char *p = line + strspn(line, " \t");
        if (why || !*p || p[0] == '#')
            continue;
        why = token_line(&next, p, named);
    }
    fclose(f);
    if (!why && !next.n)
        why = "no token in the file", ln = ln ? ln : 1;
    if (why) {
        snprintf(err, errlen, "%s:%u: %s", path, ln, why);
        return -1;
    }
    *t = next;
    return 0;
}

int fd_tokens_load(fd_tokens *t, const char *path, char *err, size_t errlen)
{
    return fd_tokens_read(t, path, "http-tokens", 0, err, errlen);
}

int fd_tokens_which(const fd_tokens *t, const char *tok, size_t len)
{
    unsigned char given[FD_HTTP_TOKEN_MAX] = {0};
    unsigned which = 0;
    if (len >= FD_HTTP_TOKEN_MAX)
        return -1;                /* no configured token is this long */
    memcpy(given, tok, len);
    for (int i = 0; i < t->n; i++) {
        const volatile unsigned char *a = (const unsigned char *)t->tok[i];
        unsigned diff = (unsigned)(t->len[i] ^ len) & 0xffffu;
        for (size_t k = 0; k < FD_HTTP_TOKEN_MAX; k++)
            diff |= a[k] ^ given[k];
        unsigned hit = ((diff | (0u - diff)) >> 31) ^ 1u;   /* 1 iff diff == 0, no branch */
        which |= (0u - hit) & (unsigned)(i + 1);
    }
    return (int)which - 1;
}

int fd_tokens_match(const fd_tokens *t, const char *tok, size_t len)
{
    return fd_tokens_which(t, tok, len) >= 0;
}

int fd_addr_loopback(const struct sockaddr *sa)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa && sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return !memcmp(a->s6_addr, v4mapped, 12) && a->s6_addr[12] == 127;
    }
    return 0;
}

int fd_http_listen(const char *spec, int check, char *err, size_t errlen)
{
    char host[FD_CONF_ENDPOINT_LEN];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (!colon || colon == spec || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        snprintf(err, errlen, "http-listen: expected HOST:PORT (127.0.0.1:7780, [::1]:7780, "
                 "*:7780), got '%s'", spec);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    int rc = getaddrinfo(strcmp(host, "*") ? host : NULL, colon + 1, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "http-listen: '%s': %s (a numeric address is needed)", spec,
                 gai_strerror(rc));
        return -1;
    }
    if (check) {
        freeaddrinfo(ai);
        return 0;
    }
    int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        snprintf(err, errlen, "http-listen %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int fd_http_enabled(const fd_config *cfg)
{
    return cfg->http_listen[0] && strcmp(cfg->http_listen, "off");
}

int fd_http_check(const fd_config *cfg, char *err, size_t errlen)
{
    static fd_tokens t;
    if (!fd_http_enabled(cfg))
        return 0;
    if (fd_http_listen(cfg->http_listen, 1, err, errlen) < 0)
        return -1;
    if (cfg->http_tokens[0] && fd_tokens_load(&t, cfg->http_tokens, err, errlen) < 0)
        return -1;
    return cfg->http_admin_tokens[0] ? fd_tokens_read(&t, cfg->http_admin_tokens,
                                                      "http-admin-tokens", 1, err, errlen) : 0;
}
