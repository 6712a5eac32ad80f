/* Open vSwitch's own classifier (lib/classifier.c in libopenvswitch, built
 * from Debian's openvswitch-source by bench/openflow-c/build.sh) on the rule
 * set and lookup keys bench/ofproto.ts measures tsw's classifier with.
 *
 * The table is set up as ofproto's oftable_init does: classifier_init with
 * the default flow segments (staged lookup) and prefix tries on ipv4 dst and
 * src (ofproto.c's default_prefix_fields). Rules are cls_rules built from a
 * struct match and inserted at OVS_VERSION_MIN; lookups ask for the newest
 * version (OVS_VERSION_MAX, so every inserted rule is visible) and fill a
 * flow_wildcards reset per lookup, as a translation starts from a catch-all.
 *
 *   cls-bench FILE LOOKUPS REPEAT
 *
 * FILE (written by bench/ofproto.ts), one record per line, numbers in hex:
 *   R PRIORITY then 10 VALUE/MASK pairs      a rule (mask 0: wildcarded)
 *   K then 10 VALUEs                         a lookup key
 * in field order in_port eth_src eth_dst eth_type vlan_tci ip_src ip_dst
 * ip_proto tp_src tp_dst.
 *
 * Prints one JSON line: lookups/s of every timed run, inserts/s, removes/s,
 * hit count, and for every key the index of the rule found (-1: none). */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier.h"
#include "flow.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "versions.h"

enum { F_IN_PORT, F_ETH_SRC, F_ETH_DST, F_ETH_TYPE, F_VLAN_TCI, F_IP_SRC,
       F_IP_DST, F_IP_PROTO, F_TP_SRC, F_TP_DST, N_FIELDS };

struct bench_rule {
    struct cls_rule cr;
    int index;                  /* Line order among the rules in FILE. */
};

/* A rule line as read, before it becomes a cls_rule. */
struct rule_spec {
    unsigned int priority;
    uint64_t value[N_FIELDS], mask[N_FIELDS];
};

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *msg, const char *arg)
{
    fprintf(stderr, "cls-bench: %s%s\n", msg, arg ? arg : "");
    exit(1);
}

static void
build_match(struct match *m, const uint64_t v[N_FIELDS],
            const uint64_t k[N_FIELDS])
{
    struct eth_addr ea, em;

    match_init_catchall(m);
    if (k[F_IN_PORT]) {
        match_set_in_port(m, u16_to_ofp(v[F_IN_PORT]));
    }
    if (k[F_ETH_SRC]) {
        eth_addr_from_uint64(v[F_ETH_SRC], &ea);
        eth_addr_from_uint64(k[F_ETH_SRC], &em);
        match_set_dl_src_masked(m, ea, em);
    }
    if (k[F_ETH_DST]) {
        eth_addr_from_uint64(v[F_ETH_DST], &ea);
        eth_addr_from_uint64(k[F_ETH_DST], &em);
        match_set_dl_dst_masked(m, ea, em);
    }
    if (k[F_ETH_TYPE]) {
        match_set_dl_type(m, htons(v[F_ETH_TYPE]));
    }
    if (k[F_VLAN_TCI]) {
        match_set_dl_tci_masked(m, htons(v[F_VLAN_TCI]), htons(k[F_VLAN_TCI]));
    }
    if (k[F_IP_SRC]) {
        match_set_nw_src_masked(m, htonl(v[F_IP_SRC]), htonl(k[F_IP_SRC]));
    }
    if (k[F_IP_DST]) {
        match_set_nw_dst_masked(m, htonl(v[F_IP_DST]), htonl(k[F_IP_DST]));
    }
    if (k[F_IP_PROTO]) {
        match_set_nw_proto_masked(m, v[F_IP_PROTO], k[F_IP_PROTO]);
    }
    if (k[F_TP_SRC]) {
        match_set_tp_src_masked(m, htons(v[F_TP_SRC]), htons(k[F_TP_SRC]));
    }
    if (k[F_TP_DST]) {
        match_set_tp_dst_masked(m, htons(v[F_TP_DST]), htons(k[F_TP_DST]));
    }
}

