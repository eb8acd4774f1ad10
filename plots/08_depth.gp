# 08 depth and vanishing gradients: the largest |gradient| of each layer's
# weights after training, against the layer's depth, for every activation;
# and the validation accuracy against the depth.
# make plots runs: gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/08_depth.gp
set terminal pngcairo size 1400,1000 enhanced font 'DejaVu Sans,11'
set output outdir.'/08_depth.png'
set multiplot layout 2,2 title "MNIST, dense layers of 32, SGD 0.01, 3 epochs: vanishing gradients" font ',14'
set grid
colors = '#d62728 #1f77b4 #2ca02c #9467bd'
names = 'ReLU tanh sigmoid LeCun-tanh+0.01x'
depths = '5 20 40'
do for [k=1:3] {
    L = word(depths, k)
    f = datadir.'/08_depth_L'.L.'.dat'
    set title 'L = '.L.' layers: largest |∂loss/∂W| per layer after training'
    set xlabel 'layer (1 = next to the input)'
    set ylabel 'largest |gradient| of the weights'
    set logscale y
    set format y '10^{%L}'
    set key bottom right
    if (k == 1) { set xtics 1 } else { set xtics 5 }
    plot for [a=1:4] f u 1:(column(2*a)) w lp pt 7 ps 0.6 lw 2 lc rgb word(colors, a) t word(names, a)
}
unset logscale y
set format y '%g'
set title 'validation accuracy after 3 epochs'
set xlabel 'layers L'
set ylabel 'validation accuracy (%)'
set xtics (5, 20, 40)
set yrange [0:100]
set key center left
f = datadir.'/08_depth_accuracy.dat'
plot for [a=1:4] f u 1:(column(a+1)*100) w lp pt 7 ps 1 lw 2 lc rgb word(colors, a) t word(names, a)
unset multiplot
