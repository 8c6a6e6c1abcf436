#!/bin/bash
# gpu_check.sh — the checks to run on a host with a CUDA GPU, in about five minutes: build with
# CUDA (build-gpu), the cuda suite verbosely (every test must run: a skip there means no device
# was found: parity of every op forward and backward, graph capture and replay, fault reports),
# the samples' cuda tests (eager and --replay against the CPU), the gradcheck table (its
# cross-device row), the other suites' CUDA rows (autocast, the gradient scaler, checkpoints,
# safetensors, DLPack, attention, the GPT), the CPU thread choice on the host's cores, the CUDA
# benchmarks (eager against replay, convolution and the half products against cuBLAS, attention,
# the GPT against PyTorch), the GPT and fashion_cnn under --amp against float32, fashion_cnn's
# epoch against PyTorch's, and the seed sample's final loss on the GPU against the CPU. Run
# from anywhere in the tree:
#
#   test/gpu_check.sh            # OUT=/some/dir test/gpu_check.sh also writes $OUT/gpu.log
#
# On an offline host, .offline-deps/ (made by ../shared/offline-gpu-host/pack.sh) provides BLIS
# and Criterion. Exits non-zero when a step failed; the log says which.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    exec > >(tee "$OUT/gpu.log") 2>&1
fi
if [ -f .offline-deps/env.sh ]; then
    # shellcheck disable=SC1091
    source .offline-deps/env.sh
fi

status=0
step() { echo; echo "== gpu_check: $* ($(date +%T))"; }
failed() {
    echo "gpu_check: FAILED: $*"
    status=1
}

step "host"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
nvcc --version | tail -2

step "configure and build (build-gpu, -Dcuda=enabled)"
if [ -d build-gpu ]; then
    meson setup --reconfigure build-gpu -Dcuda=enabled || { failed "meson setup"; exit 1; }
else
    meson setup build-gpu -Dcuda=enabled || { failed "meson setup"; exit 1; }
fi
ninja -C build-gpu || { failed "ninja"; exit 1; }

step "the cuda suite, every test listed"
log=$(mktemp)
(cd test && timeout 240 ../build-gpu/test/test_cuda --verbose --jobs 4) 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed "the cuda suite"
# Skips that are expected with one device: the tests of having no device ("a CUDA device is
# present") and of having two. Any other skip means nabla found no usable device.
unexpected=$(grep '^\[SKIP\]' "$log" | grep -v -e 'needs two CUDA devices' -e 'a CUDA device is present')
if [ -n "$unexpected" ]; then
    echo "$unexpected" | head -5
    failed "$(echo "$unexpected" | wc -l) cuda tests were skipped: nabla found no usable device"
fi
rm -f "$log"

step "the samples' cuda tests (eager and --replay against the cpu and PyTorch's losses)"
(cd test && NB_SAMPLES_DIR=$PWD/../build-gpu/samples timeout 240 ../build-gpu/test/test_samples \
    --filter 'samples/*cuda*' --verbose) || failed "the samples' cuda tests"

step "the gradcheck table (its ToBackward row moves between the cpu and cuda:0)"
(cd test && timeout 120 ../build-gpu/test/test_autograd --filter 'gradcheck/*' --verbose) || failed "the gradcheck table"

# the suites whose CUDA rows skip without a device; every one must pass here
for suite in amp optim checkpoint safetensors interop nn gpt; do
    step "the $suite suite (its CUDA rows)"
    (cd test && NB_SAMPLES_DIR=$PWD/../build-gpu/samples timeout 240 ../build-gpu/test/test_$suite --jobs 8) ||
        failed "the $suite suite"
done

step "CPU thread choice on this host's cores (default against fixed counts)"
timeout 300 build-gpu/test/bench/bench_threads || failed "bench_threads"

step "CUDA benchmarks"
for b in cuda_mm cuda_half_mm cuda_add_bandwidth cuda_seed_loop cuda_replay cuda_conv; do
    echo "-- bench_$b"
    timeout 120 build-gpu/test/bench/bench_$b || failed "bench_$b"
