#!/bin/bash
# exports_test.sh — checks that libnabla.so exports exactly the public API: the functions the
# public headers (nabla.h and nabla/*.h) declare with NB_API, and nothing else (no nb__*, nbk_*
# internals, no data such as dispatch tables). The library is built with hidden visibility, so a
# symbol leaks only through a missing -fvisibility=hidden or a stray visibility("default"), and a
# public function goes missing only when its declaration lacks NB_API; this test catches both.
#
#   exports_test.sh LIBRARY INCLUDE_DIR
#
# LIBRARY is the built shared library (libnabla.so...), INCLUDE_DIR the source tree's include/.
# Declarations are read line by line: the headers' convention is one declaration starting at the
# beginning of a line, NB_API first, the function's name before the first '('.
set -uo pipefail
export LC_ALL=C # sort and comm must agree on the order

fail() {
    echo "exports: FAILED: $*" >&2
    exit 1
}

lib=${1:?usage: exports_test.sh LIBRARY INCLUDE_DIR}
inc=${2:?usage: exports_test.sh LIBRARY INCLUDE_DIR}
nm=${NM:-nm}

[ -f "$lib" ] || fail "no library at $lib"
headers=("$inc/nabla.h" "$inc"/nabla/*.h)
for h in "${headers[@]}"; do
    [ -f "$h" ] || fail "no header $h"
done

work=$(mktemp -d /tmp/nabla_exports_XXXXXX) || fail "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT

# Function declarations: a line that starts (at column 0, optionally after NB_API) with a return
# type and the name before '('. typedefs (nb_grad_fn), macros and comments are not declarations;
# struct fields and comment lines are indented in these headers.
decl_re='^(NB_API[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*[[:space:]*]+)+[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\('
for h in "${headers[@]}"; do
    grep -nE "$decl_re" "$h" | grep -vE '^[0-9]+:(typedef|#)' | sed "s|^|$h:|"
done >"$work/decl_lines"
[ -s "$work/decl_lines" ] || fail "found no function declarations in ${headers[*]}"

# file:line:text -> the function's name (the identifier right before the first '(').
name_of() {
    sed -e 's/^[^:]*:[0-9]*://' -e 's/(.*//' -e 's/.*[^A-Za-z0-9_]//'
}
grep -vE '^[^:]*:[0-9]+:NB_API[[:space:]]' "$work/decl_lines" >"$work/no_api_lines"
name_of <"$work/decl_lines" | sort -u >"$work/declared"

# The library's defined dynamic symbols, any kind (T text, D/B/R data, W/V weak, i ifunc, ...),
# less the few a linker may add itself. nm -D prints "ADDRESS TYPE NAME" (symbol versions, which
# nabla does not use, would follow the name after '@').
"$nm" -D --defined-only "$lib" >"$work/nm" 2>"$work/nm.err" || {
    cat "$work/nm.err" >&2
    fail "$nm -D --defined-only $lib"
}
sed -n 's/^[0-9A-Fa-f]* *\([A-Za-z]\) \([^ @]*\).*/\2 \1/p' "$work/nm" |
    grep -vE '^(_init|_fini|_edata|_end|__bss_start) ' | sort -u >"$work/exported_typed"
[ -s "$work/exported_typed" ] || fail "$lib exports no symbols at all (is it the shared library?)"
cut -d' ' -f1 "$work/exported_typed" | sort -u >"$work/exported"

comm -23 "$work/exported" "$work/declared" >"$work/extra"    # exported, not declared
comm -13 "$work/exported" "$work/declared" >"$work/missing"  # declared, not exported

echo "exports: $lib exports $(wc -l <"$work/exported") symbols;" \
    "the headers declare $(wc -l <"$work/declared") functions"
status=0
if [ -s "$work/no_api_lines" ]; then
    echo "exports: declared without NB_API (hidden from programs linking libnabla.so):" >&2
    sed 's/^/  /' "$work/no_api_lines" >&2
    status=1
fi
if [ -s "$work/extra" ]; then
    echo "exports: exported but not declared in the public headers (internals that must be hidden;" \
        "nm's symbol type follows each name):" >&2
    join "$work/extra" "$work/exported_typed" | sed 's/^/  /' >&2
    status=1
fi
if [ -s "$work/missing" ]; then
    echo "exports: declared in the public headers but not exported (no NB_API, or not defined):" >&2
    sed 's/^/  /' "$work/missing" >&2
    status=1
fi
[ "$status" = 0 ] || fail "libnabla.so's exports differ from the public headers (see above)"
echo "exports: ok"
