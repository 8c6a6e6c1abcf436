#!/bin/bash
# install_test.sh — checks that an installed nabla is usable: installs the build into a staging
# folder (meson install --destdir), then compiles a small program against the installed header
# and the shared and the static library, found through the installed nabla.pc, and runs both.
#
#   install_test.sh BUILD_DIR [SANITIZERS]
#
# SANITIZERS is the build's b_sanitize option (address,undefined or none): a program that links
# an instrumented library must be built with the same -fsanitize flags.
set -uo pipefail

fail() {
    echo "install: FAILED: $*" >&2
    exit 1
}

build_dir=${1:?usage: install_test.sh BUILD_DIR [SANITIZERS]}
sanitize=${2:-none}
cc=${CC:-cc}

stage=$(mktemp -d /tmp/nabla_install_XXXXXX) || fail "cannot create a staging folder"
trap 'rm -rf "$stage"' EXIT

meson install -C "$build_dir" --destdir "$stage" --no-rebuild --quiet >"$stage/install.log" 2>&1 ||
    { cat "$stage/install.log" >&2; fail "meson install -C $build_dir --destdir $stage"; }

# What must be there, wherever the prefix and libdir put it.
pc=$(find "$stage" -name nabla.pc -print -quit)
[ -n "$pc" ] || fail "no nabla.pc under $stage"
for f in nabla.h libnabla.a libnabla.so; do
    [ -n "$(find "$stage" -name "$f" -print -quit)" ] || fail "$f was not installed under $stage"
done

export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$stage # -I and -L point into the staging folder
cflags=$(pkg-config --cflags nabla) || fail "pkg-config --cflags nabla"
libs=$(pkg-config --libs nabla) || fail "pkg-config --libs nabla"
static_libs=$(pkg-config --static --libs nabla) || fail "pkg-config --static --libs nabla"
libdir=$(pkg-config --variable=libdir nabla)
libdir=$stage${libdir#"$stage"}
[ -f "$libdir/libnabla.so" ] || fail "nabla.pc's libdir $libdir holds no libnabla.so"

san_flags=()
if [ "$sanitize" != none ] && [ -n "$sanitize" ]; then
    san_flags=(-fsanitize="$sanitize")
fi

cat >"$stage/use_nabla.c" <<'PROGRAM'
/* use_nabla.c — a program built against the installed nabla: version and a 2x2 add. */
#include <nabla.h>
#include <stdio.h>

int main(void)
{
    float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40}, c[4];
    nb_tensor *ta = nb_from_array(a, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *tb = nb_from_array(b, NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *sum = nb_add(ta, tb); /* (2, 2) */
    nb_status st = nb_copy_to_array(sum, c, sizeof c);
    nb_release(sum);
    nb_release(tb);
    nb_release(ta);
    if (st != NB_OK) {
        fprintf(stderr, "use_nabla: %s\n", nb_last_error());
        return 1;
    }
    printf("nabla %s (header %d.%d.%d)\n", nb_version_string(), NB_VERSION_MAJOR, NB_VERSION_MINOR,
           NB_VERSION_PATCH);
    printf("add: %g %g %g %g\n", c[0], c[1], c[2], c[3]);
    return 0;
}
PROGRAM

# shared: the installed libnabla.so, found through LD_LIBRARY_PATH only
# shellcheck disable=SC2086 # pkg-config output is a list of words
"$cc" "${san_flags[@]}" -o "$stage/use_shared" "$stage/use_nabla.c" $cflags $libs \
    >"$stage/cc.log" 2>&1 || { cat "$stage/cc.log" >&2; fail "cannot build against the shared library"; }
# static: libnabla.a and its private dependencies from nabla.pc
static_only=${static_libs/-lnabla/-Wl,-Bstatic -lnabla -Wl,-Bdynamic}
# shellcheck disable=SC2086
"$cc" "${san_flags[@]}" -o "$stage/use_static" "$stage/use_nabla.c" $cflags $static_only \
    >"$stage/cc.log" 2>&1 || { cat "$stage/cc.log" >&2; fail "cannot build against the static library"; }

version=$(sed -n 's/^Version: *//p' "$pc")
expected="nabla $version (header $version)
add: 11 22 33 44"

resolved=$(LD_LIBRARY_PATH=$libdir ldd "$stage/use_shared" | awk '/libnabla\.so/ {print $3}')
case $resolved in
"$libdir"/*) ;;
*) fail "use_shared loads libnabla from '$resolved', not from $libdir" ;;
esac
if ldd "$stage/use_static" | grep -q libnabla; then fail "use_static still loads libnabla.so"; fi

for prog in use_shared use_static; do
    out=$(LD_LIBRARY_PATH=$libdir "$stage/$prog" 2>&1) || fail "$prog exited with status $?: $out"
    [ "$out" = "$expected" ] || fail "$prog printed:
$out
expected:
$expected"
done

echo "installed: $(cd "$stage" && find . -type f \( -path '*/include/*' -o -name 'libnabla*' -o -name nabla.pc \) | sort | tr '\n' ' ')"
echo "install: ok"
