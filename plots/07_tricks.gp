# 07 tricks of the trade: validation (solid) and training (dashed) loss and
# accuracy against epochs, one picture per comparison: the tricks one at a
# time, the width, the depth. Training curves are the mean over the 125
# steps before each check.
# make plots runs: gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/07_tricks.gp
d(t) = datadir.'/07_tricks_'.t.'.dat'
colors = '#7f7f7f #1f77b4 #2ca02c #d62728'
title_of(t) = t eq 'baseline' ? 'baseline: sigmoid, U[-1,1]' : \
              t eq 'init' ? '+ weights N(0, 1/√n)' : \
              t eq 'stanh' ? '+ scaled tanh 1.7159 tanh(2x/3)' : \
              t eq 'momentum' ? (c == 1 ? '+ momentum 0.9, lr 0.02' : 'one hidden layer of 64') : \
              t eq 'h32' ? '32 hidden' : t eq 'h128' ? '128 hidden' : \
              t eq 'two' ? 'two equal hidden layers' : t eq 'ten' ? 'ten hidden layers of 64' : t

# comparison: tags, their legend titles, the picture's file and title
do for [c=1:3] {
    if (c == 1) { tags = 'baseline init stanh momentum'; n = 4; out = 'tricks'; \
                  heading = "MNIST 784(+1)-64-10: LeCun's tricks added one at a time" }
    if (c == 2) { tags = 'h32 momentum h128'; n = 3; out = 'width'; \
                  heading = 'All tricks on: 32, 64 and 128 hidden units' }
    if (c == 3) { tags = 'momentum two ten'; n = 3; out = 'depth'; \
                  heading = 'All tricks on: one hidden layer of 64, two equal hidden layers (same parameter count), ten of 64' }
    set terminal pngcairo size 1500,600 enhanced font 'DejaVu Sans,11'
    set output outdir.'/07_tricks_'.out.'.png'
    set multiplot layout 1,2 title heading font ',14'
    set grid
    set xlabel 'epoch'
    set ylabel 'cross-entropy loss (solid: validation, dashed: training)'
    set key top right
    set logscale y
    plot for [i=1:n] d(word(tags, i)) u 2:5 w l lw 2 lc rgb word(colors, i) t title_of(word(tags, i)), \
         for [i=1:n] d(word(tags, i)) u 2:3 w l lw 1 dt 2 lc rgb word(colors, i) notitle
    unset logscale y
    set ylabel 'accuracy (%) (solid: validation, dashed: training)'
    set key bottom right
    set yrange [80:100]
    plot for [i=1:n] d(word(tags, i)) u 2:($6*100) w l lw 2 lc rgb word(colors, i) t title_of(word(tags, i)), \
         for [i=1:n] d(word(tags, i)) u 2:($4*100) w l lw 1 dt 2 lc rgb word(colors, i) notitle
    set yrange [*:*]
    unset multiplot
}
