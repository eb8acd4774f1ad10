# 02 local derivatives: each activation beside its derivative from the engine.
# make plots runs: gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/02_local_derivatives.gp
set terminal pngcairo size 1100,800 enhanced font 'DejaVu Sans,11'
set output outdir.'/02_local_derivatives.png'
set multiplot layout 2,2 title "Activations (solid) and their derivatives from the engine (dashed)" font ',14'
set grid
set xlabel 'x'
set ylabel 'f(x), f′(x)'
set key top left
f = datadir.'/02_local_derivatives.dat'
set title 'sigmoid σ(x); σ′ = σ(1−σ)'
plot f u 1:2 w l lw 2 lc rgb '#1f77b4' t 'σ(x)', f u 1:3 w l lw 2 dt 2 lc rgb '#d62728' t 'σ′(x)'
set title 'tanh x; tanh′ = 1 − tanh²'
plot f u 1:4 w l lw 2 lc rgb '#1f77b4' t 'tanh(x)', f u 1:5 w l lw 2 dt 2 lc rgb '#d62728' t 'tanh′(x)'
set title 'ReLU max(0, x); ReLU′ = [x > 0]'
plot f u 1:6 w l lw 2 lc rgb '#1f77b4' t 'ReLU(x)', f u 1:7 w l lw 2 dt 2 lc rgb '#d62728' t 'ReLU′(x)'
set title "LeCun's 1.7159·tanh(2x/3)"
plot f u 1:8 w l lw 2 lc rgb '#1f77b4' t 'f(x)', f u 1:9 w l lw 2 dt 2 lc rgb '#d62728' t 'f′(x)'
unset multiplot
