/* slice.h -- the benchmark's processes ask Linux for a short time slice, as filterd's broker does.
 *
 * On this 2-core machine the load generator (its thread and libzmq's I/O
 * thread) and echod share the cores with filterd's workers; with the
 * kernel's slice (1.4 ms here) a generator woken by a reply can wait for a
 * worker's slice to end, which the open loop then counts as the service's
 * latency. A client on its own machine would not wait; filterbench and
 * echod therefore ask for EEVDF's shortest slice (threads inherit it). */
#ifndef FB_SLICE_H
#define FB_SLICE_H

/* 0, or -1 when the kernel refused (it then runs with its default). */
int fb_short_slice(void);

#endif
