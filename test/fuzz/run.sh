#!/usr/bin/env bash
# run.sh — builds the libFuzzer targets of nabla's file readers, replays their committed seed
# corpora, then fuzzes each for a while; exits non-zero if any target crashed.
#
#   test/fuzz/run.sh [SECONDS_PER_TARGET]      (default 20: what CI runs; longer campaigns: 600)
#
# Needs clang with its sanitizer and libFuzzer runtimes and clang's OpenMP, besides nabla's own
# build dependencies (on Debian 12: apt-get install clang libclang-rt-14-dev libomp-14-dev; llvm-14
# for symbolized stack traces).
# Everything it writes goes under build-fuzz/ (NB_FUZZ_BUILD overrides where):
#   build-fuzz/               a clang build directory (meson -Dfuzz=true), configured once
#   build-fuzz/fuzz/NAME/corpus/      inputs the fuzzer found that add coverage
#   build-fuzz/fuzz/NAME/artifacts/   crash-*, leak-*, oom-*, timeout-* inputs that failed
#   build-fuzz/fuzz/NAME/log          libFuzzer's output
# The committed seeds (test/fuzz/corpus/NAME/, and NAME_large/: replayed, not fuzzed) are only read. To replay one failing input:
#   build-fuzz/test/fuzz/fuzz_NAME build-fuzz/fuzz/NAME/artifacts/crash-...
# Targets run in parallel, as many at a time as there are cores (at most 4).
set -euo pipefail

seconds=${1:-20}
case $seconds in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${NB_FUZZ_BUILD:-$src/build-fuzz}
targets=(npy idx_raw idx_gzip checkpoint safetensors train_state)

# Limits: a timeout catches a loader that hangs; the malloc limit, far below what a real load of
# these small inputs needs, catches one that sizes an allocation from a header it did not check.
fuzz_flags=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Stack traces name functions and lines when llvm-symbolizer is found (Debian's llvm-14 has it).
if ! command -v llvm-symbolizer >/dev/null && [ -x /usr/bin/llvm-symbolizer-14 ]; then
    export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
fi

start=$(date +%s)
fuzzers=("${targets[@]/#/test/fuzz/fuzz_}") # ninja's names for them
if [ ! -f "$build/build.ninja" ]; then
    mkdir -p "$build"
    CC=${NB_FUZZ_CC:-clang} meson setup "$build" "$src" -Dfuzz=true -Dcuda=disabled -Dbuildtype=debugoptimized \
        >"$build/fuzz-setup.log" 2>&1 || { cat "$build/fuzz-setup.log" >&2; exit 1; }
elif ! grep -q 'fuzz_npy' "$build/build.ninja"; then
    echo "$0: $build was configured without -Dfuzz=true (or without clang): remove it first" >&2
    exit 1
fi
# Only the fuzzers (and the library copy they link), not the rest of the project.
ninja -C "$build" "${fuzzers[@]}" >"$build/fuzz-build.log" 2>&1 || { cat "$build/fuzz-build.log" >&2; exit 1; }
built=$(date +%s)

# One target: replay the seeds, then fuzz; writes its summary line to $out/summary.
fuzz_one() {
    local name=$1 exe=$build/test/fuzz/fuzz_$1 seeds=$src/test/fuzz/corpus/$1 out=$build/fuzz/$1
    mkdir -p "$out/corpus" "$out/artifacts"
    rm -f "$out/summary"
    local dict=()
    [ -f "$src/test/fuzz/$name.dict" ] && dict=(-dict="$src/test/fuzz/$name.dict")
    local nseeds
    local replay=("$seeds") # and NAME_large/, seeds too slow to fuzz, only replayed
    [ -d "${seeds}_large" ] && replay+=("${seeds}_large")
    nseeds=$(find "${replay[@]}" -type f | wc -l)
    if ! "$exe" -runs=0 "${fuzz_flags[@]}" -artifact_prefix="$out/artifacts/" "${replay[@]}" >"$out/log" 2>&1; then
        echo "fuzz_$name: FAILED replaying the $nseeds seeds: $(ls -t "$out/artifacts" | head -1)" \
            "(log: $out/log)" >"$out/summary"
        return 1
    fi
    # New inputs go into the first directory (build-fuzz), the committed seeds are only read.
    local rc=0
    "$exe" -max_total_time="$seconds" "${fuzz_flags[@]}" "${dict[@]}" \
        -artifact_prefix="$out/artifacts/" "$out/corpus" "$seeds" >>"$out/log" 2>&1 || rc=$?
    local runs cov found
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$out/log" | tail -1)
    found=$(find "$out/corpus" -type f | wc -l)
    if [ $rc -ne 0 ]; then
        echo "fuzz_$name: CRASH after ${runs:-?} runs: $(ls -t "$out/artifacts" | head -1)" \
            "(log: $out/log)" >"$out/summary"
        return 1
    fi
    echo "fuzz_$name: ok: $nseeds seeds replayed, ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}," \
        "$found inputs in its build corpus" >"$out/summary"
}

parallel=$(nproc 2>/dev/null || echo 1)
[ "$parallel" -gt ${#targets[@]} ] && parallel=${#targets[@]}
running=0
for name in "${targets[@]}"; do
    fuzz_one "$name" &
    running=$((running + 1))
    if [ $running -ge "$parallel" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

status=0
for name in "${targets[@]}"; do
    summary=$build/fuzz/$name/summary
    if [ -f "$summary" ]; then cat "$summary"; else echo "fuzz_$name: FAILED (no summary; log: $build/fuzz/$name/log)"; fi
    grep -q ': ok:' "$summary" 2>/dev/null || status=1
done
end=$(date +%s)
verdict=$([ $status -eq 0 ] && echo 'no crashes' || echo 'CRASHES FOUND')
echo "fuzz: ${seconds}s per target; build $((built - start))s, total $((end - start))s; $verdict"
exit $status
