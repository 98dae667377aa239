/* slice.c -- a short time slice for the benchmark's own processes (slice.h). */
#define _GNU_SOURCE               /* syscall */
#include <errno.h>
#include <linux/sched/types.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "slice.h"

#define FB_SLICE_NS 100000        /* the least EEVDF takes (Linux 6.12 and later) */

int fb_short_slice(void)
{
#ifdef SYS_sched_setattr
    struct sched_attr a;          /* SCHED_NORMAL (0), its nice value kept */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);   /* kept: nice -n 19 runs stay nice */
    a.sched_nice = errno ? 0 : nice;
    a.sched_runtime = FB_SLICE_NS;
    return syscall(SYS_sched_setattr, 0, &a, 0) < 0 ? -1 : 0;
#else
    return -1;
#endif
}
