/* N-API helpers: argument checks, errno errors, small value builders. */
#include "native.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tsw_throw_errno(napi_env env, int err, const char *fmt, ...)
{
    char what[200], msg[300];
    const char *name = strerrorname_np(err);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
    napi_throw_error(env, name ? name : "EIO", msg);
}

void tsw_throw_type(napi_env env, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
}

int tsw_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, size_t *argc)
{
    size_t n = want;
    if (napi_get_cb_info(env, info, &n, argv, NULL, NULL) != napi_ok) {
        tsw_throw_type(env, "bad arguments");
        return -1;
    }
    for (size_t i = n; i < want; i++) {
        napi_get_undefined(env, &argv[i]);
    }
    if (argc) {
        *argc = n;
    }
    return 0;
}

int tsw_is_undefined(napi_env env, napi_value v)
{
    napi_valuetype t;
    return napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null;
}

int tsw_get_u32(napi_env env, napi_value v, const char *what, uint32_t *out)
{
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 4294967295.0 || d != (double) (uint32_t) d) {
        tsw_throw_type(env, "%s: expected an unsigned 32-bit integer", what);
        return -1;
    }
    *out = (uint32_t) d;
    return 0;
}

int tsw_get_i32(napi_env env, napi_value v, const char *what, int32_t *out)
{
    double d;
    if (napi_get_value_double(env, v, &d) != napi_ok || d < -2147483648.0 || d > 2147483647.0
        || d != (double) (int32_t) d) {
        tsw_throw_type(env, "%s: expected a 32-bit integer", what);
        return -1;
    }
    *out = (int32_t) d;
    return 0;
}

int tsw_get_ifname(napi_env env, napi_value v, char name[IFNAMSIZ])
{
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
        tsw_throw_type(env, "expected an interface name (string)");
        return -1;
    }
    if (n == 0 || n >= IFNAMSIZ) {
        tsw_throw_type(env, "interface name must be 1..%d bytes, got %zu", IFNAMSIZ - 1, n);
        return -1;
    }
    napi_get_value_string_utf8(env, v, name, IFNAMSIZ, &n);
    return 0;
}

int tsw_get_bytes(napi_env env, napi_value v, const char *what, uint8_t **data, size_t *len)
{
    napi_typedarray_type t;
    size_t n;
    void *p;
    bool is;
    if (napi_is_typedarray(env, v, &is) != napi_ok || !is
        || napi_get_typedarray_info(env, v, &t, &n, &p, NULL, NULL) != napi_ok || t != napi_uint8_array) {
        tsw_throw_type(env, "%s: expected a Uint8Array", what);
        return -1;
    }
    *data = p;
    *len = n;
    return 0;
}

int tsw_get_u32s(napi_env env, napi_value v, const char *what, uint32_t **data, size_t *len)
{
    napi_typedarray_type t;
    size_t n;
    void *p;
    bool is;
    if (napi_is_typedarray(env, v, &is) != napi_ok || !is
        || napi_get_typedarray_info(env, v, &t, &n, &p, NULL, NULL) != napi_ok || t != napi_uint32_array) {
        tsw_throw_type(env, "%s: expected a Uint32Array", what);
        return -1;
    }
    *data = p;
    *len = n;
    return 0;
}

int tsw_get_batch(napi_env env, napi_value *argv, struct tsw_batch *b)
{
    size_t n_off, n_len;
    if (tsw_get_bytes(env, argv[0], "buf", &b->buf, &b->buf_len)
        || tsw_get_u32s(env, argv[1], "off", &b->off, &n_off)
        || tsw_get_u32s(env, argv[2], "len", &b->len, &n_len)) {
        return -1;
    }
    b->cap = n_off < n_len ? n_off : n_len;
    return 0;
}

size_t tsw_batch_end(const struct tsw_batch *b, uint32_t i)
{
    if (i == 0) {
        return 0;
    }
    return (size_t) b->off[i - 1] + b->len[i - 1];
}

static napi_value get_prop(napi_env env, napi_value obj, const char *key)
{
    napi_value v;
    bool has = false;
    if (tsw_is_undefined(env, obj) || napi_has_named_property(env, obj, key, &has) != napi_ok || !has
        || napi_get_named_property(env, obj, key, &v) != napi_ok || tsw_is_undefined(env, v)) {
        return NULL;
    }
    return v;
}

int tsw_opt_u32(napi_env env, napi_value obj, const char *key, uint32_t *out)
{
    napi_value v = get_prop(env, obj, key);
    return v ? tsw_get_u32(env, v, key, out) : 0;
}

int tsw_opt_bool(napi_env env, napi_value obj, const char *key, int *out)
{
    napi_value v = get_prop(env, obj, key);
    bool b;
    if (!v) {
        return 0;
    }
    if (napi_get_value_bool(env, v, &b) != napi_ok) {
        tsw_throw_type(env, "%s: expected a boolean", key);
        return -1;
    }
    *out = b;
    return 0;
}

napi_value tsw_u32(napi_env env, uint32_t v)
{
    napi_value r;
    napi_create_uint32(env, v, &r);
    return r;
}

napi_value tsw_i32(napi_env env, int32_t v)
{
    napi_value r;
    napi_create_int32(env, v, &r);
    return r;
}

napi_value tsw_f64(napi_env env, double v)
{
    napi_value r;
    napi_create_double(env, v, &r);
    return r;
}

napi_value tsw_str(napi_env env, const char *s)
{
    napi_value r;
    napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
    return r;
}

napi_value tsw_bool(napi_env env, int v)
{
    napi_value r;
    napi_get_boolean(env, v != 0, &r);
    return r;
}

void tsw_set(napi_env env, napi_value obj, const char *key, napi_value v)
{
    napi_set_named_property(env, obj, key, v);
}

void tsw_format_mac(const uint8_t *mac, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

napi_value tsw_counters_object(napi_env env, const struct tsw_counters *c)
{
    napi_value o;
    napi_create_object(env, &o);
#define F(name) tsw_set(env, o, #name, tsw_f64(env, (double) __atomic_load_n(&c->name, __ATOMIC_RELAXED)))
    F(rx_packets); F(rx_bytes); F(rx_dropped); F(rx_truncated);
    F(tx_packets); F(tx_bytes); F(tx_dropped); F(tx_errors);
    F(ring_drops);
#undef F
    return o;
}
