/* AF_PACKET ports: a PACKET_MMAP receive ring read by rxBurst with one copy
 * per frame and no syscall per frame, and sendmmsg transmit (one syscall per
 * batch, bypassing the qdisc). The ring is TPACKET_V2 by default: each frame
 * is handed over as it arrives. TPACKET_V3 packs frames into blocks that are
 * handed over full or after a timeout of at least 1 ms, which costs latency
 * at low rates for fewer wakeups at high ones. VLAN tags the kernel took out of the frame
 * (skb vlan acceleration) come back from the ring header and are put back at
 * copy time, so the datapath sees the frame as it was on the wire. */
#include "native.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define TX_CHUNK 256

static int setopt(int fd, int opt, const void *v, socklen_t n)
{
    return setsockopt(fd, SOL_PACKET, opt, v, n);
}

/* packetOpen(ifname, opts?) -> handle.
 * opts: tpacketVersion (2 or 3, default 2), blockSize (bytes, power of two
 * >= page, default 262144), blockCount (default 16), frameSize (V2 slot
 * bytes, power of two 2048..blockSize, default 2048), retireMs (V3 block
 * retire timeout, default 1), fanoutGroup and
 * fanoutMode (PACKET_FANOUT_* number; group 0 means no fanout), promisc,
 * qdiscBypass, ignoreOutgoing (booleans, default true). */
