# 10 convolutional networks: training (dashed) and validation (solid) loss
# and accuracy per epoch for each sweep (L2, dropout; both beside no
# regularisation), the 32 learned 3×3 filters as heat maps, and one test
# image with its feature maps after conv, ReLU, batch norm and pooling.
# make plots runs: gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/10_cnn.gp
d(t) = datadir.'/10_cnn_'.t.'.dat'
colors = '#7f7f7f #1f77b4 #2ca02c #d62728'
title_of(t) = t eq 'none' ? 'no regularisation' : t[1:3] eq 'l2_' ? 'L2 λ = '.t[4:*] : \
              t[1:5] eq 'keep_' ? 'dropout keep p = '.t[6:*] : t
do for [s=1:2] {
    if (s == 1) { tags = 'none l2_0.01 l2_0.1 l2_0.5'; out = 'l2'; \
                  heading = 'CNN (conv 3×3×32, batch norm, pool, dense 784), Adam 1e-4: L2 weight decay λ·Σ½w²' }
    if (s == 2) { tags = 'none keep_0.9 keep_0.75 keep_0.5'; out = 'dropout'; \
                  heading = 'CNN, Adam 1e-4: dropout on the dense layer (keep probability p)' }
    set terminal pngcairo size 1500,600 enhanced font 'DejaVu Sans,11'
    set output outdir.'/10_cnn_'.out.'.png'
    set multiplot layout 1,2 title heading font ',14'
    set grid
    set xlabel 'epoch'
    set ylabel 'cross-entropy loss (solid: validation, dashed: training)'
    set key top right
    set logscale y
    plot for [i=1:4] d(word(tags, i)) u 1:4 w lp lw 2 pt 7 ps 0.6 lc rgb word(colors, i) t title_of(word(tags, i)), \
         for [i=1:4] d(word(tags, i)) u 1:2 w l lw 1 dt 2 lc rgb word(colors, i) notitle
    unset logscale y
    set ylabel 'accuracy (%) (solid: validation, dashed: training)'
    set key bottom right
    plot for [i=1:4] d(word(tags, i)) u 1:($5*100) w lp lw 2 pt 7 ps 0.6 lc rgb word(colors, i) t title_of(word(tags, i)), \
         for [i=1:4] d(word(tags, i)) u 1:($3*100) w l lw 1 dt 2 lc rgb word(colors, i) notitle
    unset multiplot
}
reset
# the 32 filters: 4 rows of 8, each 3×3, blank lines between (NaN)
set terminal pngcairo size 1000,560 enhanced font 'DejaVu Sans,11'
set output outdir.'/10_cnn_filters.png'
set title 'the 32 learned 3×3 filters of the unregularised CNN (weights; blue < 0 < red)'
set size ratio -1
unset xtics
unset ytics
unset border
set yrange [*:*] reverse
set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')
stats d('filters') matrix u 3 nooutput
lim = STATS_max > -STATS_min ? STATS_max : -STATS_min
set cbrange [-lim:lim]
plot d('filters') matrix w image notitle
reset
# one test image and its first 8 feature maps, a row per stage
set terminal pngcairo size 1500,720 enhanced font 'DejaVu Sans,11'
set output outdir.'/10_cnn_maps.png'
set title 'test image 0 (left) and feature maps 0–7, one grey scale per row; rows: conv, ReLU, batch norm, 2×2 max-pool'
set size ratio -1
unset xtics
unset border
set yrange [*:*] reverse
set ytics ('conv' 14, 'ReLU' 43, 'batch norm' 72, 'max-pool' 101) scale 0
set palette gray
set cbrange [0:1]
unset colorbox
plot d('maps') matrix w image notitle
