/* hugemem.h -- the engine's private header: Hyperscan's databases in 2 MB pages.
 *
 * The databases of a large list are several MB each, read at random by every
 * scan; on 4 KB pages each scan walks many of them through the TLB. Installed
 * once (fe_hugemem_install, by fe_load before any database exists), Hyperscan
 * allocates every database through fe_hugemem: one of at least FE_HUGE_MIN
 * bytes gets a mapping of its own, 2 MB aligned and madvise(MADV_HUGEPAGE)
 * (so THP's "madvise" mode gives its whole 2 MB stretches huge pages, the
 * rest under 2 MB small ones; it is never written after loading, so forked
 * workers keep sharing it); a smaller one comes from malloc.
 * hs_free_database gives either back (munmap or free). */
#ifndef FE_HUGEMEM_H
#define FE_HUGEMEM_H

#include <stddef.h>

#define FE_HUGE_PAGE ((size_t)2 << 20)
#define FE_HUGE_MIN FE_HUGE_PAGE   /* smaller databases (no whole huge page): malloc */

/* Make Hyperscan allocate databases with fe_huge_alloc / fe_huge_free; once per
 * process, safe to call again. */
void fe_hugemem_install(void);
/* Whether p (a database) lies in a 2 MB-aligned mapping of fe_hugemem's. */
int fe_hugemem_owns(const void *p);

#endif
