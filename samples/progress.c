/* progress.c — the progress bar (on a terminal) or progress lines (otherwise) of a training epoch. */
#include "progress.h"

#include <stdio.h>
#include <time.h>

#define BAR_WIDTH 30          /* characters inside the bar's brackets */
#define BAR_MIN_INTERVAL 0.1  /* seconds between redraws: at most ten a second */
#define LINES_PER_EPOCH 10    /* without a terminal: a line every tenth of the epoch (but the
                               * last: the epoch's summary follows) */

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The first step of the k-th tenth of the epoch (k from 1), rounded up so that k = 10 is the last. */
static int64_t tenth_step(const progress *p, int k)
{
    return (p->steps * k + LINES_PER_EPOCH - 1) / LINES_PER_EPOCH;
}

void progress_begin(progress *p, int epoch, int epochs, int64_t steps, bool terminal)
{
    *p = (progress){.epoch = epoch, .epochs = epochs, .steps = steps, .terminal = terminal,
                    .last_draw = -1.0, .drawn = false};
    p->next_line_step = tenth_step(p, 1);
}

static void draw_bar(progress *p, int64_t step, double running_loss)
{
    int filled = p->steps > 0 ? (int)(BAR_WIDTH * step / p->steps) : BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    int percent = p->steps > 0 ? (int)(100 * step / p->steps) : 100;
    /* \033[K clears what a longer previous line left behind */
    printf("\repoch %d/%d [%s] %3d%% %lld/%lld  loss %.4f\033[K", p->epoch, p->epochs, bar, percent,
           (long long)step, (long long)p->steps, running_loss);
    fflush(stdout);
    p->drawn = true;
}

void progress_update(progress *p, int64_t step, double running_loss)
{
    if (p->terminal) {
        double now = progress_now();
        if (step == p->steps || p->last_draw < 0 || now - p->last_draw >= BAR_MIN_INTERVAL) {
            draw_bar(p, step, running_loss);
            p->last_draw = now;
        }
        return;
    }
    if (step < p->next_line_step || step == p->steps) return;
    printf("epoch %d/%d: step %lld/%lld (%d%%), loss %.4f\n", p->epoch, p->epochs, (long long)step,
           (long long)p->steps, p->steps > 0 ? (int)(100 * step / p->steps) : 100, running_loss);
    fflush(stdout);
    /* the next tenth that lies beyond this step (tiny epochs cross several at once) */
    for (int k = 1; k <= LINES_PER_EPOCH + 1; k++) {
        p->next_line_step = k <= LINES_PER_EPOCH ? tenth_step(p, k) : p->steps + 1;
        if (p->next_line_step > step) break;
    }
}

void progress_end(progress *p)
{
    if (p->terminal && p->drawn) {
        printf("\r\033[K");
        fflush(stdout);
    }
    p->drawn = false;
}