static void
build_flow(struct flow *f, const uint64_t v[N_FIELDS])
{
    memset(f, 0, sizeof *f);
    f->in_port.ofp_port = u16_to_ofp(v[F_IN_PORT]);
    eth_addr_from_uint64(v[F_ETH_SRC], &f->dl_src);
    eth_addr_from_uint64(v[F_ETH_DST], &f->dl_dst);
    f->dl_type = htons(v[F_ETH_TYPE]);
    f->vlans[0].tci = htons(v[F_VLAN_TCI]);
    f->nw_src = htonl(v[F_IP_SRC]);
    f->nw_dst = htonl(v[F_IP_DST]);
    f->nw_proto = v[F_IP_PROTO];
    f->tp_src = htons(v[F_TP_SRC]);
    f->tp_dst = htons(v[F_TP_DST]);
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
    /* As ofproto.c's default_prefix_fields (a libofproto symbol, so not
     * linkable from libopenvswitch alone). */
    static const enum mf_field_id prefix_fields[] = {
        MFF_IPV4_DST, MFF_IPV4_SRC
    };
    struct rule_spec *specs = NULL;
    struct bench_rule *rules;
    struct flow *keys = NULL;
    size_t n_rules = 0, n_keys = 0, cap_rules = 0, cap_keys = 0;
    struct classifier cls;
    long lookups, repeat;
    char line[1024];
    FILE *in;

    if (argc != 4) {
        die("usage: cls-bench FILE LOOKUPS REPEAT", NULL);
    }
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    lookups = atol(argv[2]);
    repeat = atol(argv[3]);
    in = fopen(argv[1], "r");
    if (!in) {
        die("cannot open ", argv[1]);
    }
    while (fgets(line, sizeof line, in)) {
        uint64_t v[N_FIELDS], k[N_FIELDS];
        const char *p = line + 1;
        int n, i;

        if (line[0] == 'R') {
            unsigned int pri;

            if (sscanf(p, "%x%n", &pri, &n) != 1) {
                die("bad rule line: ", line);
            }
            p += n;
            for (i = 0; i < N_FIELDS; i++) {
                if (sscanf(p, "%" SCNx64 "/%" SCNx64 "%n", &v[i], &k[i], &n)
                    != 2) {
                    die("bad rule line: ", line);
                }
                p += n;
            }
            if (n_rules == cap_rules) {
                cap_rules = cap_rules ? 2 * cap_rules : 1024;
                specs = xrealloc(specs, cap_rules * sizeof *specs);
            }
            specs[n_rules].priority = pri;
            memcpy(specs[n_rules].value, v, sizeof v);
            memcpy(specs[n_rules].mask, k, sizeof k);
            n_rules++;
        } else if (line[0] == 'K') {
            for (i = 0; i < N_FIELDS; i++) {
                if (sscanf(p, "%" SCNx64 "%n", &v[i], &n) != 1) {
                    die("bad key line: ", line);
                }
                p += n;
            }
            if (n_keys == cap_keys) {
                cap_keys = cap_keys ? 2 * cap_keys : 1024;
                keys = xrealloc(keys, cap_keys * sizeof *keys);
            }
            build_flow(&keys[n_keys++], v);
        }
    }
    fclose(in);
    if (!n_keys || (n_keys & (n_keys - 1))) {
        die("the number of keys must be a power of two", NULL);
    }

    /* A cls_rule points into itself (its rculist node), so the rules live in
     * one array that never moves once they are initialized. */
    rules = xmalloc(n_rules * sizeof *rules);
    for (size_t i = 0; i < n_rules; i++) {
        struct match m;

        build_match(&m, specs[i].value, specs[i].mask);
        rules[i].index = i;
        cls_rule_init(&rules[i].cr, &m, specs[i].priority);
    }
    free(specs);

    classifier_init(&cls, flow_segment_u64s);
    classifier_set_prefix_fields(&cls, prefix_fields,
                                 ARRAY_SIZE(prefix_fields));
    /* Inserts and removes: one untimed pass (insert all, remove all), then
     * `repeat` timed passes; the last pass's rules stay for the lookups and
     * are removed, timed, at the end. The medians are reported. */
    double *ins = xmalloc(repeat * sizeof *ins);
    double *rem = xmalloc(repeat * sizeof *rem);
    double t;
    for (long r = -1; r < repeat; r++) {
        t = now();
        for (size_t i = 0; i < n_rules; i++) {
            classifier_insert(&cls, &rules[i].cr, OVS_VERSION_MIN, NULL, 0);
        }
        if (r >= 0) {
            ins[r] = n_rules / (now() - t);
        }
        if (r == repeat - 1) {
            break;
        }
        t = now();
        for (size_t i = 0; i < n_rules; i++) {
            classifier_remove_assert(&cls, &rules[i].cr);
        }
        if (r >= 0) {
            rem[r] = n_rules / (now() - t);
        }
    }

    /* Which rule each key finds. */
    int *found = xmalloc(n_keys * sizeof *found);
    struct flow_wildcards wc;
    long hits = 0;
    for (size_t i = 0; i < n_keys; i++) {
        flow_wildcards_init_catchall(&wc);
        const struct cls_rule *cr = classifier_lookup(&cls, OVS_VERSION_MAX,
                                                      &keys[i], &wc);
        found[i] = cr ? CONTAINER_OF(cr, struct bench_rule, cr)->index : -1;
    }

    /* Warm-up, then the timed runs. */
    size_t kmask = n_keys - 1;
    for (long i = 0; i < lookups / 20; i++) {
        flow_wildcards_init_catchall(&wc);
        hits += classifier_lookup(&cls, OVS_VERSION_MAX, &keys[i & kmask], &wc)
                != NULL;
    }
    double *rates = xmalloc(repeat * sizeof *rates);
    for (long r = 0; r < repeat; r++) {
        hits = 0;
        t = now();
        for (long i = 0; i < lookups; i++) {
            flow_wildcards_init_catchall(&wc);
            hits += classifier_lookup(&cls, OVS_VERSION_MAX, &keys[i & kmask],
                                      &wc) != NULL;
        }
        rates[r] = lookups / (now() - t);
    }

    t = now();
    for (size_t i = 0; i < n_rules; i++) {
        classifier_remove_assert(&cls, &rules[i].cr);
    }
    rem[repeat - 1] = n_rules / (now() - t);
    qsort(ins, repeat, sizeof *ins, cmp_double);
    qsort(rem, repeat, sizeof *rem, cmp_double);
    double insert_rate = ins[repeat / 2];
    double remove_rate = rem[repeat / 2];

    printf("{\"lookups_per_sec\":[");
    for (long r = 0; r < repeat; r++) {
        printf("%s%.0f", r ? "," : "", rates[r]);
    }
    qsort(rates, repeat, sizeof *rates, cmp_double);
    printf("],\"median\":%.0f,\"inserts_per_sec\":%.0f,"
           "\"removes_per_sec\":%.0f,\"hits\":%ld,\"lookups\":%ld,"
           "\"rules\":%zu,\"found\":[",
           rates[repeat / 2], insert_rate, remove_rate, hits, lookups,
           n_rules);
    for (size_t i = 0; i < n_keys; i++) {
        printf("%s%d", i ? "," : "", found[i]);
    }
    printf("]}\n");
    return 0;
}
