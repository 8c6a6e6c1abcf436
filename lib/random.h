/* random.h — lib/'s side of the generator (random.c): draws on a device, and the hooks through
 * which graph capture (graph.c) keeps the offset meaningful across captures and replays. */
#ifndef NB_RANDOM_H
#define NB_RANDOM_H

#include "../kernels/random.h"
#include "tensor.h"

/* Runs the draw a on device d (its kind, parameters, out, n and advance set): takes the next
 * a->advance counters of the generator. An error naming op on failure. */
nb_status nb__random_draw(const char *op, nb_device d, nbk_random_args *a);
/* Hands out the next counters of the generator for a kernel that draws its own values from them
 * (attention's dropout, kernels/attention.h): *seed and *offset are where they start. */
void nb__rng_reserve(uint64_t counters, uint64_t *seed, uint64_t *offset);

/* Before a capture on d begins: the device's memory gets the host's state (queued, not captured). */
nb_status nb__rng_capture_begin(const char *op, nb_device d);
/* The capture has begun on this thread: its draws are counted and write no state into the graph. */
void nb__rng_capture_started(void);
/* The capture on d ended (with a graph or not): the offset steps back by the counters its draws
 * took, which is returned (each replay takes as many). */
uint64_t nb__rng_capture_end(nb_device d);
/* Before a replay of a graph whose draws take draws counters: writes the host's state to d when
 * d would hold another, and hands out the next draws counters. */
nb_status nb__rng_before_replay(const char *op, nb_device d, uint64_t draws);
/* What d's memory holds is unknown (a replay failed): the next draw writes it. */
void nb__rng_forget_device(nb_device d);

#endif /* NB_RANDOM_H */
