/* threads.c — the CPU's thread count and the rule that shares it out (threads.h). */
#include "threads.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int chosen = 0; /* 0: not chosen yet */

static int available_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void nbk_cpu_set_max_threads(int n) { atomic_store(&chosen, n > 0 ? n : available_cores()); }

int nbk_cpu_max_threads(void)
{
    int n = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (n == 0) {
        n = available_cores();
        atomic_store(&chosen, n);
    }
    return n;
}

int nbk_cpu_threads_for(double work, double unit, int64_t max_items, int max_threads)
{
    if (!(work >= 4 * unit) || !(unit > 0)) return 1; /* below two threads' worth: no sqrt */
    double want = (double)(int64_t)sqrt(work / unit);  /* floor: both are positive */
    if (max_items > 0 && want > (double)max_items) want = (double)max_items;
    if (want > (double)max_threads) want = (double)max_threads;
    return want < 1 ? 1 : (int)want;
}
