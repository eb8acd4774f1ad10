# 09 regularisation and early stopping: training (dashed) and validation
# (solid) loss and accuracy per epoch, one picture per sweep: hidden size,
# L2 weight decay, dropout.
# make plots runs: gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/09_regularisation.gp
d(t) = datadir.'/09_regularisation_'.t.'.dat'
colors = '#7f7f7f #1f77b4 #2ca02c #d62728'
title_of(t) = t eq 'h100' ? 'H = 100' : t eq 'h500' ? 'H = 500' : t eq 'h1000' ? (s == 1 ? 'H = 1000' : 'H = 1000, nothing added') : \
              t eq 'h2000' ? 'H = 2000' : t[1:3] eq 'l2_' ? 'λ = '.t[4:*] : t[1:5] eq 'keep_' ? 'keep p = '.t[6:*] : t
do for [s=1:3] {
    if (s == 1) { tags = 'h100 h500 h1000 h2000'; n = 4; out = 'size'; \
                  heading = 'MNIST, 10,000 training images, 784-H-10 ReLU, momentum 0.9: hidden size' }
    if (s == 2) { tags = 'h1000 l2_0.01 l2_0.1 l2_0.5'; n = 4; out = 'l2'; \
                  heading = 'H = 1000 with L2 weight decay (λ/2)·Σw²' }
    if (s == 3) { tags = 'h1000 keep_0.9 keep_0.75 keep_0.5'; n = 4; out = 'dropout'; \
                  heading = 'H = 1000 with dropout on the hidden layer (keep probability p)' }
    set terminal pngcairo size 1500,600 enhanced font 'DejaVu Sans,11'
    set output outdir.'/09_regularisation_'.out.'.png'
    set multiplot layout 1,2 title heading font ',14'
    set grid
    set xlabel 'epoch'
    set ylabel 'cross-entropy loss (solid: validation, dashed: training)'
    set key top right
    set logscale y
    plot for [i=1:n] d(word(tags, i)) u 1:4 w l lw 2 lc rgb word(colors, i) t title_of(word(tags, i)), \
         for [i=1:n] d(word(tags, i)) u 1:2 w l lw 1 dt 2 lc rgb word(colors, i) notitle
    unset logscale y
    set ylabel 'accuracy (%) (solid: validation, dashed: training)'
    set key bottom right
    plot for [i=1:n] d(word(tags, i)) u 1:($5*100) w l lw 2 lc rgb word(colors, i) t title_of(word(tags, i)), \
         for [i=1:n] d(word(tags, i)) u 1:($3*100) w l lw 1 dt 2 lc rgb word(colors, i) notitle
    unset multiplot
}
