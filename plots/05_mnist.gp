# 05_mnist.gp — lesson 05's pictures: learning curves (mean ± std band over
# three seeds) for per-sample and minibatch SGD, and the learning rates.
#   gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/05_mnist.gp
if (!exists("datadir")) datadir = 'build/data'
if (!exists("outdir")) outdir = 'build/plots'
curves = datadir.'/05_mnist_curves.dat'
rates = datadir.'/05_mnist_rates.dat'
# the rates the lesson ran, from the data file's block headers ("# learning
# rate R"): --lr adds its own to the four of the comparison
rlist = system("sed -n 's/^# learning rate //p' '".rates."'")
nr = words(rlist)

set terminal pngcairo size 1200,500 enhanced font 'Sans,11'
set grid
set key inside right top box opaque
set xlabel 'epoch'
set xtics 1

set output outdir.'/05_mnist_curves.png'
set multiplot layout 1,2 title 'Lesson 05: MNIST 784-300-10, mean ± std over 3 seeds'
set title 'cross-entropy loss'
set ylabel 'mean cross-entropy'
plot curves index 0 using 1:($6-$7):($6+$7) with filledcurves lc rgb '#a0c0ff' fs transparent solid 0.4 notitle, \
     ''     index 0 using 1:6 with linespoints lw 2 lc rgb '#1050c0' title 'batch 1, validation', \
     ''     index 0 using 1:2 with lines dt 2 lw 2 lc rgb '#1050c0' title 'batch 1, training (mean over the epoch)', \
     ''     index 1 using 1:($6-$7):($6+$7) with filledcurves lc rgb '#ffc0a0' fs transparent solid 0.4 notitle, \
     ''     index 1 using 1:6 with linespoints lw 2 lc rgb '#c05010' title 'batch 100, validation', \
     ''     index 1 using 1:2 with lines dt 2 lw 2 lc rgb '#c05010' title 'batch 100, training (mean over the epoch)'
set title 'accuracy'
set ylabel 'fraction correct'
set key right bottom
plot curves index 0 using 1:($8-$9):($8+$9) with filledcurves lc rgb '#a0c0ff' fs transparent solid 0.4 notitle, \
     ''     index 0 using 1:8 with linespoints lw 2 lc rgb '#1050c0' title 'batch 1, validation', \
     ''     index 0 using 1:4 with lines dt 2 lw 2 lc rgb '#1050c0' title 'batch 1, training (mean over the epoch)', \
     ''     index 1 using 1:($8-$9):($8+$9) with filledcurves lc rgb '#ffc0a0' fs transparent solid 0.4 notitle, \
     ''     index 1 using 1:8 with linespoints lw 2 lc rgb '#c05010' title 'batch 100, validation', \
     ''     index 1 using 1:4 with lines dt 2 lw 2 lc rgb '#c05010' title 'batch 100, training (mean over the epoch)'
unset multiplot

set output outdir.'/05_mnist_rates.png'
set multiplot layout 1,2 title 'Lesson 05: learning rates, per-sample SGD (seed 1)'
set key right top
set title 'validation loss'
set ylabel 'mean cross-entropy'
plot for [i=0:nr-1] rates index i using 1:4 with linespoints lw 2 title 'rate '.word(rlist, i+1)
set title 'validation accuracy'
set ylabel 'fraction correct'
set key right bottom
plot for [i=0:nr-1] rates index i using 1:5 with linespoints lw 2 title 'rate '.word(rlist, i+1)
unset multiplot

# The loss of every batch of the first minibatch run (the assignment asks
# for it): noisy, because each point is one batch of images.
batches = datadir.'/05_mnist_batches.dat'
set output outdir.'/05_mnist_batches.png'
set terminal pngcairo size 900,500 enhanced font 'Sans,11'
set title 'Lesson 05: the loss of every batch, minibatch SGD, first seed'
set xlabel 'step (one batch each)'
set xtics autofreq
set ylabel 'mean cross-entropy of the batch'
set key right top
plot batches using 1:3 with lines lw 1 lc rgb '#c0a080' title 'batch loss', \
     ''      using 1:3 smooth csplines lw 2 lc rgb '#c05010' title 'smoothed'
