/* Finishing what the kernel left to offload. Frames the local stack sends on
 * a veth come to a packet socket with the L4 checksum unfinished
 * (CHECKSUM_PARTIAL) and TCP as 64 KB super-frames (GSO), both meant for a
 * NIC that never comes: the switch must forward real frames, so the ring
 * reader completes checksums and cuts super-frames into MSS-sized segments
 * while copying them into the batch. */
#include "native.h"

#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (; n > 1; p += 2, n -= 2) {
        s += (uint32_t) p[0] << 8 | p[1];
    }
    if (n) {
        s += (uint32_t) p[0] << 8;
    }
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t) ~s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* Where L3 starts and its ethertype, past any VLAN tags. */
static size_t l3_of(const uint8_t *f, size_t len, uint16_t *type)
{
    size_t l3 = 14;
    *type = len >= 14 ? get16(f + 12) : 0;
    while ((*type == ETH_P_8021Q || *type == ETH_P_8021AD) && l3 + 4 <= len) {
        *type = get16(f + l3 + 2);
        l3 += 4;
    }
    return l3;
}

void tsw_l4_checksum(uint8_t *f, size_t len)
{
    uint16_t type, c;
    size_t l3 = l3_of(f, len, &type), l4, l4len;
    uint8_t proto;
    uint32_t s;
    int at;

    if (type == ETH_P_IP && l3 + 20 <= len) {
        size_t ihl = (size_t) (f[l3] & 15) * 4, tot = get16(f + l3 + 2);
        if (ihl < 20 || tot < ihl || l3 + tot > len || (f[l3 + 6] & 0x3f) || f[l3 + 7]) {
            return; /* malformed or a fragment: leave it alone */
        }
        proto = f[l3 + 9];
        l4 = l3 + ihl;
        l4len = tot - ihl;
        s = sum16(f + l3 + 12, 8, 0);
    } else if (type == ETH_P_IPV6 && l3 + 40 <= len) {
        l4len = get16(f + l3 + 4);
        proto = f[l3 + 6];
        l4 = l3 + 40;
        if (l4 + l4len > len) {
            return;
        }
        s = sum16(f + l3 + 8, 32, 0);
    } else {
        return;
    }
    if (proto == IPPROTO_TCP && l4len >= 20) {
        at = 16;
    } else if (proto == IPPROTO_UDP && l4len >= 8) {
        at = 6;
    } else {
        return;
    }
    f[l4 + at] = f[l4 + at + 1] = 0;
    s = sum16(f + l4, l4len, s + proto + (uint32_t) l4len);
    c = fold(s);
    put16(f + l4 + at, proto == IPPROTO_UDP && c == 0 ? 0xffff : c);
}

void tsw_csum_partial(uint8_t *f, size_t len, size_t start, size_t offset)
{
    uint16_t c;
    if (start >= len || start + offset + 2 > len) {
        return;
    }
    /* The field holds the pseudo-header sum already: summing over it finishes the job. */
    c = fold(sum16(f + start, len - start, 0));
    put16(f + start + offset, c ? c : 0xffff);
}

int tsw_gso_segment(const uint8_t *src, uint32_t snap, const uint8_t *tag, unsigned gso_size, struct tsw_batch *b,
                    uint32_t idx, uint32_t max, uint32_t headroom, size_t *pos, uint64_t *bytes, unsigned *seg,
                    int *complete)
{
    uint8_t hdr[256];
    size_t tl = tag ? 4 : 0, l3, l4, hlen, src_payload, payload;
    uint16_t type;
    unsigned nsegs, k = *seg;
    int v4, n = 0;
    uint32_t seq0;
    uint16_t id0 = 0;

    if (snap < 14 || gso_size == 0) {
        return -1;
    }
    /* Headers, with the stripped tag put back, in one small buffer. */
    hlen = snap + tl < sizeof hdr ? snap + tl : sizeof hdr;
    memcpy(hdr, src, 12);
    if (tag) {
        memcpy(hdr + 12, tag, 4);
    }
    memcpy(hdr + 12 + tl, src + 12, hlen - 12 - tl);
    l3 = l3_of(hdr, hlen, &type);
    if (type == ETH_P_IP && l3 + 20 <= hlen && hdr[l3 + 9] == IPPROTO_TCP) {
        v4 = 1;
        l4 = l3 + (size_t) (hdr[l3] & 15) * 4;
        id0 = get16(hdr + l3 + 4);
    } else if (type == ETH_P_IPV6 && l3 + 40 <= hlen && hdr[l3 + 6] == IPPROTO_TCP) {
        v4 = 0;
        l4 = l3 + 40;
    } else {
        return -1; /* UDP GSO or extension headers: not cut here */
    }
    if (l4 + 20 > hlen || l4 + (size_t) (hdr[l4 + 12] >> 4) * 4 > hlen) {
        return -1;
    }
    hlen = l4 + (size_t) (hdr[l4 + 12] >> 4) * 4;
    src_payload = hlen - tl;
    if (src_payload >= snap) {
        return -1;
    }
    payload = snap - src_payload;
    if (headroom + hlen + (payload < gso_size ? payload : gso_size) > b->buf_len) {
        return -1; /* not even one segment fits this buffer */
    }
    nsegs = (unsigned) ((payload + gso_size - 1) / gso_size);
    seq0 = (uint32_t) hdr[l4 + 4] << 24 | (uint32_t) hdr[l4 + 5] << 16 | (uint32_t) hdr[l4 + 6] << 8 | hdr[l4 + 7];
    for (; k < nsegs && (uint32_t) n < max; k++) {
        size_t at = *pos + headroom, off = (size_t) k * gso_size;
        size_t len = payload - off < gso_size ? payload - off : gso_size;
        uint32_t seq = seq0 + (uint32_t) off;
        uint8_t *d;
        if (at + hlen + len > b->buf_len) {
            break;
        }
        d = b->buf + at;
        memcpy(d, hdr, hlen);
        memcpy(d + hlen, src + src_payload + off, len);
        if (v4) {
            put16(d + l3 + 2, (uint16_t) (hlen - l3 + len));
            put16(d + l3 + 4, (uint16_t) (id0 + k));
            d[l3 + 10] = d[l3 + 11] = 0;
            put16(d + l3 + 10, fold(sum16(d + l3, l4 - l3, 0)));
        } else {
            put16(d + l3 + 4, (uint16_t) (hlen - l4 + len));
        }
        d[l4 + 4] = (uint8_t) (seq >> 24);
        d[l4 + 5] = (uint8_t) (seq >> 16);
        d[l4 + 6] = (uint8_t) (seq >> 8);
        d[l4 + 7] = (uint8_t) seq;
        if (k + 1 < nsegs) {
            d[l4 + 13] &= (uint8_t) ~0x09; /* FIN and PSH only on the last segment */
        }
        if (k > 0) {
            d[l4 + 13] &= (uint8_t) ~0x80; /* CWR only on the first */
        }
        tsw_l4_checksum(d, hlen + len);
        b->off[idx + (uint32_t) n] = (uint32_t) at;
        b->len[idx + (uint32_t) n] = (uint32_t) (hlen + len);
        *pos = at + hlen + len;
        *bytes += hlen + len;
        n++;
    }
    *complete = k >= nsegs;
    *seg = *complete ? 0 : k;
    return n;
}
