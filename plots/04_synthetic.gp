# 04 synthetic data: learning curves, and the learned decision boundary over
# the data. make plots runs:
#   gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/04_synthetic.gp
curve  = datadir.'/04_synthetic_curve.dat'
grid   = datadir.'/04_synthetic_grid.dat'
points = datadir.'/04_synthetic_points.dat'

# ---- learning curves: loss and accuracy per epoch ----------------------------
set terminal pngcairo size 1100,450 enhanced font 'DejaVu Sans,11'
set output outdir.'/04_synthetic_curves.png'
set multiplot layout 1,2 title 'Lesson 04: 2-3-2 network, per-sample SGD on the synthetic data' font ',13'
set grid
set xlabel 'epoch (0 = before training)'
set key top right
set title 'cross-entropy loss'
set ylabel 'mean loss'
plot curve u 1:2 w lp lw 2 pt 7 ps 0.5 lc rgb '#1f77b4' t 'train (mean over the epoch)', \
     curve u 1:4 w lp lw 2 pt 7 ps 0.5 lc rgb '#d62728' t 'validation (after the epoch)', \
     log(2) w l dt 2 lc rgb '#777777' t 'coin flip, ln 2'
set title 'accuracy'
set ylabel 'fraction correct'
set key bottom right
set yrange [0.4:1]
plot curve u 1:3 w lp lw 2 pt 7 ps 0.5 lc rgb '#1f77b4' t 'train', \
     curve u 1:5 w lp lw 2 pt 7 ps 0.5 lc rgb '#d62728' t 'validation'
unset multiplot
unset yrange

# ---- decision boundary: contour lines of the grid, over the points -----------
# p(class 1) = 0.5 is the network's boundary, q = 0.6 the true one.
set contour base
unset surface
set view map
set cntrparam levels discrete 0.5
set table $learned
splot grid u 1:2:3 w l
unset table
set cntrparam levels discrete 0
set table $truth
splot grid u 1:2:4 w l
unset table
unset contour

set terminal pngcairo size 800,760 enhanced font 'DejaVu Sans,11'
set output outdir.'/04_synthetic_boundary.png'
set title "Lesson 04: decision boundary (shading: the network's p(class 1))" font ',13'
set xlabel 'x_0'
set ylabel 'x_1'
set size ratio -1
set xrange [-4:4]
set yrange [-4:4]
unset grid
set palette defined (0 '#dbe8f5', 0.5 '#ffffff', 1 '#f8dcdc')
set cbrange [0:1]
unset colorbox
set key opaque box top left
plot grid u 1:2:3 w image notitle, \
     points u 1:($3 == 0 ? $2 : 1/0) w p pt 7 ps 0.35 lc rgb '#1f77b4' t 'class 0', \
     points u 1:($3 == 1 ? $2 : 1/0) w p pt 7 ps 0.35 lc rgb '#d62728' t 'class 1', \
     $truth w l lw 2 dt 2 lc rgb '#222222' t 'true boundary q = 0.6', \
     $learned w l lw 3 lc rgb '#2ca02c' t 'learned boundary p = 0.5'
