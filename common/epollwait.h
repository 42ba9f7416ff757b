/* epollwait.h: epoll_wait with a wait in nanoseconds, for event loops that keep an open-loop
 * schedule: epoll_pwait2 where the kernel takes it, else epoll_wait in millisecond steps. */
#ifndef FB_EPOLLWAIT_H
#define FB_EPOLLWAIT_H

#include <stdint.h>
#include <sys/epoll.h>

/* Waits up to wait_ns (0: only what is ready now) for events on epfd; epoll_wait's result. */
int fb_epoll_wait_ns (int epfd, struct epoll_event *events, int max, int64_t wait_ns);

#endif
