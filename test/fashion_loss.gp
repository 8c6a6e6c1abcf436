# fashion_loss.gp — plots the loss curve of a fashion_mnist run from its --log CSV (step,loss):
# every step's loss, its exponential moving average (smoothing 0.98, debiased at the start as
# TensorBoard draws it) and the epoch boundaries. Used for test/fashion_loss.png in README.md:
#
#   ./build/samples/fashion_mnist --log /tmp/loss.csv
#   gnuplot -e "log='/tmp/loss.csv'; out='test/fashion_loss.png'" test/fashion_loss.gp
#
# log and out default to loss.csv and fashion_loss.png; steps_per_epoch to 469 (batch 128).
if (!exists("log")) log = "loss.csv"
if (!exists("out")) out = "fashion_loss.png"
if (!exists("steps_per_epoch")) steps_per_epoch = 469

set terminal pngcairo size 800,400 font "sans,10"
set output out
set datafile separator ","
set key top right
set grid ytics lc rgb "#dddddd"
set xlabel "step (batch of 128)"
set ylabel "cross-entropy loss"
set title "fashion\\_mnist: 784-256-10 MLP, SGD lr 0.03 momentum 0.9 (nabla)"
set yrange [0:*]

stats log using 1 skip 1 nooutput
epochs = int(ceil(STATS_max / steps_per_epoch))
set xrange [0:STATS_max]
do for [e = 1:epochs - 1] {
    set arrow from e * steps_per_epoch, graph 0 to e * steps_per_epoch, graph 1 nohead dt 2 lc rgb "#999999"
    set label sprintf("epoch %d", e + 1) at e * steps_per_epoch + 8, graph 0.6 tc rgb "#777777"
}

smoothing = 0.98
ema(y) = (ema_value = ($0 == 0 ? 0 : ema_value) * smoothing + (1 - smoothing) * y, \
          ema_value / (1 - smoothing ** ($0 + 1)))

plot log using 1:2 skip 1 with lines lc rgb "#bbccee" lw 1 title "loss of each step", \
     log using 1:(ema($2)) skip 1 with lines lc rgb "#1f4e9c" lw 2 title "moving average"
