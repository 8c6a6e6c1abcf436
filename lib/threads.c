/* threads.c — the thread count for large ops: all the cores the process may use, unless set. */
#include "threads.h"

#include "nabla.h"

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

void nb_set_num_threads(int n) { atomic_store(&chosen, n > 0 ? n : available_cores()); }

int nb__num_threads(void)
{
    int n = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (n == 0) {
        n = available_cores();
        atomic_store(&chosen, n);
    }
    return n;
}

int nb_get_num_threads(void) { return nb__num_threads(); }
