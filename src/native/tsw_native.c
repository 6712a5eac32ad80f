/* tsw's native layer: the few things Node cannot do by itself. The API is
 * described in README.md; this file holds the pidfile locks and the module
 * entry point, the other files one subject each (afpacket.c, tap.c, link.c,
 * route.c, wait.c, handles.c, util.c).
 *
 * Exports defined here:
 *   lockFile(fd: number): boolean
 *     Takes a POSIX (fcntl F_SETLK) write lock on the whole file. Returns
 *     false when another process holds a conflicting lock; throws on any
 *     other error. OVS tools (ovs-appctl, ovsdb-tool) test pidfiles and
 *     database lock files with F_GETLK, so a flock() would not be seen.
 *   lockOwner(fd: number): number
 *     The pid holding a conflicting write lock on the file, or 0 if none.
 */
#include "native.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* route.c: routeGet and neighGet. */
void tsw_route_init(napi_env env, napi_value exports);

static int get_fd(napi_env env, napi_callback_info info, int *fd)
{
    size_t argc = 1;
    napi_value argv[1];
    int32_t value;

    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1
        || napi_get_value_int32(env, argv[0], &value) != napi_ok) {
        napi_throw_type_error(env, NULL, "expected a file descriptor (number)");
        return -1;
    }
    *fd = value;
    return 0;
}

static napi_value lock_file(napi_env env, napi_callback_info info)
{
    struct flock lck;
    napi_value result;
    int fd;

    if (get_fd(env, info, &fd)) {
        return NULL;
    }
    memset(&lck, 0, sizeof lck);
    lck.l_type = F_WRLCK;
    lck.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &lck) < 0) {
        if (errno == EAGAIN || errno == EACCES) {
            napi_get_boolean(env, false, &result);
            return result;
        }
        tsw_throw_errno(env, errno, "fcntl(F_SETLK)");
        return NULL;
    }
    napi_get_boolean(env, true, &result);
    return result;
}

static napi_value lock_owner(napi_env env, napi_callback_info info)
{
    struct flock lck;
    napi_value result;
    int fd;

    if (get_fd(env, info, &fd)) {
        return NULL;
    }
    memset(&lck, 0, sizeof lck);
    lck.l_type = F_WRLCK;
    lck.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &lck) < 0) {
        tsw_throw_errno(env, errno, "fcntl(F_GETLK)");
        return NULL;
    }
    napi_create_int32(env, lck.l_type == F_UNLCK ? 0 : (int32_t) lck.l_pid, &result);
    return result;
}

/* Context aware: worker_threads load the addon too, and all of them share
 * the process-wide handle table. */
NAPI_MODULE_INIT()
{
    napi_property_descriptor props[] = {
        TSW_FN("lockFile", lock_file),
        TSW_FN("lockOwner", lock_owner),
        TSW_FN("close", tsw_close),
        TSW_FN("kindOf", tsw_kind_of),
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    tsw_afpacket_init(env, exports);
    tsw_tap_init(env, exports);
    tsw_link_init(env, exports);
    tsw_route_init(env, exports);
    tsw_wait_init(env, exports);
    return exports;
}
