/* Link facts and control: ioctls for admin state, MTU and MAC, rtnetlink
 * RTM_GETLINK for one link's state and 64-bit counters, an ethtool ioctl for
 * speed, and an rtnetlink socket on RTMGRP_LINK for link events (the
 * netdev_run part of OVS). */
#include "native.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int ctl_fd = -1;

/* A datagram socket kept for interface ioctls (they are thread safe). */
static int ioctl_fd(void)
{
    int fd = __atomic_load_n(&ctl_fd, __ATOMIC_ACQUIRE), expected = -1;
    if (fd >= 0) {
        return fd;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (!__atomic_compare_exchange_n(&ctl_fd, &expected, fd, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        close(fd);
        return expected;
    }
    return fd;
}

static int do_ioctl(napi_env env, unsigned long req, struct ifreq *ifr, const char *what)
{
    int fd = ioctl_fd();
    if (fd < 0 || ioctl(fd, req, ifr) < 0) {
        tsw_throw_errno(env, errno, "%s(%s)", what, ifr->ifr_name);
        return -1;
    }
    return 0;
}

static int ifreq_arg(napi_env env, napi_callback_info info, size_t want, napi_value *argv, struct ifreq *ifr)
{
    char name[IFNAMSIZ];
    if (tsw_args(env, info, want, argv, NULL) || tsw_get_ifname(env, argv[0], name)) {
        return -1;
    }
    memset(ifr, 0, sizeof *ifr);
    memcpy(ifr->ifr_name, name, IFNAMSIZ);
    return 0;
}

/* linkIndex(name) -> ifindex; throws ENODEV when there is no such link. */
static napi_value link_index(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    struct ifreq ifr;
    if (ifreq_arg(env, info, 1, argv, &ifr) || do_ioctl(env, SIOCGIFINDEX, &ifr, "linkIndex")) {
        return NULL;
    }
    return tsw_i32(env, ifr.ifr_ifindex);
}

/* linkSetUp(name, up): sets or clears IFF_UP. */
static napi_value link_set_up(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    struct ifreq ifr;
    bool up;
    if (ifreq_arg(env, info, 2, argv, &ifr)) {
        return NULL;
    }
    if (napi_get_value_bool(env, argv[1], &up) != napi_ok) {
        tsw_throw_type(env, "up: expected a boolean");
        return NULL;
    }
    if (do_ioctl(env, SIOCGIFFLAGS, &ifr, "linkSetUp: SIOCGIFFLAGS")) {
        return NULL;
    }
    if (!!(ifr.ifr_flags & IFF_UP) != up) {
        ifr.ifr_flags = (short) (up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
        if (do_ioctl(env, SIOCSIFFLAGS, &ifr, "linkSetUp: SIOCSIFFLAGS")) {
            return NULL;
        }
    }
    return NULL;
}

/* linkSetMtu(name, mtu). */
static napi_value link_set_mtu(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    struct ifreq ifr;
    uint32_t mtu;
    if (ifreq_arg(env, info, 2, argv, &ifr) || tsw_get_u32(env, argv[1], "mtu", &mtu)) {
        return NULL;
    }
    ifr.ifr_mtu = (int) mtu;
    do_ioctl(env, SIOCSIFMTU, &ifr, "linkSetMtu");
    return NULL;
}

/* linkSetMac(name, mac: Uint8Array(6)). */
static napi_value link_set_mac(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    struct ifreq ifr;
    uint8_t *mac;
    size_t n;
    if (ifreq_arg(env, info, 2, argv, &ifr) || tsw_get_bytes(env, argv[1], "mac", &mac, &n)) {
        return NULL;
    }
    if (n != 6) {
        tsw_throw_type(env, "mac: expected 6 bytes, got %zu", n);
        return NULL;
    }
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    do_ioctl(env, SIOCSIFHWADDR, &ifr, "linkSetMac");
    return NULL;
}

/* linkSpeed(name) -> { mbps, fullDuplex } | null when the driver does not know. */
static napi_value link_speed(napi_env env, napi_callback_info info)
{
    napi_value argv[1], r;
    struct ifreq ifr;
    struct ethtool_cmd cmd;
    uint32_t speed;
    int fd;

    if (ifreq_arg(env, info, 1, argv, &ifr)) {
        return NULL;
    }
    memset(&cmd, 0, sizeof cmd);
    cmd.cmd = ETHTOOL_GSET;
    ifr.ifr_data = (void *) &cmd;
    fd = ioctl_fd();
    napi_get_null(env, &r);
    if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
        if (errno == ENODEV) {
            tsw_throw_errno(env, errno, "linkSpeed(%s)", ifr.ifr_name);
            return NULL;
        }
        return r; /* EOPNOTSUPP and friends: speed unknown */
    }
    speed = ethtool_cmd_speed(&cmd);
    if (speed == 0 || speed == (uint32_t) SPEED_UNKNOWN) {
        return r;
    }
    napi_create_object(env, &r);
    tsw_set(env, r, "mbps", tsw_u32(env, speed));
    tsw_set(env, r, "fullDuplex", tsw_bool(env, cmd.duplex == DUPLEX_FULL));
    return r;
}

/* linkDriver(name) -> { driver, version, firmware } | null (ethtool GDRVINFO), what OVS puts in Interface.status. */
static napi_value link_driver(napi_env env, napi_callback_info info)
{
    napi_value argv[1], r;
    struct ifreq ifr;
    struct ethtool_drvinfo drv;
    int fd;

    if (ifreq_arg(env, info, 1, argv, &ifr)) {
        return NULL;
    }
    memset(&drv, 0, sizeof drv);
    drv.cmd = ETHTOOL_GDRVINFO;
    ifr.ifr_data = (void *) &drv;
    fd = ioctl_fd();
    napi_get_null(env, &r);
    if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
        if (errno == ENODEV) {
            tsw_throw_errno(env, errno, "linkDriver(%s)", ifr.ifr_name);
            return NULL;
        }
        return r;
    }
    drv.driver[sizeof drv.driver - 1] = drv.version[sizeof drv.version - 1] = 0;
    drv.fw_version[sizeof drv.fw_version - 1] = 0;
    napi_create_object(env, &r);
    tsw_set(env, r, "driver", tsw_str(env, drv.driver));
    tsw_set(env, r, "version", tsw_str(env, drv.version));
    tsw_set(env, r, "firmware", tsw_str(env, drv.fw_version));
    return r;
}

static const char *operstate_name(unsigned v)
{
    static const char *names[] = { "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up" };
    return v < sizeof names / sizeof names[0] ? names[v] : "unknown";
}

static napi_value stats64_object(napi_env env, const struct rtnl_link_stats64 *s)
{
    napi_value o;
    napi_create_object(env, &o);
#define F(name) tsw_set(env, o, #name, tsw_f64(env, (double) s->name))
    F(rx_packets); F(tx_packets); F(rx_bytes); F(tx_bytes); F(rx_errors); F(tx_errors);
    F(rx_dropped); F(tx_dropped); F(multicast); F(collisions); F(rx_length_errors); F(rx_over_errors);
    F(rx_crc_errors); F(rx_frame_errors); F(rx_fifo_errors); F(rx_missed_errors); F(tx_aborted_errors);
    F(tx_carrier_errors); F(tx_fifo_errors); F(tx_heartbeat_errors); F(tx_window_errors);
#undef F
    return o;
}

/* One RTM_NEWLINK/RTM_DELLINK message as a JS object:
 * { type: 'new'|'del', ifindex, name, flags, mtu, mac, operstate, adminUp,
 *   running, lowerUp, stats? } (stats only when with_stats). */
static napi_value link_object(napi_env env, const struct nlmsghdr *nlh, int with_stats)
{
    const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
    int len = (int) nlh->nlmsg_len - (int) NLMSG_LENGTH(sizeof *ifi);
    const struct rtattr *rta = IFLA_RTA(ifi);
    napi_value o, nul;
    char mac[18];

    napi_create_object(env, &o);
    napi_get_null(env, &nul);
    tsw_set(env, o, "type", tsw_str(env, nlh->nlmsg_type == RTM_DELLINK ? "del" : "new"));
    tsw_set(env, o, "ifindex", tsw_i32(env, ifi->ifi_index));
    tsw_set(env, o, "flags", tsw_u32(env, ifi->ifi_flags));
    tsw_set(env, o, "adminUp", tsw_bool(env, ifi->ifi_flags & IFF_UP));
    tsw_set(env, o, "running", tsw_bool(env, ifi->ifi_flags & IFF_RUNNING));
    tsw_set(env, o, "lowerUp", tsw_bool(env, ifi->ifi_flags & IFF_LOWER_UP));
    tsw_set(env, o, "name", tsw_str(env, ""));
    tsw_set(env, o, "mtu", tsw_u32(env, 0));
    tsw_set(env, o, "mac", nul);
    tsw_set(env, o, "operstate", tsw_str(env, "unknown"));
    if (with_stats) {
        tsw_set(env, o, "stats", nul);
    }
    for (; len > 0 && RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        const void *d = RTA_DATA(rta);
        size_t n = RTA_PAYLOAD(rta);
        switch (rta->rta_type) {
        case IFLA_IFNAME: {
            char name[IFNAMSIZ];
            size_t k = n < IFNAMSIZ ? n : IFNAMSIZ - 1;
            memcpy(name, d, k);
            name[k] = 0;
            tsw_set(env, o, "name", tsw_str(env, name));
            break;
        }
        case IFLA_MTU:
            if (n >= 4) {
                tsw_set(env, o, "mtu", tsw_u32(env, *(const uint32_t *) d));
            }
            break;
        case IFLA_ADDRESS:
            if (n == 6) {
                tsw_format_mac(d, mac);
                tsw_set(env, o, "mac", tsw_str(env, mac));
            }
            break;
        case IFLA_OPERSTATE:
            if (n >= 1) {
                tsw_set(env, o, "operstate", tsw_str(env, operstate_name(*(const uint8_t *) d)));
            }
            break;
        case IFLA_STATS64:
            if (with_stats && n >= sizeof(struct rtnl_link_stats64)) {
                struct rtnl_link_stats64 st;
                memcpy(&st, d, sizeof st);
                tsw_set(env, o, "stats", stats64_object(env, &st));
            }
            break;
        default:
            break;
        }
    }
    return o;
}

static int nl_socket(int groups, int nonblock)
{
    struct sockaddr_nl sa;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), NETLINK_ROUTE);
    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = (uint32_t) groups;
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Sends RTM_GETLINK for one ifindex (or name when ifindex is 0), or a dump. */
static int send_getlink(int fd, int ifindex, const char *name, int dump)
{
    struct {
        struct nlmsghdr nlh;
        struct ifinfomsg ifi;
        char attrs[64];
    } req;
    memset(&req, 0, sizeof req);
    req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi);
    req.nlh.nlmsg_type = RTM_GETLINK;
    req.nlh.nlmsg_flags = (uint16_t) (NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0));
    req.nlh.nlmsg_seq = 1;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = ifindex;
    if (!dump && !ifindex && name) {
        struct rtattr *rta = (struct rtattr *) ((char *) &req + NLMSG_ALIGN(req.nlh.nlmsg_len));
        size_t n = strlen(name) + 1;
        rta->rta_type = IFLA_IFNAME;
        rta->rta_len = (unsigned short) RTA_LENGTH(n);
        memcpy(RTA_DATA(rta), name, n);
        req.nlh.nlmsg_len = NLMSG_ALIGN(req.nlh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
    }
    return send(fd, &req, req.nlh.nlmsg_len, 0) < 0 ? -1 : 0;
}