done

step "attention on cuda:0: fused against composed (and the CPU's against PyTorch's SDPA)"
NB_PYTHON=${NB_PYTHON:-$(command -v python3)} timeout 300 build-gpu/test/bench/bench_attention --causal \
    test/bench/sdpa_torch.py || failed "bench_attention"

step "gpt on cuda:0: eager and --replay against PyTorch's eager and CUDA graphs"
NB_PYTHON=${NB_PYTHON:-$(command -v python3)} timeout 300 build-gpu/test/bench/bench_gpt build-gpu/samples/gpt \
    test/bench/gpt_torch.py cuda
case $? in 0 | 77) ;; *) failed "bench_gpt on cuda" ;; esac

# FORTUNES_DATA: a text file for gpt (default: the fortunes package's files)
gpt_data=()
[ -n "${FORTUNES_DATA:-}" ] && gpt_data=(--data "$FORTUNES_DATA")
for amp in "" "--amp bf16" "--amp fp16"; do
    for mode in "" "--replay"; do
        step "gpt on cuda:0 ${amp:-float32} $mode: 300 steps"
        # shellcheck disable=SC2086
        timeout 120 build-gpu/samples/gpt --device cuda --steps 300 --eval-every 1000 $amp $mode "${gpt_data[@]}" |
            grep -E "^step (100|200|300)/|val" || failed "gpt ${amp:-float32} $mode"
    done
done

if [ -n "${FASHION_DATA:-}" ]; then
    for amp in "" "--amp bf16" "--amp fp16"; do
        step "fashion_cnn on cuda:0 ${amp:-float32}: one epoch"
        # shellcheck disable=SC2086
        timeout 120 build-gpu/samples/fashion_cnn --device cuda --epochs 1 $amp --data "$FASHION_DATA" | tail -3 ||
            failed "fashion_cnn ${amp:-float32}"
    done
fi

step "fashion_cnn's epoch on cuda:0 against PyTorch's (where the data set and PyTorch are there)"
# FASHION_DATA: the data set's folder; NB_PYTHON: a Python with torch (see bench_fashion_cnn.c)
NB_PYTHON=${NB_PYTHON:-$(command -v python3)} timeout 240 build-gpu/test/bench/bench_fashion_cnn \
    build-gpu/samples/fashion_cnn test/bench/fashion_mnist_torch.py cuda
case $? in 0 | 77) ;; *) failed "bench_fashion_cnn on cuda" ;; esac

for sample in mlp_manual mlp_autograd; do
    for mode in "" "--replay"; do
        step "$sample $mode: final loss on cuda:0 against the cpu"
        cpu=$(build-gpu/samples/$sample | sed -n 's/^final loss: //p')
        # shellcheck disable=SC2086
        gpu=$(build-gpu/samples/$sample --device cuda $mode | sed -n 's/^final loss: //p')
        echo "cpu: ${cpu:-none}  cuda: ${gpu:-none}"
        if [ -z "$cpu" ] || [ -z "$gpu" ]; then
            failed "$sample $mode did not finish on both devices"
        else
            # the samples' own tests' rule for losses: |cuda - cpu| <= 1e-3 + 1e-4 |cpu|, since a
            # trained loss sits at float32's noise floor, where the order of a product's sums
            # alone moves it
            awk -v c="$cpu" -v g="$gpu" 'BEGIN {
                d = g - c; if (d < 0) d = -d; a = c < 0 ? -c : c
                printf "difference %.3g (allowed %.3g)\n", d, 1e-3 + 1e-4 * a
                exit d <= 1e-3 + 1e-4 * a ? 0 : 1 }' || failed "$sample $mode: the final losses differ"
        fi
    done
done

echo
if [ "$status" -eq 0 ]; then echo "gpu_check: all passed"; else echo "gpu_check: some checks FAILED"; fi
exit "$status"