static napi_value packet_open(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    char name[IFNAMSIZ];
    uint32_t block_size = 1u << 18, block_count = 16, retire_ms = 1, fanout_group = 0, fanout_mode = 0;
    uint32_t tp_version = 2, frame_size = 2048;
    int promisc = 1, bypass = 1, ignore_out = 1, one = 1, version, fd, id, err, vnet, rcvbuf = 8 << 20;
    unsigned ifindex;
    struct tpacket_req3 req;
    struct sockaddr_ll sll;
    struct tsw_handle *h;
    void *ring;

    if (tsw_args(env, info, 2, argv, NULL) || tsw_get_ifname(env, argv[0], name)
        || tsw_opt_u32(env, argv[1], "blockSize", &block_size) || tsw_opt_u32(env, argv[1], "blockCount", &block_count)
        || tsw_opt_u32(env, argv[1], "retireMs", &retire_ms) || tsw_opt_u32(env, argv[1], "fanoutGroup", &fanout_group)
        || tsw_opt_u32(env, argv[1], "fanoutMode", &fanout_mode) || tsw_opt_bool(env, argv[1], "promisc", &promisc)
        || tsw_opt_bool(env, argv[1], "qdiscBypass", &bypass)
        || tsw_opt_bool(env, argv[1], "ignoreOutgoing", &ignore_out)
        || tsw_opt_u32(env, argv[1], "tpacketVersion", &tp_version)
        || tsw_opt_u32(env, argv[1], "frameSize", &frame_size)) {
        return NULL;
    }
    if (tp_version != 2 && tp_version != 3) {
        tsw_throw_errno(env, EINVAL, "packetOpen(%s): tpacketVersion must be 2 or 3, not %u", name, tp_version);
        return NULL;
    }
    if (frame_size < 2048 || (frame_size & (frame_size - 1)) || frame_size > block_size) {
        tsw_throw_errno(env, EINVAL, "packetOpen(%s): frameSize must be a power of two from 2048 to blockSize", name);
        return NULL;
    }
    version = tp_version == 2 ? TPACKET_V2 : TPACKET_V3;
    if (block_size < 4096 || (block_size & (block_size - 1)) || block_count < 2 || block_count > 4096) {
        tsw_throw_errno(env, EINVAL, "packetOpen(%s): blockSize must be a power of two >= 4096, blockCount 2..4096",
                        name);
        return NULL;
    }
    ifindex = if_nametoindex(name);
    if (!ifindex) {
        tsw_throw_errno(env, errno, "packetOpen(%s): looking up the interface", name);
        return NULL;
    }
    /* Protocol 0: nothing arrives before the ring exists and bind() picks ETH_P_ALL. */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        tsw_throw_errno(env, errno, "packetOpen(%s): socket(AF_PACKET)", name);
        return NULL;
    }
    if (setopt(fd, PACKET_VERSION, &version, sizeof version)) {
        err = errno;
        close(fd);
        tsw_throw_errno(env, err, "packetOpen(%s): PACKET_VERSION TPACKET_V%u", name, tp_version);
        return NULL;
    }
    setopt(fd, PACKET_AUXDATA, &one, sizeof one);
    /* Offload facts (partial checksum, GSO size) in front of every ring frame;
     * without them a kernel's unfinished frames could not be completed. */
    vnet = setopt(fd, PACKET_VNET_HDR, &one, sizeof one) == 0;
    if (ignore_out && setopt(fd, PACKET_IGNORE_OUTGOING, &one, sizeof one)) {
        err = errno;
        close(fd);
        tsw_throw_errno(env, err, "packetOpen(%s): PACKET_IGNORE_OUTGOING", name);
        return NULL;
    }
    if (bypass) {
        setopt(fd, PACKET_QDISC_BYPASS, &one, sizeof one);
    }
    if (version == TPACKET_V2) {
        /* Frames too big for a slot come whole through the socket queue; give it room for a burst of them. */
        setopt(fd, PACKET_COPY_THRESH, &one, sizeof one);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf)) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        }
    }
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_count;
    req.tp_frame_size = version == TPACKET_V2 ? frame_size : 2048;
    req.tp_frame_nr = block_size / req.tp_frame_size * block_count;
    req.tp_retire_blk_tov = retire_ms;
    /* A tpacket_req3 starts with the tpacket_req that V2 takes. */
    if (setopt(fd, PACKET_RX_RING, &req, version == TPACKET_V2 ? sizeof(struct tpacket_req) : sizeof req)) {
        err = errno;
        close(fd);
        tsw_throw_errno(env, err, "packetOpen(%s): PACKET_RX_RING %u x %u bytes", name, block_count, block_size);
        return NULL;
    }
    ring = mmap(NULL, (size_t) block_size * block_count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
    if (ring == MAP_FAILED) {
        ring = mmap(NULL, (size_t) block_size * block_count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (ring == MAP_FAILED) {
        err = errno;
        close(fd);
        tsw_throw_errno(env, err, "packetOpen(%s): mmap of the receive ring", name);
        return NULL;
    }
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int) ifindex;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        err = errno;
        munmap(ring, (size_t) block_size * block_count);
        close(fd);
        tsw_throw_errno(env, err, "packetOpen(%s): bind", name);
        return NULL;
    }
    if (promisc) {
        struct packet_mreq mr;
        memset(&mr, 0, sizeof mr);
        mr.mr_ifindex = (int) ifindex;
        mr.mr_type = PACKET_MR_PROMISC;
        if (setopt(fd, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)) {
            err = errno;
            munmap(ring, (size_t) block_size * block_count);
            close(fd);
            tsw_throw_errno(env, err, "packetOpen(%s): PACKET_MR_PROMISC", name);
            return NULL;
        }
    }
    if (fanout_group) {
        uint32_t arg = (fanout_group & 0xffff) | (fanout_mode << 16);
        if (setopt(fd, PACKET_FANOUT, &arg, sizeof arg)) {
            err = errno;
            munmap(ring, (size_t) block_size * block_count);
            close(fd);
            tsw_throw_errno(env, err, "packetOpen(%s): PACKET_FANOUT group %u mode %u", name, fanout_group,
                            fanout_mode);
            return NULL;
        }
    }
    id = tsw_handle_new(env, TSW_AFPACKET, fd, &h);
    if (id < 0) {
        munmap(ring, (size_t) block_size * block_count);
        close(fd);
        return NULL;
    }
    h->ring = ring;
    h->ring_size = (size_t) block_size * block_count;
    h->block_size = block_size;
    h->block_count = block_count;
    h->tpacket_version = version;
    h->frame_size = req.tp_frame_size;
    h->frame_count = req.tp_frame_nr;
    h->ifindex = (int) ifindex;
    h->vnet = vnet;
    memcpy(h->ifname, name, IFNAMSIZ);
    return tsw_i32(env, id);
}

static inline struct tpacket_block_desc *block_at(struct tsw_handle *h, unsigned i)
{
    return (struct tpacket_block_desc *) (h->ring + (size_t) i * h->block_size);
}

/* One received frame, whichever ring it came from. */
struct rx_frame {
    const uint8_t *data;                 /* from the MAC header on, VLAN tag possibly taken out */
    uint32_t snap, len;                  /* bytes here, bytes the frame had */
    uint32_t status;                     /* TP_STATUS_* */
    uint16_t tci, tpid;                  /* the tag the kernel took out, when TP_STATUS_VLAN_VALID */
    const struct virtio_net_hdr *vh;     /* offload facts, with PACKET_VNET_HDR */
};

