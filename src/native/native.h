/* Shared declarations of tsw's native addon: the process-wide handle table
 * and the small N-API helpers every module uses. See README.md for the API. */
#ifndef TSW_NATIVE_H
#define TSW_NATIVE_H 1

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <net/if.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* Room for the biggest frame an AF_PACKET socket hands over whole: a 64 KiB
 * GSO super-frame with its virtio_net_hdr. */
#define TSW_BIG_FRAME (65536 + 1024)

enum tsw_kind {
    TSW_FREE = 0,
    TSW_AFPACKET,
    TSW_TAP,
    TSW_WAKER,
    TSW_LINKMON,
};

/* Counters a port handle keeps; updated with atomic adds because a worker
 * may receive while the main thread transmits on the same handle. */
struct tsw_counters {
    uint64_t rx_packets, rx_bytes, rx_dropped, rx_truncated;
    uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
    uint64_t ring_drops; /* tp_drops summed: frames the kernel could not put in the ring */
};

struct tsw_handle {
    int kind;
    int fd;
    int refs;       /* calls in progress; guarded by the table lock */
    int closing;    /* close() ran while calls were in progress */
    pthread_mutex_t rx_lock; /* one reader of a ring at a time */
    char ifname[IFNAMSIZ];
    int ifindex;
    struct tsw_counters c;
    /* AF_PACKET receive ring, TPACKET_V2 (a slot per frame) or TPACKET_V3 (blocks) */
    int tpacket_version;
    uint8_t *ring;
    size_t ring_size;
    unsigned block_size, block_count;
    unsigned cur_block;   /* V3: next block to read */
    unsigned cur_pkt;     /* V3: packets of cur_block already copied */
    uint8_t *cur_ptr;     /* V3: next packet header in cur_block, NULL if not started */
    unsigned frame_size, frame_count, cur_frame; /* V2: slots, and the next one to read */
    uint8_t *big;         /* V2: a frame too big for its slot, read whole from the socket */
    size_t big_len;       /* bytes in big not yet consumed (0: none) */
    unsigned gso_seg;     /* next segment of a super-frame cut across bursts */
    int vnet;             /* PACKET_VNET_HDR on: ring frames carry a virtio_net_hdr, sends need one */
};

/* Handle table (handles.c). */
int tsw_handle_new(napi_env env, int kind, int fd, struct tsw_handle **out);
struct tsw_handle *tsw_handle_get(napi_env env, napi_value v, int kind);
void tsw_handle_put(struct tsw_handle *h);
struct tsw_handle *tsw_handle_peek(int id); /* for wait(): acquire without JS */
napi_value tsw_close(napi_env env, napi_callback_info info);
napi_value tsw_kind_of(napi_env env, napi_callback_info info);

/* Errors (util.c): throw an Error whose code is the errno name. */
void tsw_throw_errno(napi_env env, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tsw_throw_type(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Argument helpers (util.c); each throws a TypeError and returns -1 on bad input. */
int tsw_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *argc);
int tsw_get_u32(napi_env env, napi_value v, const char *what, uint32_t *out);
int tsw_get_i32(napi_env env, napi_value v, const char *what, int32_t *out);
int tsw_get_ifname(napi_env env, napi_value v, char name[IFNAMSIZ]);
int tsw_get_bytes(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len);
int tsw_get_u32s(napi_env env, napi_value v, const char *what, uint32_t **data, size_t *len);
int tsw_is_undefined(napi_env env, napi_value v);
/* Reads an optional numeric property of an options object; leaves *out alone when absent. */
int tsw_opt_u32(napi_env env, napi_value obj, const char *key, uint32_t *out);
int tsw_opt_bool(napi_env env, napi_value obj, const char *key, int *out);
napi_value tsw_u32(napi_env env, uint32_t v);
napi_value tsw_i32(napi_env env, int32_t v);
napi_value tsw_f64(napi_env env, double v);
napi_value tsw_str(napi_env env, const char *s);
napi_value tsw_bool(napi_env env, int v);
void tsw_set(napi_env env, napi_value obj, const char *key, napi_value v);
void tsw_format_mac(const uint8_t *mac, char out[18]);
napi_value tsw_counters_object(napi_env env, const struct tsw_counters *c);

/* The batch a burst works on: frames in buf at off[i] for len[i] bytes. */
struct tsw_batch {
    uint8_t *buf;
    size_t buf_len;
    uint32_t *off, *len;
    size_t cap; /* entries in off and len */
};
int tsw_get_batch(napi_env env, napi_value *argv, struct tsw_batch *b);
/* Offset right after frame i-1 (0 for i == 0). */
size_t tsw_batch_end(const struct tsw_batch *b, uint32_t i);

/* Frame list of a txBurst call (afpacket.c): argv = start, count, indices?. */
int tsw_tx_list(napi_env env, napi_value *argv, const struct tsw_batch *b, uint32_t **idx, uint32_t *start,
                uint32_t *count);
long tsw_tx_frame(const struct tsw_batch *b, const uint32_t *idx, uint32_t k);

/* Tap bursts (tap.c), called by rxBurst/txBurst for tap handles. */
uint32_t tsw_tap_rx(struct tsw_handle *h, struct tsw_batch *b, uint32_t start, uint32_t max, uint32_t headroom,
                    size_t pos);
uint32_t tsw_tap_tx(struct tsw_handle *h, const struct tsw_batch *b, const uint32_t *idx, uint32_t start,
                    uint32_t count);

/* Offload completion (offload.c). */
void tsw_l4_checksum(uint8_t *f, size_t len);
void tsw_csum_partial(uint8_t *f, size_t len, size_t start, size_t offset);
/* Cuts TCP super-frame src (snap bytes as in the ring; tag, if not NULL, is
 * the 4-byte VLAN header to put back at offset 12) into gso_size segments,
 * written as batch entries idx.. (at most max) from *pos on. *seg is the
 * first segment to write; on return the next one (0 once *complete).
 * Returns segments written, -1 when the frame cannot be cut. */
int tsw_gso_segment(const uint8_t *src, uint32_t snap, const uint8_t *tag, unsigned gso_size, struct tsw_batch *b,
                    uint32_t idx, uint32_t max, uint32_t headroom, size_t *pos, uint64_t *bytes, unsigned *seg,
                    int *complete);

/* Module registration: each adds its functions to exports. */
void tsw_afpacket_init(napi_env env, napi_value exports);
void tsw_tap_init(napi_env env, napi_value exports);
void tsw_link_init(napi_env env, napi_value exports);
void tsw_wait_init(napi_env env, napi_value exports);

#define TSW_FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

#endif
