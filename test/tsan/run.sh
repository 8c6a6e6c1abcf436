#!/bin/sh
# run.sh — the ThreadSanitizer check, as CI runs it. Configures a gcc
# -Db_sanitize=thread build in build-tsan/ (or the directory given as $1; an existing one is
# reused), builds only test/tsan/train_threads and runs its small preset under TSan: 2 and 4
# threads train independent models at once and must match one thread bit for bit. Nothing is
# suppressed; nabla's OpenMP loops run on one thread there (train_threads.c says why).
# Exits non-zero on any TSan report, a mismatch or a failed build, after a one-line summary.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-tsan}
started=$(date +%s)

summary() { echo "tsan: $* ($(($(date +%s) - started)) s)"; }

if [ ! -f "$build/build.ninja" ]; then
    setup_log=$(mktemp)
    if ! CC=gcc meson setup "$build" "$src" -Db_sanitize=thread -Dcuda=disabled \
        -Dbuildtype=debugoptimized >"$setup_log" 2>&1; then
        cat "$setup_log"
        rm -f "$setup_log"
        summary "FAIL: meson setup of $build"
        exit 1
    fi
    rm -f "$setup_log"
fi
if ! ninja -C "$build" test/tsan/train_threads >"$build/tsan-build.log" 2>&1; then
    cat "$build/tsan-build.log"
    summary "FAIL: build (log: $build/tsan-build.log)"
    exit 1
fi

# gcc 12's TSan cannot map its shadow memory under the high address randomisation of recent
# kernels ("unexpected memory mapping"): run without randomisation where setarch can.
no_aslr=""
if setarch "$(uname -m)" -R true 2>/dev/null; then no_aslr="setarch $(uname -m) -R"; fi

log=$build/tsan-run.log
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
    $no_aslr "$build/test/tsan/train_threads" small >"$log" 2>&1
status=$?
reports=$(grep -c "WARNING: ThreadSanitizer" "$log")
if [ "$status" -ne 0 ] || [ "$reports" -ne 0 ]; then
    cat "$log"
    summary "FAIL: exit status $status, $reports TSan report(s) (log: $log)"
    exit 1
fi
summary "ok: $(tail -n 1 "$log")"
