/* Route and neighbour lookups over rtnetlink, what userspace tunnels ask for
 * every remote end (OVS answers them from its netlink-fed ovs-router and
 * tnl-neigh-cache): one RTM_GETROUTE or RTM_GETNEIGH request and its answer,
 * a few microseconds instead of a child process running `ip`.
 *
 * Each thread keeps one netlink socket (the addon is context aware, so
 * worker threads call this too); it is closed when the thread's Node
 * environment goes away. Replies are matched by sequence number, so an answer
 * that arrives after its request gave up is skipped, and every wait is
 * bounded so a lost reply cannot hang the thread. */
#include "native.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a request waits for the kernel's answer (it normally takes microseconds). */
#define REPLY_TIMEOUT_MS 1000

struct nl_conn {
    int fd;        /* NETLINK_ROUTE socket, -1 until first use */
    uint32_t port; /* its netlink port id: replies to us carry it */
    uint32_t seq;
};

static __thread struct nl_conn conn = { -1, 0, 0 };
static __thread int name_fd = -1; /* datagram socket for SIOCGIFNAME */
static __thread char reply[8192]; /* one route or neighbour message is a few hundred bytes */

static void conn_close(void)
{
    if (conn.fd >= 0) {
        close(conn.fd);
        conn.fd = -1;
    }
}

/* The thread's socket, opened on first use; -1 with errno set on failure. */
static int conn_fd(void)
{
    struct sockaddr_nl sa;
    socklen_t len = sizeof sa;
    int fd, one = 1;

    if (conn.fd >= 0) {
        return conn.fd;
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    /* Error replies need not echo our request back. */
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    conn.fd = fd;
    conn.port = sa.nl_pid;
    return fd;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Appends attribute `type` to the request at msg (cap bytes in all); false when it does not fit. */
static int add_attr(void *msg, size_t cap, unsigned short type, const void *data, size_t len)
{
    struct nlmsghdr *nlh = msg;
    size_t at = NLMSG_ALIGN(nlh->nlmsg_len);
    struct rtattr *rta = (struct rtattr *) ((char *) msg + at);

    if (at + RTA_SPACE(len) > cap) {
        return 0;
    }
    rta->rta_type = type;
    rta->rta_len = (unsigned short) RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), data, len);
    nlh->nlmsg_len = (uint32_t) (at + RTA_ALIGN(rta->rta_len));
    return 1;
}

/* Sends a single-answer request and waits for its answer. Returns the reply
 * message (in the thread's reply buffer), or NULL with *err the errno: the
 * kernel's NLMSG_ERROR, a socket failure, or ETIMEDOUT. */
static const struct nlmsghdr *transact(struct nlmsghdr *req, int *err)
{
    int fd = conn_fd();
    long deadline;

    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    req->nlmsg_seq = ++conn.seq;
    req->nlmsg_pid = 0;
    if (send(fd, req, req->nlmsg_len, 0) < 0) {
        *err = errno;
        conn_close();
        return NULL;
    }
    deadline = now_ms() + REPLY_TIMEOUT_MS;
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        long left = deadline - now_ms();
        ssize_t n;
        int r;

        if (left <= 0) {
            *err = ETIMEDOUT;
            conn_close(); /* a late answer must not meet the next request */
            return NULL;
        }
        r = poll(&pfd, 1, (int) left);
        if (r < 0 && errno != EINTR) {
            *err = errno;
            return NULL;
        }
        if (r <= 0) {
            continue;
        }
        n = recv(fd, reply, sizeof reply, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            *err = errno;
            conn_close();
            return NULL;
        }
        for (struct nlmsghdr *nlh = (struct nlmsghdr *) reply; NLMSG_OK(nlh, (size_t) n); nlh = NLMSG_NEXT(nlh, n)) {
            if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != conn.port) {
                continue; /* an answer to an earlier request that gave up */
            }
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(nlh);
                *err = nlh->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error ? -e->error : ENOMSG;
                return NULL;
            }
            return nlh;
        }
    }
}

/* Text address to bytes: 4 for IPv4, 16 for IPv6, 0 when it is neither. */
static int parse_ip(const char *text, uint8_t addr[16], int *family)
{
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = AF_INET;
        return 4;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        *family = AF_INET6;
        return 16;
    }
    return 0;
}

static int get_ip(napi_env env, napi_value v, const char *what, char text[INET6_ADDRSTRLEN], uint8_t addr[16],
                  int *family, int *len)
{
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok || n == 0 || n >= INET6_ADDRSTRLEN) {
        tsw_throw_type(env, "%s: expected an IPv4 or IPv6 address (string)", what);
        return -1;
    }
    napi_get_value_string_utf8(env, v, text, INET6_ADDRSTRLEN, &n);
    *len = parse_ip(text, addr, family);
    if (!*len) {
        tsw_throw_type(env, "%s: \"%s\" is not an IPv4 or IPv6 address", what, text);
        return -1;
    }
    return 0;
}

