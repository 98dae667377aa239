/* hugemem.c -- Hyperscan's databases in 2 MB-aligned, MADV_HUGEPAGE memory
 * (hugemem.h says why). Each block starts with a header saying how it was
 * made; the database follows it at HDR bytes (Hyperscan needs 8-byte
 * alignment and aligns its bytecode itself). */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <hs/hs.h>

#include "hugemem.h"

#define HDR 64                        /* bytes before the database */
#define MAGIC_MAP 0x66644875474d4150ull   /* "fdHuGMAP" */
#define MAGIC_HEAP 0x6664487548454150ull  /* "fdHuHEAP" */

typedef struct { uint64_t magic; size_t len; } hdr;

static void *huge_alloc(size_t size)
{
    if (size > SIZE_MAX - HDR - 2 * FE_HUGE_PAGE)
        return NULL;
    if (size < FE_HUGE_MIN) {
        hdr *h = malloc(HDR + size);
        if (!h)
            return NULL;
        *h = (hdr){MAGIC_HEAP, 0};
        return (char *)h + HDR;
    }
    /* map 2 MB more than needed, then cut the head to a 2 MB boundary and the
     * tail to a 4 KB one: the whole 2 MB stretches get huge pages, the rest
     * (under 2 MB) small ones, so no memory is spent on a last page's slack */
    size_t len = (HDR + size + 4095) & ~(size_t)4095;
    char *m = mmap(NULL, len + FE_HUGE_PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)m + FE_HUGE_PAGE - 1) & ~(uintptr_t)(FE_HUGE_PAGE - 1));
    if (a > m)
        munmap(m, (size_t)(a - m));
    if (a + len < m + len + FE_HUGE_PAGE)
        munmap(a + len, (size_t)(m + len + FE_HUGE_PAGE - (a + len)));
    madvise(a, len, MADV_HUGEPAGE);   /* advice: without THP, 4 KB pages as before */
    *(hdr *)a = (hdr){MAGIC_MAP, len};
    return a + HDR;
}

static void huge_free(void *p)
{
    if (!p)
        return;
    hdr *h = (hdr *)((char *)p - HDR);
    if (h->magic == MAGIC_MAP)
        munmap(h, h->len);
    else
        free(h);
}

int fe_hugemem_owns(const void *p)
{
    const hdr *h = (const hdr *)((const char *)p - HDR);
    return p && ((uintptr_t)h & (FE_HUGE_PAGE - 1)) == 0 && h->magic == MAGIC_MAP;
}

static void install(void)
{
    hs_set_database_allocator(huge_alloc, huge_free);
}

void fe_hugemem_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}