/* What a burst has done so far. */
struct rx_tally {
    uint32_t n;
    size_t pos;
    uint64_t bytes, truncated, dropped;
};

/* Copies frame f into the batch as entries start+t->n.. (segments of a
 * super-frame are several). Returns 0 when the frame is done with (copied or
 * dropped), 1 when the batch is full and the frame must wait for the next
 * burst (h->gso_seg says where a cut super-frame resumes). */
static int rx_one(struct tsw_handle *h, struct tsw_batch *b, uint32_t start, uint32_t max, uint32_t headroom,
                  struct rx_tally *t, const struct rx_frame *f)
{
    uint32_t snap = f->snap, vlan = (f->status & TP_STATUS_VLAN_VALID) ? 4 : 0, flen = snap + vlan;
    size_t at = t->pos + headroom;
    uint8_t tag[4];

    if (vlan) {
        uint16_t tpid = (f->status & TP_STATUS_VLAN_TPID_VALID) ? f->tpid : ETH_P_8021Q;
        tag[0] = (uint8_t) (tpid >> 8);
        tag[1] = (uint8_t) tpid;
        tag[2] = (uint8_t) (f->tci >> 8);
        tag[3] = (uint8_t) f->tci;
    }
    if (snap < f->len) {
        t->truncated++; /* larger than the ring keeps: never forward a part */
    } else if (f->vh && f->vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        int complete, k = tsw_gso_segment(f->data, snap, vlan ? tag : NULL, f->vh->gso_size, b, start + t->n,
                                          max - t->n, headroom, &t->pos, &t->bytes, &h->gso_seg, &complete);
        if (k < 0) {
            t->dropped++;
        } else {
            t->n += (uint32_t) k;
            if (!complete) {
                return 1; /* the batch is full mid-frame: the rest comes next burst */
            }
        }
    } else if (headroom + (size_t) flen > b->buf_len) {
        t->dropped++;   /* could never fit this batch buffer */
    } else if (at + flen > b->buf_len) {
        return 1;       /* the batch is full: keep it for the next burst */
    } else {
        uint8_t *dst = b->buf + at;
        if (vlan && snap >= 12) {
            memcpy(dst, f->data, 12);
            memcpy(dst + 12, tag, 4);
            memcpy(dst + 16, f->data + 12, snap - 12);
        } else {
            flen = snap;
            memcpy(dst, f->data, snap);
        }
        if (f->vh && (f->vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
            size_t cs = f->vh->csum_start;
            tsw_csum_partial(dst, flen, cs >= 12 && flen > snap ? cs + 4 : cs, f->vh->csum_offset);
        } else if (!f->vh && (f->status & TP_STATUS_CSUMNOTREADY) && flen >= 14) {
            tsw_l4_checksum(dst, flen);
        }
        b->off[start + t->n] = (uint32_t) at;
        b->len[start + t->n] = flen;
        t->pos = at + flen;
        t->bytes += flen;
        t->n++;
    }
    return 0;
}

/* The offload header in front of a ring frame at `mac`, if the socket asked for one. */
static inline const struct virtio_net_hdr *vnet_before(const struct tsw_handle *h, const uint8_t *mac,
                                                       unsigned tp_mac)
{
    return h->vnet && tp_mac >= sizeof(struct virtio_net_hdr)
        ? (const struct virtio_net_hdr *) (mac - sizeof(struct virtio_net_hdr)) : NULL;
}

/* TPACKET_V3: walks the blocks the kernel has retired. */
static void ring_rx_v3(struct tsw_handle *h, struct tsw_batch *b, uint32_t start, uint32_t max, uint32_t headroom,
                       struct rx_tally *t)
{
    while (t->n < max) {
        struct tpacket_block_desc *bd = block_at(h, h->cur_block);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
            return;
        }
        if (!h->cur_ptr) {
            h->cur_ptr = (uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt;
            h->cur_pkt = 0;
        }
        while (h->cur_pkt < bd->hdr.bh1.num_pkts && t->n < max) {
            struct tpacket3_hdr *ph = (struct tpacket3_hdr *) h->cur_ptr;
            struct rx_frame f = {
                .data = h->cur_ptr + ph->tp_mac, .snap = ph->tp_snaplen, .len = ph->tp_len,
                .status = ph->tp_status, .tci = (uint16_t) ph->hv1.tp_vlan_tci, .tpid = ph->hv1.tp_vlan_tpid,
            };
            f.vh = vnet_before(h, f.data, ph->tp_mac);
            if (rx_one(h, b, start, max, headroom, t, &f)) {
                return;
            }
            h->cur_ptr += ph->tp_next_offset;
            h->cur_pkt++;
        }
        if (h->cur_pkt >= bd->hdr.bh1.num_pkts) {
            /* Whole block consumed: hand it back to the kernel. */
            h->cur_ptr = NULL;
            h->cur_pkt = 0;
            __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
            h->cur_block = (h->cur_block + 1) % h->block_count;
        }
    }
}

/* Reads the whole frame behind a TP_STATUS_COPY slot from the socket queue
 * into h->big (once: a super-frame cut across bursts stays there). Returns
 * the bytes read, offload header included, or 0 when it could not be had. */
static size_t take_copy(struct tsw_handle *h)
{
    ssize_t r;
    if (h->big_len) {
        return h->big_len;
    }
    if (!h->big) {
        h->big = malloc(TSW_BIG_FRAME);
        if (!h->big) {
            return 0;
        }
    }
    do {
        r = recv(h->fd, h->big, TSW_BIG_FRAME, MSG_DONTWAIT | MSG_TRUNC);
    } while (r < 0 && errno == EINTR);
    if (r <= 0 || r > TSW_BIG_FRAME || (h->vnet && (size_t) r < sizeof(struct virtio_net_hdr))) {
        return 0;
    }
    h->big_len = (size_t) r;
    return h->big_len;
}

/* TPACKET_V2: one slot per frame, handed over as soon as it is written, so
 * a lone packet is not held back for a block timeout. A frame too big for
 * its slot (a GSO super-frame, a jumbo frame) is also queued whole on the
 * socket (PACKET_COPY_THRESH) and the slot says TP_STATUS_COPY. */
static void ring_rx_v2(struct tsw_handle *h, struct tsw_batch *b, uint32_t start, uint32_t max, uint32_t headroom,
                       struct rx_tally *t)
{
    while (t->n < max) {
        struct tpacket2_hdr *ph = (struct tpacket2_hdr *) (h->ring + (size_t) h->cur_frame * h->frame_size);
        uint32_t status = __atomic_load_n(&ph->tp_status, __ATOMIC_ACQUIRE);
        struct rx_frame f;
        if (!(status & TP_STATUS_USER)) {
            return;
        }
        f.data = (uint8_t *) ph + ph->tp_mac;
        f.snap = ph->tp_snaplen;
        f.len = ph->tp_len;
        f.status = status;
        f.tci = ph->tp_vlan_tci;
        f.tpid = ph->tp_vlan_tpid;
        f.vh = vnet_before(h, f.data, ph->tp_mac);
        if (status & TP_STATUS_COPY) {
            size_t got = take_copy(h), vn = h->vnet ? sizeof(struct virtio_net_hdr) : 0;
            if (got) {
                f.vh = h->vnet ? (const struct virtio_net_hdr *) h->big : NULL;
                f.data = h->big + vn;
                f.snap = (uint32_t) (got - vn);
            }
        }
        if (rx_one(h, b, start, max, headroom, t, &f)) {
            return;
        }
        h->big_len = 0;
        __atomic_store_n(&ph->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        h->cur_frame = (h->cur_frame + 1) % h->frame_count;
    }
}

/* Copies up to max frames from the ring into the batch (see rxBurst). */
static uint32_t ring_rx(struct tsw_handle *h, struct tsw_batch *b, uint32_t start, uint32_t max, uint32_t headroom,
                        size_t pos)
{
    struct rx_tally t = { .pos = pos };

    pthread_mutex_lock(&h->rx_lock);
    if (h->tpacket_version == TPACKET_V2) {
        ring_rx_v2(h, b, start, max, headroom, &t);
    } else {
        ring_rx_v3(h, b, start, max, headroom, &t);
    }
    pthread_mutex_unlock(&h->rx_lock);
    __atomic_add_fetch(&h->c.rx_packets, t.n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->c.rx_bytes, t.bytes, __ATOMIC_RELAXED);
    if (t.truncated) {
        __atomic_add_fetch(&h->c.rx_truncated, t.truncated, __ATOMIC_RELAXED);
    }
    if (t.dropped) {
        __atomic_add_fetch(&h->c.rx_dropped, t.dropped, __ATOMIC_RELAXED);
    }
    return t.n;
}

/* rxBurst(handle, buf, off, len, startIndex, max, headroom) -> frames copied.
 * Works on afpacket and tap handles. Frames go to entries startIndex.. of
 * off/len, each placed `headroom` bytes after the end of the previous one.
 * A frame that does not fit the rest of buf stays for the next call. */
static napi_value rx_burst(napi_env env, napi_callback_info info)
{
    napi_value argv[7];
    struct tsw_batch b;
    uint32_t start, max, headroom, n;
    struct tsw_handle *h;
    size_t pos;

    if (tsw_args(env, info, 7, argv, NULL) || tsw_get_batch(env, argv + 1, &b)
        || tsw_get_u32(env, argv[4], "startIndex", &start) || tsw_get_u32(env, argv[5], "max", &max)
        || tsw_get_u32(env, argv[6], "headroom", &headroom)) {
        return NULL;
    }
    if (start > b.cap) {
        tsw_throw_errno(env, EINVAL, "rxBurst: startIndex %u beyond the batch's %zu entries", start, b.cap);
        return NULL;
    }
    if (max > b.cap - start) {
        max = (uint32_t) (b.cap - start);
    }
    pos = tsw_batch_end(&b, start);
    if (pos > b.buf_len) {
        tsw_throw_errno(env, EINVAL, "rxBurst: frame %u ends beyond the buffer", start ? start - 1 : 0);
        return NULL;
    }
    h = tsw_handle_get(env, argv[0], TSW_FREE);
    if (!h) {
        return NULL;
    }
    if (h->kind == TSW_AFPACKET) {
        n = ring_rx(h, &b, start, max, headroom, pos);
    } else if (h->kind == TSW_TAP) {
        n = tsw_tap_rx(h, &b, start, max, headroom, pos);
    } else {
        tsw_handle_put(h);
        tsw_throw_errno(env, EBADF, "rxBurst: not a port handle");
        return NULL;
    }
    tsw_handle_put(h);
    return tsw_u32(env, n);
}

/* Reads the frame list of a txBurst call: (start, count) over the batch, or
 * over `indices` when given. Returns -1 after throwing. */
int tsw_tx_list(napi_env env, napi_value *argv, const struct tsw_batch *b, uint32_t **idx, uint32_t *start,
                uint32_t *count)
{
    size_t n_idx = 0;
    if (tsw_get_u32(env, argv[0], "start", start) || tsw_get_u32(env, argv[1], "count", count)) {
        return -1;
    }
    *idx = NULL;
    if (!tsw_is_undefined(env, argv[2])) {
        if (tsw_get_u32s(env, argv[2], "indices", idx, &n_idx)) {
            return -1;
        }
        if ((size_t) *start + *count > n_idx) {
            tsw_throw_errno(env, EINVAL, "txBurst: indices %u..%u beyond the %zu given", *start, *start + *count,
                            n_idx);
            return -1;
        }
    } else if ((size_t) *start + *count > b->cap) {
        tsw_throw_errno(env, EINVAL, "txBurst: frames %u..%u beyond the batch's %zu entries", *start,
                        *start + *count, b->cap);
        return -1;
    }
    return 0;
}

/* Checks frame k of the batch lies inside buf; returns its index or -1. */
long tsw_tx_frame(const struct tsw_batch *b, const uint32_t *idx, uint32_t k)
{
    uint32_t i = idx ? idx[k] : k;
    if (i >= b->cap || (size_t) b->off[i] + b->len[i] > b->buf_len) {
        return -1;
    }
    return i;
}

/* Sends frames of the batch with sendmmsg, up to 256 a call (see txBurst). */
static uint32_t ring_tx(struct tsw_handle *h, const struct tsw_batch *b, const uint32_t *idx, uint32_t start,
                        uint32_t count)
{
    uint32_t sent = 0, k = 0;
    uint64_t bytes = 0, dropped = 0, errors = 0;
    static const struct virtio_net_hdr no_offload; /* all zero: a plain frame */
    struct mmsghdr msgs[TX_CHUNK];
    struct iovec iov[2 * TX_CHUNK];
    int v = h->vnet ? 1 : 0;

    while (k < count) {
        unsigned m = 0, done = 0;
        while (m < TX_CHUNK && k < count) {
            long i = tsw_tx_frame(b, idx, start + k++);
            if (i < 0) {
                errors++;
                continue;
            }
            /* With PACKET_VNET_HDR every send starts with a virtio_net_hdr. */
            iov[2 * m].iov_base = (void *) &no_offload;
            iov[2 * m].iov_len = sizeof no_offload;
            iov[2 * m + 1].iov_base = b->buf + b->off[i];
            iov[2 * m + 1].iov_len = b->len[i];
            memset(&msgs[m].msg_hdr, 0, sizeof msgs[m].msg_hdr);
            msgs[m].msg_hdr.msg_iov = &iov[2 * m + 1 - v];
            msgs[m].msg_hdr.msg_iovlen = 1 + (size_t) v;
            m++;
        }
        while (done < m) {
            int r = sendmmsg(h->fd, msgs + done, m - done, MSG_DONTWAIT);
            if (r > 0) {
                for (int j = 0; j < r; j++) {
                    bytes += iov[2 * (done + j) + 1].iov_len;
                }
                done += (unsigned) r;
                sent += (unsigned) r;
            } else if (r < 0 && errno == EINTR) {
                continue;
            } else if (r < 0 && (errno == EMSGSIZE || errno == EINVAL)) {
                dropped++; /* this frame alone is unsendable */
                done++;
            } else {
                dropped += m - done; /* queue full or device gone: drop the rest of the chunk */
                done = m;
            }
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

/* txBurst(handle, buf, off, len, start, count, indices?) -> frames sent.
 * Sends frames start..start+count-1 of the batch, or the frames whose indices
 * are indices[start..start+count-1]. afpacket: one sendmmsg per 256 frames;
 * tap: one write per frame. A frame the device refuses (too big, device
 * down, queue full) is counted in tx_dropped and skipped; one whose off/len
 * lies outside buf in tx_errors. */
static napi_value tx_burst(napi_env env, napi_callback_info info)
{
    napi_value argv[7];
    struct tsw_batch b;
    uint32_t *idx, start, count, sent;
    struct tsw_handle *h;

    if (tsw_args(env, info, 7, argv, NULL) || tsw_get_batch(env, argv + 1, &b)
        || tsw_tx_list(env, argv + 4, &b, &idx, &start, &count)) {
        return NULL;
    }
    h = tsw_handle_get(env, argv[0], TSW_FREE);
    if (!h) {
        return NULL;
    }
    if (h->kind == TSW_AFPACKET) {
        sent = ring_tx(h, &b, idx, start, count);
    } else if (h->kind == TSW_TAP) {
        sent = tsw_tap_tx(h, &b, idx, start, count);
    } else {
        tsw_handle_put(h);
        tsw_throw_errno(env, EBADF, "txBurst: not a port handle");
        return NULL;
    }
    tsw_handle_put(h);
    return tsw_u32(env, sent);
}

/* portStats(handle) -> counters kept by the handle (afpacket or tap); for an
 * afpacket socket ring_drops includes the kernel's tp_drops so far. */
static napi_value port_stats(napi_env env, napi_callback_info info)
{
    napi_value argv[1], r;
    struct tsw_handle *h;

    if (tsw_args(env, info, 1, argv, NULL)) {
        return NULL;
    }
    h = tsw_handle_get(env, argv[0], TSW_FREE);
    if (!h) {
        return NULL;
    }
    if (h->kind == TSW_AFPACKET) {
        struct tpacket_stats_v3 st;
        socklen_t n = sizeof st;
        /* The kernel resets these on every read, so they are summed here. */
        if (getsockopt(h->fd, SOL_PACKET, PACKET_STATISTICS, &st, &n) == 0) {
            __atomic_add_fetch(&h->c.ring_drops, st.tp_drops, __ATOMIC_RELAXED);
        }
    } else if (h->kind != TSW_TAP) {
        tsw_handle_put(h);
        tsw_throw_errno(env, EBADF, "portStats: not a port handle");
        return NULL;
    }
    r = tsw_counters_object(env, &h->c);
    tsw_handle_put(h);
    return r;
}

void tsw_afpacket_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        TSW_FN("packetOpen", packet_open),
        TSW_FN("rxBurst", rx_burst),
        TSW_FN("txBurst", tx_burst),
        TSW_FN("portStats", port_stats),
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
