/* tsw's native layer: the few things Node cannot do by itself.
 *
 * Exports:
 *   lockFile(fd: number): boolean
 *     Takes a POSIX (fcntl F_SETLK) write lock on the whole file. Returns
 *     false when another process holds a conflicting lock; throws on any
 *     other error. OVS tools (ovs-appctl, ovsdb-tool) test pidfiles and
 *     database lock files with F_GETLK, so a flock() would not be seen.
 *   lockOwner(fd: number): number
 *     The pid holding a conflicting write lock on the file, or 0 if none.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <node_api.h>

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

static void throw_errno(napi_env env, const char *what)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
    napi_throw_error(env, NULL, msg);
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
        throw_errno(env, "fcntl(F_SETLK)");
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
        throw_errno(env, "fcntl(F_GETLK)");
        return NULL;
    }
    napi_create_int32(env, lck.l_type == F_UNLCK ? 0 : (int32_t) lck.l_pid, &result);
    return result;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "lockFile", NULL, lock_file, NULL, NULL, NULL, napi_default, NULL },
        { "lockOwner", NULL, lock_owner, NULL, NULL, NULL, napi_default, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
