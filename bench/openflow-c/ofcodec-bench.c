/* OVS's own OpenFlow codec (libopenvswitch, built from Debian's
 * openvswitch-source by build.sh) on the bytes bench/openflow.ts measures
 * tsw with: decode is ofptype_decode + ofputil_decode_{flow_mod,packet_in}
 * (match and actions pulled into OVS's internal form, as ofproto does on
 * receipt), encode is ofputil_encode_{flow_mod,packet_in_private} of the
 * decoded form.
 *
 *   ofcodec-bench FILE KIND ITERATIONS REPEAT
 *
 * FILE holds one message; KIND is flow_mod or packet_in. Prints one JSON
 * line: messages/second of every timed run for decode and encode, and
 * whether encode(decode(FILE)) gave back FILE (xid aside: OVS allocates one). */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openvswitch/match.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fail(const char *what, enum ofperr error)
{
    fprintf(stderr, "ofcodec-bench: %s: %s\n", what, ofperr_to_string(error));
    exit(1);
}

/* Sinks the loops feed so the compiler cannot drop the work. */
static volatile unsigned long sink;

static enum ofputil_protocol
protocol_of(const struct ofp_header *oh)
{
    /* OF1.0 flow_mods are NXT_FLOW_MOD here, so the NXM flavour of 1.0. */
    return oh->version == OFP10_VERSION
        ? OFPUTIL_P_OF10_NXM
        : ofputil_protocol_from_ofp_version(oh->version);
}

static void
decode_flow_mod(const struct ofp_header *oh, struct ofputil_flow_mod *fm,
                struct ofpbuf *ofpacts)
{
    enum ofptype type;
    enum ofperr error = ofptype_decode(&type, oh);
    if (error || type != OFPTYPE_FLOW_MOD) {
        fail("not a flow_mod", error);
    }
    ofpbuf_clear(ofpacts);
    error = ofputil_decode_flow_mod(fm, oh, protocol_of(oh), NULL, NULL,
                                    ofpacts, OFPP_MAX, 255);
    if (error) {
        fail("flow_mod", error);
    }
}

static void
decode_packet_in(const struct ofp_header *oh, struct ofputil_packet_in *pin)
{
    enum ofptype type;
    size_t total_len;
    uint32_t buffer_id;
    enum ofperr error = ofptype_decode(&type, oh);
    if (error || type != OFPTYPE_PACKET_IN) {
        fail("not a packet_in", error);
    }
    error = ofputil_decode_packet_in(oh, false, NULL, NULL, pin, &total_len,
                                     &buffer_id, NULL);
    if (error) {
        fail("packet_in", error);
    }
    sink += total_len;
}

/* Runs one timed loop of 'n' decodes (or encodes) and returns messages/s. */
static double
run(const struct ofp_header *oh, int is_flow_mod, int encode, long n)
{
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofputil_flow_mod fm;
    struct ofputil_packet_in_private pin;
    memset(&pin, 0, sizeof pin);

    if (encode) {
        /* Encode from one decoded message, as a controller re-sends one. */
        if (is_flow_mod) {
            decode_flow_mod(oh, &fm, &ofpacts);
        } else {
            decode_packet_in(oh, &pin.base);
        }
    }
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (encode) {
            struct ofpbuf *msg = is_flow_mod
                ? ofputil_encode_flow_mod(&fm, protocol_of(oh))
                : ofputil_encode_packet_in_private(&pin, protocol_of(oh),
                                                   OFPUTIL_PACKET_IN_STD);
            sink += msg->size;
            ofpbuf_delete(msg);
        } else if (is_flow_mod) {
            decode_flow_mod(oh, &fm, &ofpacts);
            sink += fm.priority;
            minimatch_destroy(&fm.match);
        } else {
            decode_packet_in(oh, &pin.base);
            sink += pin.base.packet_len;
        }
    }
    double t = now() - t0;
    if (encode && is_flow_mod) {
        minimatch_destroy(&fm.match);
    }
    ofpbuf_uninit(&ofpacts);
    return n / t;
}

/* Whether encode(decode(oh)) == oh, ignoring the xid. */
static int
round_trips(const struct ofp_header *oh, int is_flow_mod)
{
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct ofpbuf *msg;
    if (is_flow_mod) {
        struct ofputil_flow_mod fm;
        decode_flow_mod(oh, &fm, &ofpacts);
        msg = ofputil_encode_flow_mod(&fm, protocol_of(oh));
        minimatch_destroy(&fm.match);
    } else {
        struct ofputil_packet_in_private pin;
        memset(&pin, 0, sizeof pin);
        decode_packet_in(oh, &pin.base);
        msg = ofputil_encode_packet_in_private(&pin, protocol_of(oh),
                                               OFPUTIL_PACKET_IN_STD);
    }
    size_t len = ntohs(oh->length);
    int same = msg->size == len
        && !memcmp(msg->data, oh, 4)
        && !memcmp((const char *) msg->data + 8, (const char *) oh + 8,
                   len - 8);
    ofpbuf_delete(msg);
    ofpbuf_uninit(&ofpacts);
    return same;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s FILE flow_mod|packet_in ITERATIONS REPEAT\n",
                argv[0]);
        return 2;
    }
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static uint64_t buf[65536 / 8];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const struct ofp_header *oh = (const struct ofp_header *) buf;
    if (len < sizeof *oh || ntohs(oh->length) != len) {
        fprintf(stderr, "%s: not exactly one OpenFlow message\n", argv[1]);
        return 1;
    }
    int is_flow_mod = !strcmp(argv[2], "flow_mod");
    long n = atol(argv[3]);
    int repeat = atoi(argv[4]);
    if (n <= 0 || repeat <= 0 || repeat > 100) {
        fprintf(stderr, "bad ITERATIONS or REPEAT\n");
        return 2;
    }

    int same = round_trips(oh, is_flow_mod);
    printf("{\"roundtrip\":%s", same ? "true" : "false");
    for (int encode = 0; encode < 2; encode++) {
        double rates[100];
        run(oh, is_flow_mod, encode, n / 5 + 1);       /* warm-up */
        for (int i = 0; i < repeat; i++) {
            rates[i] = run(oh, is_flow_mod, encode, n);
        }
        qsort(rates, repeat, sizeof *rates, cmp_double);
        printf(",\"%s\":[", encode ? "encode" : "decode");
        for (int i = 0; i < repeat; i++) {
            printf("%s%.0f", i ? "," : "", rates[i]);
        }
        printf("]");
    }
    printf("}\n");
    return 0;
}
