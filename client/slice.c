/* slice.c -- a short time slice for a latency-sensitive process (fclient.h).
 *
 * On a machine whose cores are shared with busy processes (filterd's
 * workers, a load generator), a process woken by a message may wait for the
 * running one's slice to end (1.4 ms by default here) before it runs. Linux
 * 6.12 and later (EEVDF) read sched_setattr's sched_runtime as a normal
 * task's slice: a shorter one is preempted in sooner at wake-up. filterd's
 * broker asks for it, and so do the benchmark's load generator and echod,
 * so that their own waits are not counted as the service's latency. */
#define _GNU_SOURCE               /* syscall */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sched/types.h>
#endif

#include "fclient.h"

int fc_short_slice(unsigned us)
{
#if defined(__linux__) && defined(SYS_sched_setattr)
    struct sched_attr a;          /* SCHED_NORMAL (0), its nice value kept */
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);   /* kept: nice -n 19 runs stay nice */
    a.sched_nice = errno ? 0 : nice;
    a.sched_runtime = (uint64_t)us * 1000;
    return syscall(SYS_sched_setattr, 0, &a, 0) < 0 ? -1 : 0;
#else
    (void)us;
    errno = ENOSYS;
    return -1;
#endif
}
