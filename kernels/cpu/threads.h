/* threads.h — how many threads a CPU op runs on: one rule for every kernel, from the op's work.
 *
 * The rule. Splitting an op whose work takes W on one thread across t threads takes about
 * W/t + c·t: the work shared out, plus a cost c for each thread the op wakes (starting it,
 * its barriers, and the stall when a partner is descheduled, which grows with the team). That
 * sum is least at t = sqrt(W / c). So an op of `work` units (flops for a product, elements for
 * the loops) gets
 *
 *     threads = floor(sqrt(work / unit)), at least 1, at most the allowed threads,
 *
 * where unit is the work that takes as long as one thread's cost c. Four times the work earns
 * twice the threads: small ops stay on the calling thread, mid-sized ones get a few threads
 * however many cores there are, and only large ones take every core. A fixed count is wrong
 * both ways: all cores for a mid-sized op (the team's cost outgrows the work it saves), or one
 * thread for a large one.
 *
 * The units below were measured on a 2-core AMD Zen 4 (BLIS 0.9.0, zen3 kernels), where the
 * rule gives the same choice as the best fixed count on every benchmark (see README); each is
 * the size at which the second thread starts to pay for itself, divided by 4:
 *   - products: 2 threads from 13.2 MFLOP (a 64 x 1000 x 100 product, 12.8 MFLOP, stays on one
 *     thread: two lose on a busy machine), 4 from 53 MFLOP, 16 from 845 MFLOP;
 *   - elementwise loops: 2 threads from 256K elements, 4 from 1M, 16 from 16M;
 *   - reductions: 2 threads from 512K elements;
 *   - softmax and cross entropy (an exp per element): 2 threads from 32K elements. */
#ifndef NB_KERNELS_CPU_THREADS_H
#define NB_KERNELS_CPU_THREADS_H

#include <stdint.h>

#define NBK_CPU_UNIT_GEMM_FLOPS 3.3e6
#define NBK_CPU_UNIT_EWISE ((double)(1 << 16))
#define NBK_CPU_UNIT_REDUCE ((double)(1 << 17))
#define NBK_CPU_UNIT_SOFTMAX ((double)(1 << 13))

/* The rule: floor(sqrt(work / unit)) threads, at least 1, at most max_threads and at most
 * max_items (the independent pieces the work comes in; 0 means no limit). */
int nbk_cpu_threads_for(double work, double unit, int64_t max_items, int max_threads);

/* Threads CPU ops may use: nbk_cpu_set_max_threads' value, or the cores this process may run
 * on. Ops run one after another, so BLIS's threads and nabla's never run at the same time. */
int nbk_cpu_max_threads(void);
void nbk_cpu_set_max_threads(int n); /* n < 1: every core */

#endif /* NB_KERNELS_CPU_THREADS_H */
