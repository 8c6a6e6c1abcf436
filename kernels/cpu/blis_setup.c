/* blis_setup.c — BLIS initialisation. (The kernel-set choice is filled in below.) */
#include "blis_setup.h"

#include <blis.h>
#include <stdio.h>

void nb_blis_init(void) { bli_init(); }

void nb_blis_describe(char *buf, size_t size)
{
    nb_blis_init();
    snprintf(buf, size, "BLIS %s, kernels %s", bli_info_get_version_str(), bli_arch_string(bli_arch_query_id()));
}
