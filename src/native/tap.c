/* TAP devices (IFF_TAP | IFF_NO_PI): what `internal` ports are made of, so
 * the kernel side can carry an address (`ip addr add`) and the switch reads
 * and writes whole Ethernet frames on the fd. Non-blocking; rxBurst reads
 * until EAGAIN or max, txBurst writes one frame per call (a tun fd has no
 * batched write). */
#include "native.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The biggest frame read into a batch: 9216 bytes plus a VLAN tag. A read
 * needs that much room, since a tun fd drops what does not fit. */
#define TAP_FRAME_ROOM 9220

/* tapOpen(name, opts?) -> { handle, name, ifindex }.
 * Attaches to tap `name`, creating it when missing (it lives while the
 * handle is open unless opts.persist is true). `name` may be a pattern like
 * "tap%d"; the result says which name the kernel gave. */
static napi_value tap_open(napi_env env, napi_callback_info info)
{
    napi_value argv[2], r;
    char name[IFNAMSIZ];
    int persist = 0, fd, id, err;
    struct ifreq ifr;
    struct tsw_handle *h;

    if (tsw_args(env, info, 2, argv, NULL) || tsw_get_ifname(env, argv[0], name)
        || tsw_opt_bool(env, argv[1], "persist", &persist)) {
        return NULL;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        tsw_throw_errno(env, errno, "tapOpen(%s): opening /dev/net/tun", name);
        return NULL;
    }
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, IFNAMSIZ);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err = errno;
        close(fd);
        tsw_throw_errno(env, err, "tapOpen(%s): TUNSETIFF", name);
        return NULL;
    }
    if (persist && ioctl(fd, TUNSETPERSIST, 1) < 0) {
        err = errno;
        close(fd);
        tsw_throw_errno(env, err, "tapOpen(%s): TUNSETPERSIST", name);
        return NULL;
    }
    id = tsw_handle_new(env, TSW_TAP, fd, &h);
    if (id < 0) {
        close(fd);
        return NULL;
    }
    memcpy(h->ifname, ifr.ifr_name, IFNAMSIZ);
    h->ifname[IFNAMSIZ - 1] = 0;
    h->ifindex = (int) if_nametoindex(h->ifname);
    napi_create_object(env, &r);
    tsw_set(env, r, "handle", tsw_i32(env, id));
    tsw_set(env, r, "name", tsw_str(env, h->ifname));
    tsw_set(env, r, "ifindex", tsw_i32(env, h->ifindex));
    return r;
}

/* tapSetPersist(handle, persist): whether the device outlives the handle. */
static napi_value tap_set_persist(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    struct tsw_handle *h;
    bool persist;

    if (tsw_args(env, info, 2, argv, NULL)) {
        return NULL;
    }
    if (napi_get_value_bool(env, argv[1], &persist) != napi_ok) {
        tsw_throw_type(env, "persist: expected a boolean");
        return NULL;
    }
    h = tsw_handle_get(env, argv[0], TSW_TAP);
    if (!h) {
        return NULL;
    }
    if (ioctl(h->fd, TUNSETPERSIST, persist ? 1 : 0) < 0) {
        int err = errno;
        tsw_handle_put(h);
        tsw_throw_errno(env, err, "tapSetPersist(%s)", h->ifname);
        return NULL;
    }
    tsw_handle_put(h);
    return NULL;
}

uint32_t tsw_tap_rx(struct tsw_handle *h, struct tsw_batch *b, uint32_t start, uint32_t max, uint32_t headroom,
                    size_t pos)
{
    uint32_t n = 0;
    uint64_t bytes = 0;

    pthread_mutex_lock(&h->rx_lock);
    while (n < max) {
        size_t at = pos + headroom;
        ssize_t r;
        if (at + TAP_FRAME_ROOM > b->buf_len) {
            break;
        }
        r = read(h->fd, b->buf + at, b->buf_len - at);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                __atomic_add_fetch(&h->c.rx_dropped, 1, __ATOMIC_RELAXED);
            }
            break;
        }
        if (r == 0) {
            break;
        }
        b->off[start + n] = (uint32_t) at;
        b->len[start + n] = (uint32_t) r;
        pos = at + (size_t) r;
        bytes += (uint64_t) r;
        n++;
    }
    pthread_mutex_unlock(&h->rx_lock);
    __atomic_add_fetch(&h->c.rx_packets, n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->c.rx_bytes, bytes, __ATOMIC_RELAXED);
    return n;
}

uint32_t tsw_tap_tx(struct tsw_handle *h, const struct tsw_batch *b, const uint32_t *idx, uint32_t start,
                    uint32_t count)
{
    uint32_t sent = 0;
    uint64_t bytes = 0, dropped = 0, errors = 0;

    for (uint32_t k = 0; k < count; k++) {
        long i = tsw_tx_frame(b, idx, start + k);
        ssize_t r;
        if (i < 0) {
            errors++;
            continue;
        }
        do {
            r = write(h->fd, b->buf + b->off[i], b->len[i]);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            dropped++; /* EAGAIN (queue full), EIO (device down), EINVAL (runt) */
        } else {
            sent++;
            bytes += b->len[i];
        }
    }
    __atomic_add_fetch(&h->c.tx_packets, sent, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->c.tx_bytes, bytes, __ATOMIC_RELAXED);
    if (dropped) {
        __atomic_add_fetch(&h->c.tx_dropped, dropped, __ATOMIC_RELAXED);
    }
    if (errors) {
        __atomic_add_fetch(&h->c.tx_errors, errors, __ATOMIC_RELAXED);
    }
    return sent;
}

void tsw_tap_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        TSW_FN("tapOpen", tap_open),
        TSW_FN("tapSetPersist", tap_set_persist),
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
