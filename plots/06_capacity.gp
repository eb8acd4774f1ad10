# 06 capacity and activations: the validation curves (sigmoid vs ReLU per
# hidden size) and the test confusion matrix of the best model as a heat map.
# make plots runs: gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/06_capacity.gp
set terminal pngcairo size 1600,820 enhanced font 'DejaVu Sans,11'
set output outdir.'/06_capacity_curves.png'
set multiplot layout 2,4 title "Fashion-MNIST, one hidden layer: validation loss and accuracy per epoch, sigmoid vs ReLU" font ',14'
set grid
set key top right
sizes = '16 64 128 512'
# one scale for every panel of a row, so the sizes compare at a glance
lo = 1e9; hi = -1e9; alo = 1e9; ahi = -1e9
do for [i=1:4] {
    stats datadir.'/06_capacity_h'.word(sizes, i).'.dat' u 2:4 nooutput
    lo = STATS_min_x < lo ? STATS_min_x : lo; lo = STATS_min_y < lo ? STATS_min_y : lo
    hi = STATS_max_x > hi ? STATS_max_x : hi; hi = STATS_max_y > hi ? STATS_max_y : hi
    stats datadir.'/06_capacity_h'.word(sizes, i).'.dat' u ($3*100):($5*100) nooutput
    alo = STATS_min_x < alo ? STATS_min_x : alo; alo = STATS_min_y < alo ? STATS_min_y : alo
    ahi = STATS_max_x > ahi ? STATS_max_x : ahi; ahi = STATS_max_y > ahi ? STATS_max_y : ahi
    epochs = STATS_records
}
if (epochs > 15) { set xtics 5 } else { set xtics 1 }
set xrange [1:epochs]
do for [i=1:4] {
    h = word(sizes, i)
    f = datadir.'/06_capacity_h'.h.'.dat'
    set title h.' hidden units'
    set xlabel 'epoch'
    set ylabel 'validation loss (cross-entropy)'
    set yrange [lo:hi]
    plot f u 1:2 w lp pt 7 ps 0.5 lw 2 lc rgb '#1f77b4' t 'sigmoid', \
         f u 1:4 w lp pt 5 ps 0.5 lw 2 lc rgb '#d62728' t 'ReLU'
}
set key bottom right
do for [i=1:4] {
    h = word(sizes, i)
    f = datadir.'/06_capacity_h'.h.'.dat'
    set title h.' hidden units'
    set xlabel 'epoch'
    set ylabel 'validation accuracy (%)'
    set yrange [alo:ahi]
    plot f u 1:($3*100) w lp pt 7 ps 0.5 lw 2 lc rgb '#1f77b4' t 'sigmoid', \
         f u 1:($5*100) w lp pt 5 ps 0.5 lw 2 lc rgb '#d62728' t 'ReLU'
}
unset multiplot

set terminal pngcairo size 900,800 enhanced font 'DejaVu Sans,11'
set output outdir.'/06_capacity_confusion.png'
reset
f = datadir.'/06_capacity_confusion.dat'
set title "Fashion-MNIST test set: confusion matrix of the best model\n(share of each true class; the number is the count)" font ',13'
set xlabel 'predicted class'
set ylabel 'true class'
set xrange [-0.5:9.5]
set yrange [9.5:-0.5]
set size ratio -1
set palette defined (0 '#ffffff', 0.05 '#fde0c5', 0.3 '#f59e5b', 1 '#8c2d04')
set cbrange [0:1]
set cblabel 'fraction of the true class'
set xtics rotate by -40 left ('T-shirt/top' 0, 'Trouser' 1, 'Pullover' 2, 'Dress' 3, 'Coat' 4, 'Sandal' 5, 'Shirt' 6, 'Sneaker' 7, 'Bag' 8, 'Ankle boot' 9)
set ytics ('T-shirt/top' 0, 'Trouser' 1, 'Pullover' 2, 'Dress' 3, 'Coat' 4, 'Sandal' 5, 'Shirt' 6, 'Sneaker' 7, 'Bag' 8, 'Ankle boot' 9)
set tics nomirror out
plot f u 2:1:4 w image notitle, \
     f u 2:1:($4 > 0.5 ? sprintf('%d', $3) : '') w labels tc rgb 'white' font ',10' notitle, \
     f u 2:1:($4 > 0.5 ? '' : sprintf('%d', $3)) w labels tc rgb 'black' font ',10' notitle
