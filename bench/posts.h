/* posts.h -- a post corpus in memory: one post per non-empty line of a file. */
#ifndef FB_POSTS_H
#define FB_POSTS_H

#include <stddef.h>

/* Every post in one buffer; post i is text + off[i], len[i] bytes. */
typedef struct fb_posts {
    char *text;
    size_t *off, *len;
    size_t n, bytes;     /* bytes: input text, newlines excluded */
} fb_posts;

/* Read path into p. 0, or -1 with a message in err (errlen bytes).
 * Who frees: fb_posts_free(), in both cases. */
int fb_posts_load(fb_posts *p, const char *path, char *err, size_t errlen);
void fb_posts_free(fb_posts *p);

#endif
