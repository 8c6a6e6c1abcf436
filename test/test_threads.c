/* test_threads.c — the CPU's rule for how many threads an op runs on (kernels/cpu/threads.h):
 * floor(sqrt(work / unit)) threads, at least one, at most the allowed threads and the pieces the
 * work comes in. The rule is tested as a function, since the machines that run this suite have
 * two cores; the benchmark threads (test/bench/bench_threads.c) measures it against fixed counts
 * on whatever machine runs it. */
#include "../kernels/cpu/threads.h"
#include "helpers.h"

Test(threads, small_work_stays_on_the_calling_thread, .init = nb_test_setup)
{
    cr_assert_eq(nbk_cpu_threads_for(0, NBK_CPU_UNIT_EWISE, 0, 64), 1);
    cr_assert_eq(nbk_cpu_threads_for(-5, NBK_CPU_UNIT_EWISE, 0, 64), 1);
    cr_assert_eq(nbk_cpu_threads_for(1000, NBK_CPU_UNIT_EWISE, 0, 64), 1);
    /* the seed loop's products (64 x 1000 x 100: 12.8 MFLOP) and its 6400-element loops */
    cr_assert_eq(nbk_cpu_threads_for(2.0 * 64 * 1000 * 100, NBK_CPU_UNIT_GEMM_FLOPS, 0, 64), 1);
    cr_assert_eq(nbk_cpu_threads_for(64 * 100, NBK_CPU_UNIT_EWISE, 0, 64), 1);
    /* a nonsense unit never asks for threads */
    cr_assert_eq(nbk_cpu_threads_for(1e12, 0, 0, 64), 1);
}

Test(threads, four_times_the_work_earns_twice_the_threads, .init = nb_test_setup)
{
    const double unit = NBK_CPU_UNIT_EWISE;
    for (int t = 1; t <= 16; t++) {
        double work = unit * t * t; /* exactly t threads' worth */
        cr_assert_eq(nbk_cpu_threads_for(work, unit, 0, 64), t, "work %g", work);
        cr_assert_eq(nbk_cpu_threads_for(work * 0.999, unit, 0, 64), t - 1 > 0 ? t - 1 : 1, "just below %g", work);
        cr_assert_eq(nbk_cpu_threads_for(4 * work, unit, 0, 64), 2 * t, "4 x %g", work);
    }
}

Test(threads, never_more_than_allowed_nor_than_pieces, .init = nb_test_setup)
{
    const double huge = 1e15;
    for (int max = 1; max <= 256; max *= 2) cr_assert_eq(nbk_cpu_threads_for(huge, NBK_CPU_UNIT_GEMM_FLOPS, 0, max), max);
    cr_assert_eq(nbk_cpu_threads_for(huge, NBK_CPU_UNIT_REDUCE, 3, 64), 3, "three pieces of work");
    cr_assert_eq(nbk_cpu_threads_for(huge, NBK_CPU_UNIT_REDUCE, 1, 64), 1);
    cr_assert_eq(nbk_cpu_threads_for(huge, NBK_CPU_UNIT_REDUCE, 0, 0), 1, "no threads allowed still runs on one");
}

Test(threads, the_count_grows_with_the_work_and_never_falls, .init = nb_test_setup)
{
    const double units[] = {NBK_CPU_UNIT_GEMM_FLOPS, NBK_CPU_UNIT_EWISE, NBK_CPU_UNIT_REDUCE, NBK_CPU_UNIT_SOFTMAX};
    for (int u = 0; u < 4; u++) {
        int last = 1;
        for (double work = 1; work < 1e13; work *= 1.37) {
            int t = nbk_cpu_threads_for(work, units[u], 0, 16);
            cr_assert(t >= last && t >= 1 && t <= 16, "unit %g, work %g: %d threads after %d", units[u], work, t, last);
            last = t;
        }
        cr_assert_eq(last, 16);
    }
}

/* The choices the rule's units were set for (threads.h): what a 2-core machine and a 16-core one
 * give the seed loop, the Fashion-MNIST step and a large product. */
Test(threads, the_calibrated_choices, .init = nb_test_setup)
{
    const double seed_product = 2.0 * 64 * 1000 * 100;   /* 12.8 MFLOP */
    const double fashion_product = 2.0 * 128 * 784 * 256; /* 51.4 MFLOP */
    const double big_product = 2.0 * 1024 * 1024 * 1024; /* 2.1 GFLOP */
    cr_assert_eq(nbk_cpu_threads_for(seed_product, NBK_CPU_UNIT_GEMM_FLOPS, 0, 2), 1);
    cr_assert_eq(nbk_cpu_threads_for(seed_product, NBK_CPU_UNIT_GEMM_FLOPS, 0, 16), 1);
    cr_assert_eq(nbk_cpu_threads_for(fashion_product, NBK_CPU_UNIT_GEMM_FLOPS, 0, 2), 2);
    cr_assert_eq(nbk_cpu_threads_for(fashion_product, NBK_CPU_UNIT_GEMM_FLOPS, 0, 16), 3);
    cr_assert_eq(nbk_cpu_threads_for(big_product, NBK_CPU_UNIT_GEMM_FLOPS, 0, 16), 16);
    /* elementwise: the second thread from 256K elements, as before the rule (2 cores) */
    cr_assert_eq(nbk_cpu_threads_for((1 << 18) - 1, NBK_CPU_UNIT_EWISE, 0, 2), 1);
    cr_assert_eq(nbk_cpu_threads_for(1 << 18, NBK_CPU_UNIT_EWISE, 0, 2), 2);
    cr_assert_eq(nbk_cpu_threads_for(16 << 20, NBK_CPU_UNIT_EWISE, 0, 16), 16);
    cr_assert_eq(nbk_cpu_threads_for(1 << 20, NBK_CPU_UNIT_EWISE, 0, 16), 4);
}

Test(threads, nb_set_num_threads_caps_the_rule, .init = nb_test_setup)
{
    const int before = nb_get_num_threads();
    cr_assert_geq(before, 1);
    nb_set_num_threads(3);
    cr_assert_eq(nb_get_num_threads(), 3);
    cr_assert_eq(nbk_cpu_max_threads(), 3);
    nb_set_num_threads(0); /* every core again */
    cr_assert_eq(nb_get_num_threads(), before);
}