/* linkInfo(nameOrIfindex) -> the link object above with stats (IFLA_STATS64). */
static napi_value link_info(napi_env env, napi_callback_info info)
{
    napi_value argv[1], r = NULL;
    napi_valuetype t;
    char name[IFNAMSIZ] = "";
    int32_t ifindex = 0;
    static __thread char buf[32768];
    int fd, err;
    ssize_t n;

    if (tsw_args(env, info, 1, argv, NULL) || napi_typeof(env, argv[0], &t) != napi_ok) {
        return NULL;
    }
    if (t == napi_number ? tsw_get_i32(env, argv[0], "ifindex", &ifindex) : tsw_get_ifname(env, argv[0], name)) {
        return NULL;
    }
    if (ifindex) {
        snprintf(name, sizeof name, "ifindex %d", ifindex);
    }
    fd = nl_socket(0, 0);
    if (fd < 0 || send_getlink(fd, ifindex, name, 0) < 0) {
        err = errno;
        if (fd >= 0) {
            close(fd);
        }
        tsw_throw_errno(env, err, "linkInfo(%s): rtnetlink request", name);
        return NULL;
    }
    do {
        n = recv(fd, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    err = errno;
    close(fd);
    if (n < 0) {
        tsw_throw_errno(env, err, "linkInfo(%s): rtnetlink reply", name);
        return NULL;
    }
    for (struct nlmsghdr *nlh = (struct nlmsghdr *) buf; NLMSG_OK(nlh, (size_t) n); nlh = NLMSG_NEXT(nlh, n)) {
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(nlh);
            if (e->error) {
                tsw_throw_errno(env, -e->error, "linkInfo(%s)", name);
                return NULL;
            }
        } else if (nlh->nlmsg_type == RTM_NEWLINK) {
            r = link_object(env, nlh, 1);
            break;
        }
    }
    if (!r) {
        tsw_throw_errno(env, ENODEV, "linkInfo(%s): no link in the reply", name);
    }
    return r;
}

/* linkMonitorOpen() -> handle of an rtnetlink socket on RTMGRP_LINK (non-blocking). */
static napi_value link_monitor_open(napi_env env, napi_callback_info info)
{
    struct tsw_handle *h;
    int fd, id, size = 1 << 20;
    (void) info;

    fd = nl_socket(RTMGRP_LINK, 1);
    if (fd < 0) {
        tsw_throw_errno(env, errno, "linkMonitorOpen: rtnetlink socket");
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    id = tsw_handle_new(env, TSW_LINKMON, fd, &h);
    if (id < 0) {
        close(fd);
        return NULL;
    }
    return tsw_i32(env, id);
}

/* linkMonitorRead(handle) -> LinkEvent[]: every queued link message, without
 * blocking. When the kernel dropped messages (ENOBUFS) a full dump is asked
 * for, so every link shows up again as a 'new' event and nothing is lost. */
static napi_value link_monitor_read(napi_env env, napi_callback_info info)
{
    napi_value argv[1], arr;
    struct tsw_handle *h;
    static __thread char buf[65536];
    uint32_t count = 0;
    int err = 0;

    if (tsw_args(env, info, 1, argv, NULL)) {
        return NULL;
    }
    h = tsw_handle_get(env, argv[0], TSW_LINKMON);
    if (!h) {
        return NULL;
    }
    napi_create_array(env, &arr);
    for (;;) {
        ssize_t n = recv(h->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                send_getlink(h->fd, 0, NULL, 1);
                continue;
            }
            if (errno != EAGAIN) {
                err = errno;
            }
            break;
        }
        for (struct nlmsghdr *nlh = (struct nlmsghdr *) buf; NLMSG_OK(nlh, (size_t) n); nlh = NLMSG_NEXT(nlh, n)) {
            if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) {
                napi_set_element(env, arr, count++, link_object(env, nlh, 0));
            }
        }
    }
    tsw_handle_put(h);
    if (err) {
        tsw_throw_errno(env, err, "linkMonitorRead");
        return NULL;
    }
    return arr;
}

void tsw_link_init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        TSW_FN("linkIndex", link_index),
        TSW_FN("linkInfo", link_info),
        TSW_FN("linkSetUp", link_set_up),
        TSW_FN("linkSetMtu", link_set_mtu),
        TSW_FN("linkSetMac", link_set_mac),
        TSW_FN("linkSpeed", link_speed),
        TSW_FN("linkDriver", link_driver),
        TSW_FN("linkMonitorOpen", link_monitor_open),
        TSW_FN("linkMonitorRead", link_monitor_read),
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
