#!/bin/sh
# Builds ofcodec-bench against libopenvswitch from the Open vSwitch source
# tree that Debian ships in openvswitch-source (the distribution has no
# libopenvswitch-dev; its binaries link the library statically). The tree is
# unpacked, configured and its library built once into OUT (about a minute
# on two cores); later runs only recompile the small benchmark program.
#
#   bench/openflow-c/build.sh OUT [TARBALL]
#
# Prints the path of the built program on stdout; progress goes to stderr.
set -eu
out=$1
tarball=${2:-/usr/src/openvswitch/openvswitch.tar.gz}
here=$(cd "$(dirname "$0")" && pwd)
src=$out/openvswitch

if [ ! -f "$out/lib.stamp" ]; then
    [ -f "$tarball" ] || { echo "no OVS source at $tarball (apt-get install openvswitch-source)" >&2; exit 3; }
    rm -rf "$src" && mkdir -p "$out"
    echo "building libopenvswitch from $tarball into $out (once)..." >&2
    tar -xzf "$tarball" -C "$out"
    cd "$src"
    ./configure --disable-ssl --disable-libcapng --enable-silent-rules >"$out/configure.log" 2>&1 \
        || { echo "configure failed, see $out/configure.log" >&2; exit 1; }
    # The library's generated headers are BUILT_SOURCES, which only 'all' builds.
    printf 'bench-built-sources: $(BUILT_SOURCES)\n' >"$out/extra.mk"
    { make -j2 -f Makefile -f "$out/extra.mk" bench-built-sources && make -j2 lib/libopenvswitch.la; } >"$out/make.log" 2>&1 \
        || { echo "make failed, see $out/make.log" >&2; exit 1; }
    touch "$out/lib.stamp"
fi

libs=$(sed -n 's/^LIBS = //p' "$src/Makefile")
# -O2 as Debian builds OVS (and as the library above is built).
cc -O2 -I"$src" -I"$src/include" -I"$src/lib" -o "$out/ofcodec-bench" "$here/ofcodec-bench.c" \
    "$src/lib/.libs/libopenvswitch.a" $libs -lpthread >&2
echo "$out/ofcodec-bench"