static napi_value ip_value(napi_env env, int family, const void *data, size_t len)
{
    char text[INET6_ADDRSTRLEN];
    napi_value nul;
    if ((family == AF_INET && len == 4) || (family == AF_INET6 && len == 16)) {
        if (inet_ntop(family, data, text, sizeof text)) {
            return tsw_str(env, text);
        }
    }
    napi_get_null(env, &nul);
    return nul;
}

/* An interface's name by index, with a kept socket (if_indextoname opens one per call). */
static int index_name(int ifindex, char name[IFNAMSIZ])
{
    struct ifreq ifr;
    if (name_fd < 0) {
        name_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (name_fd < 0) {
            return -1;
        }
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = ifindex;
    if (ioctl(name_fd, SIOCGIFNAME, &ifr) < 0) {
        return -1;
    }
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = 0;
    return 0;
}

static const char *route_type_name(unsigned t)
{
    static const char *names[] = {
        "unspec", "unicast", "local", "broadcast", "anycast", "multicast",
        "blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve",
    };
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* routeGet(dst, mark?) -> { ifindex, dev, prefsrc, gateway, table, type } | null
 * The kernel's choice of route for a packet this host sends to dst (what
 * `ip route get` asks); null when it has none (ENETUNREACH, EHOSTUNREACH). */
static napi_value route_get(napi_env env, napi_callback_info info)
{
    struct {
        struct nlmsghdr nlh;
        struct rtmsg rtm;
        char attrs[64];
    } req;
    napi_value argv[2], o, nul;
    char text[INET6_ADDRSTRLEN], dev[IFNAMSIZ] = "";
    uint8_t dst[16];
    int family, alen, err = 0;
    uint32_t mark = 0, table;
    int32_t ifindex = 0;
    const struct nlmsghdr *nlh;
    const struct rtmsg *rtm;
    const struct rtattr *rta;
    int len;

    if (tsw_args(env, info, 2, argv, NULL) || get_ip(env, argv[0], "dst", text, dst, &family, &alen)) {
        return NULL;
    }
    if (!tsw_is_undefined(env, argv[1]) && tsw_get_u32(env, argv[1], "mark", &mark)) {
        return NULL;
    }
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof req.rtm);
    req.nlh.nlmsg_type = RTM_GETROUTE;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.rtm.rtm_family = (unsigned char) family;
    req.rtm.rtm_dst_len = (unsigned char) (alen * 8);
    req.rtm.rtm_flags = RTM_F_LOOKUP_TABLE; /* report the table that matched, not "main" */
    add_attr(&req, sizeof req, RTA_DST, dst, (size_t) alen);
    if (mark) {
        add_attr(&req, sizeof req, RTA_MARK, &mark, sizeof mark);
    }
    nlh = transact(&req.nlh, &err);
    napi_get_null(env, &nul);
    if (!nlh) {
        if (err == ENETUNREACH || err == EHOSTUNREACH) {
            return nul;
        }
        tsw_throw_errno(env, err, "routeGet(%s)", text);
        return NULL;
    }
    if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < NLMSG_LENGTH(sizeof *rtm)) {
        tsw_throw_errno(env, EPROTO, "routeGet(%s): unexpected reply type %u", text, nlh->nlmsg_type);
        return NULL;
    }
    rtm = NLMSG_DATA(nlh);
    table = rtm->rtm_table;
    napi_create_object(env, &o);
    tsw_set(env, o, "prefsrc", nul);
    tsw_set(env, o, "gateway", nul);
    len = (int) nlh->nlmsg_len - (int) NLMSG_LENGTH(sizeof *rtm);
    for (rta = RTM_RTA(rtm); len > 0 && RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        const void *d = RTA_DATA(rta);
        size_t n = RTA_PAYLOAD(rta);
        switch (rta->rta_type) {
        case RTA_OIF:
            if (n >= 4) {
                memcpy(&ifindex, d, 4);
            }
            break;
        case RTA_PREFSRC:
            tsw_set(env, o, "prefsrc", ip_value(env, rtm->rtm_family, d, n));
            break;
        case RTA_GATEWAY:
            tsw_set(env, o, "gateway", ip_value(env, rtm->rtm_family, d, n));
            break;
        case RTA_VIA: /* a gateway of the other family (IPv4 route via an IPv6 next hop) */
            if (n >= sizeof(struct rtvia)) {
                const struct rtvia *via = d;
                tsw_set(env, o, "gateway", ip_value(env, via->rtvia_family, via->rtvia_addr, n - sizeof *via));
            }
            break;
        case RTA_TABLE:
            if (n >= 4) {
                memcpy(&table, d, 4);
            }
            break;
        default:
            break;
        }
    }
    if (ifindex > 0 && index_name(ifindex, dev) < 0) {
        tsw_throw_errno(env, errno, "routeGet(%s): name of ifindex %d", text, ifindex);
        return NULL;
    }
    tsw_set(env, o, "ifindex", tsw_i32(env, ifindex));
    tsw_set(env, o, "dev", tsw_str(env, dev));
    tsw_set(env, o, "table", tsw_u32(env, table));
    tsw_set(env, o, "type", tsw_str(env, route_type_name(rtm->rtm_type)));
    return o;
}

