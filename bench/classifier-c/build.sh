#!/bin/sh
# Builds cls-bench against libopenvswitch. The library comes from the same
# cache bench/openflow-c/build.sh fills (pass the same OUT): when it is not
# there yet, that script is run once to unpack, configure and build it
# (about a minute on two cores); afterwards only cls-bench.c is compiled.
#
#   bench/classifier-c/build.sh OUT [TARBALL]
#
# Prints the path of the built program on stdout; progress goes to stderr.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$out/openvswitch

if [ ! -f "$out/lib.stamp" ]; then
    "$here/../openflow-c/build.sh" "$@" >/dev/null
fi

libs=$(sed -n 's/^LIBS = //p' "$src/Makefile")
# -O2 as Debian builds OVS (and as the library above is built).
cc -O2 -I"$src" -I"$src/include" -I"$src/lib" -o "$out/cls-bench" "$here/cls-bench.c" \
    "$src/lib/.libs/libopenvswitch.a" $libs -lpthread >&2
echo "$out/cls-bench"
