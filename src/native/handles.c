/* The process-wide handle table. Handles are small integers so a handle
 * opened on the main thread can be passed to a worker_thread (the addon is
 * loaded once per process; every thread sees the same table). A call holds a
 * reference while it runs, so close() from another thread never unmaps a ring
 * under a burst in progress: the last reference frees it. */
#include "native.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_HANDLES 4096

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tsw_handle *table[MAX_HANDLES];
static int next_slot = 1; /* 0 is never a handle, so a zeroed Int32Array is no accident */

static void destroy(struct tsw_handle *h)
{
    if (h->ring) {
        munmap(h->ring, h->ring_size);
    }
    if (h->fd >= 0) {
        close(h->fd);
    }
    pthread_mutex_destroy(&h->rx_lock);
    free(h->big);
    free(h);
}

int tsw_handle_new(napi_env env, int kind, int fd, struct tsw_handle **out)
{
    struct tsw_handle *h = calloc(1, sizeof *h);
    int id = -1;

    if (!h) {
        tsw_throw_errno(env, ENOMEM, "allocating a handle");
        return -1;
    }
    h->kind = kind;
    h->fd = fd;
    h->ifindex = -1;
    pthread_mutex_init(&h->rx_lock, NULL);
    pthread_mutex_lock(&table_lock);
    /* Round-robin so a closed id is not handed out again at once. */
    for (int i = 0; i < MAX_HANDLES - 1; i++) {
        int slot = next_slot;
        next_slot = next_slot + 1 >= MAX_HANDLES ? 1 : next_slot + 1;
        if (!table[slot]) {
            table[slot] = h;
            id = slot;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    if (id < 0) {
        h->fd = -1;
        destroy(h);
        tsw_throw_errno(env, EMFILE, "allocating a handle (all %d in use)", MAX_HANDLES - 1);
        return -1;
    }
    *out = h;
    return id;
}

static struct tsw_handle *acquire(int id, int kind)
{
    struct tsw_handle *h = NULL;
    if (id <= 0 || id >= MAX_HANDLES) {
        return NULL;
    }
    pthread_mutex_lock(&table_lock);
    if (table[id] && (kind == TSW_FREE || table[id]->kind == kind)) {
        h = table[id];
        h->refs++;
    }
    pthread_mutex_unlock(&table_lock);
    return h;
}

struct tsw_handle *tsw_handle_peek(int id)
{
    return acquire(id, TSW_FREE);
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case TSW_AFPACKET: return "afpacket";
    case TSW_TAP: return "tap";
    case TSW_WAKER: return "waker";
    case TSW_LINKMON: return "linkmon";
    default: return "any";
    }
}

struct tsw_handle *tsw_handle_get(napi_env env, napi_value v, int kind)
{
    int32_t id;
    struct tsw_handle *h;
    if (tsw_get_i32(env, v, "handle", &id)) {
        return NULL;
    }
    h = acquire(id, kind);
    if (!h) {
        tsw_throw_errno(env, EBADF, "handle %d is not an open %s handle", id, kind_name(kind));
    }
    return h;
}

void tsw_handle_put(struct tsw_handle *h)
{
    int last;
    pthread_mutex_lock(&table_lock);
    last = --h->refs == 0 && h->closing;
    pthread_mutex_unlock(&table_lock);
    if (last) {
        destroy(h);
    }
}

/* close(handle): releases the socket/fd and its ring. Closing twice throws EBADF. */
napi_value tsw_close(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    struct tsw_handle *h = NULL;
    int32_t id;
    int now = 0;

    if (tsw_args(env, info, 1, argv, NULL) || tsw_get_i32(env, argv[0], "handle", &id)) {
        return NULL;
    }
    pthread_mutex_lock(&table_lock);
    if (id > 0 && id < MAX_HANDLES && table[id]) {
        h = table[id];
        table[id] = NULL;
        h->closing = 1;
        now = h->refs == 0;
    }
    pthread_mutex_unlock(&table_lock);
    if (!h) {
        tsw_throw_errno(env, EBADF, "closing handle %d", id);
        return NULL;
    }
    if (now) {
        destroy(h);
    }
    return NULL;
}

/* kindOf(handle): "afpacket" | "tap" | "waker" | "linkmon", or null when not open. */
napi_value tsw_kind_of(napi_env env, napi_callback_info info)
{
    napi_value argv[1], r;
    struct tsw_handle *h;
    int32_t id;

    if (tsw_args(env, info, 1, argv, NULL) || tsw_get_i32(env, argv[0], "handle", &id)) {
        return NULL;
    }
    h = acquire(id, TSW_FREE);
    if (!h) {
        napi_get_null(env, &r);
        return r;
    }
    r = tsw_str(env, kind_name(h->kind));
    tsw_handle_put(h);
    return r;
}