/* The NUD_* bits as `ip neigh` names them, lowest first; ["NONE"] for 0. */
static napi_value state_names(napi_env env, unsigned state)
{
    static const char *names[] = { "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT" };
    napi_value arr;
    uint32_t k = 0;
    napi_create_array(env, &arr);
    if (!state) {
        napi_set_element(env, arr, k++, tsw_str(env, "NONE"));
    }
    for (unsigned i = 0; i < 8; i++) {
        if (state & (1u << i)) {
            napi_set_element(env, arr, k++, tsw_str(env, names[i]));
        }
    }
    return arr;
}

/* neighGet(ip, ifindex) -> { mac, state, stateNames } | null
 * The kernel's neighbour entry for ip on that interface (a non-dump
 * RTM_GETNEIGH, kernels since 4.19); null when there is none. mac is null
 * for an entry without a link-layer address yet (INCOMPLETE, FAILED). */
static napi_value neigh_get(napi_env env, napi_callback_info info)
{
    struct {
        struct nlmsghdr nlh;
        struct ndmsg ndm;
        char attrs[64];
    } req;
    napi_value argv[2], o, nul;
    char text[INET6_ADDRSTRLEN];
    uint8_t dst[16];
    int family, alen, err = 0, len;
    int32_t ifindex;
    const struct nlmsghdr *nlh;
    const struct ndmsg *ndm;
    const struct rtattr *rta;

    if (tsw_args(env, info, 2, argv, NULL) || get_ip(env, argv[0], "ip", text, dst, &family, &alen)
        || tsw_get_i32(env, argv[1], "ifindex", &ifindex)) {
        return NULL;
    }
    if (ifindex <= 0) {
        tsw_throw_type(env, "ifindex: expected a positive interface index, got %d", ifindex);
        return NULL;
    }
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof req.ndm);
    req.nlh.nlmsg_type = RTM_GETNEIGH;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.ndm.ndm_family = (unsigned char) family;
    req.ndm.ndm_ifindex = ifindex;
    add_attr(&req, sizeof req, NDA_DST, dst, (size_t) alen);
    nlh = transact(&req.nlh, &err);
    napi_get_null(env, &nul);
    if (!nlh) {
        if (err == ENOENT) {
            return nul;
        }
        tsw_throw_errno(env, err, "neighGet(%s, ifindex %d)", text, ifindex);
        return NULL;
    }
    if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < NLMSG_LENGTH(sizeof *ndm)) {
        tsw_throw_errno(env, EPROTO, "neighGet(%s): unexpected reply type %u", text, nlh->nlmsg_type);
        return NULL;
    }
    ndm = NLMSG_DATA(nlh);
    napi_create_object(env, &o);
    tsw_set(env, o, "mac", nul);
    len = (int) nlh->nlmsg_len - (int) NLMSG_LENGTH(sizeof *ndm);
    for (rta = (const struct rtattr *) ((const char *) ndm + NLMSG_ALIGN(sizeof *ndm)); len > 0 && RTA_OK(rta, len);
         rta = RTA_NEXT(rta, len)) {
        size_t n = RTA_PAYLOAD(rta);
        if (rta->rta_type == NDA_LLADDR && n > 0 && n <= 32) {
            /* Any length, colon-separated hex, as ip prints it (6 bytes on Ethernet). */
            const uint8_t *b = RTA_DATA(rta);
            char mac[3 * 32];
            for (size_t i = 0; i < n; i++) {
                snprintf(mac + 3 * i, 4, i + 1 < n ? "%02x:" : "%02x", b[i]);
            }
            tsw_set(env, o, "mac", tsw_str(env, mac));
        }
    }
    tsw_set(env, o, "state", tsw_u32(env, ndm->ndm_state));
    tsw_set(env, o, "stateNames", state_names(env, ndm->ndm_state));
    return o;
}

/* Runs on the environment's own thread when it goes away (a worker exiting). */
static void route_cleanup(void *arg)
{
    (void) arg;
    conn_close();
    if (name_fd >= 0) {
        close(name_fd);
        name_fd = -1;
    }
}

void tsw_route_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        TSW_FN("routeGet", route_get),
        TSW_FN("neighGet", neigh_get),
    };
    static __thread int hooked; /* one hook per thread: the same hook twice aborts Node */
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    if (!hooked) {
        hooked = napi_add_env_cleanup_hook(env, route_cleanup, NULL) == napi_ok;
    }
}
