/* Blocking wait for worker threads: poll(2) over port handles plus wakers
 * (eventfds another thread signals with wake()), so a PMD worker can sleep
 * when its rings are idle and still be woken to read its messages. It
 * blocks the calling thread: never call wait() on the main thread. */
#include "native.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WAIT_MAX 256

/* wakerOpen() -> handle of an eventfd that wake() signals. */
static napi_value waker_open(napi_env env, napi_callback_info info)
{
    struct tsw_handle *h;
    int fd, id;
    (void) info;

    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        tsw_throw_errno(env, errno, "wakerOpen: eventfd");
        return NULL;
    }
    id = tsw_handle_new(env, TSW_WAKER, fd, &h);
    if (id < 0) {
        close(fd);
        return NULL;
    }
    return tsw_i32(env, id);
}

/* wake(waker): makes a wait() that includes this waker return. Callable from any thread. */
static napi_value wake(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    struct tsw_handle *h;
    uint64_t one = 1;

    if (tsw_args(env, info, 1, argv, NULL)) {
        return NULL;
    }
    h = tsw_handle_get(env, argv[0], TSW_WAKER);
    if (!h) {
        return NULL;
    }
    if (write(h->fd, &one, sizeof one) < 0 && errno != EAGAIN) {
        int err = errno;
        tsw_handle_put(h);
        tsw_throw_errno(env, err, "wake: eventfd write");
        return NULL;
    }
    tsw_handle_put(h);
    return NULL;
}

/* wait(handles: Int32Array, timeoutMs) -> how many of the handles are ready
 * (0 on timeout). Handles may be afpacket, tap, linkmon or waker handles; a
 * signalled waker counts as ready and is reset. timeoutMs < 0 waits forever. */
static napi_value wait_handles(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    napi_typedarray_type t;
    struct tsw_handle *hs[WAIT_MAX];
    struct pollfd pfd[WAIT_MAX];
    int32_t *ids, timeout;
    size_t n;
    void *p;
    bool is;
    int r, err = 0, ready = 0;

    if (tsw_args(env, info, 2, argv, NULL)) {
        return NULL;
    }
    if (napi_is_typedarray(env, argv[0], &is) != napi_ok || !is
        || napi_get_typedarray_info(env, argv[0], &t, &n, &p, NULL, NULL) != napi_ok || t != napi_int32_array) {
        tsw_throw_type(env, "handles: expected an Int32Array");
        return NULL;
    }
    if (tsw_get_i32(env, argv[1], "timeoutMs", &timeout)) {
        return NULL;
    }
    if (n > WAIT_MAX) {
        tsw_throw_errno(env, EINVAL, "wait: %zu handles, at most %d", n, WAIT_MAX);
        return NULL;
    }
    ids = p;
    for (size_t i = 0; i < n; i++) {
        hs[i] = tsw_handle_peek(ids[i]);
        if (!hs[i]) {
            for (size_t j = 0; j < i; j++) {
                tsw_handle_put(hs[j]);
            }
            tsw_throw_errno(env, EBADF, "wait: handle %d is not open", ids[i]);
            return NULL;
        }
        pfd[i].fd = hs[i]->fd;
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }
    do {
        r = poll(pfd, n, timeout);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        err = errno;
    }
    for (size_t i = 0; i < n; i++) {
        if (r > 0 && pfd[i].revents) {
            ready++;
            if (hs[i]->kind == TSW_WAKER) {
                uint64_t v;
                if (read(hs[i]->fd, &v, sizeof v) < 0) {
                    /* already reset by another waiter: nothing to do */
                }
            }
        }
        tsw_handle_put(hs[i]);
    }
    if (err) {
        tsw_throw_errno(env, err, "wait: poll");
        return NULL;
    }
    return tsw_i32(env, ready);
}

void tsw_wait_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        TSW_FN("wakerOpen", waker_open),
        TSW_FN("wake", wake),
        TSW_FN("wait", wait_handles),
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
