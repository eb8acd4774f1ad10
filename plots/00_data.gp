# 00 meet the data: the first ten training images of every class, MNIST and
# Fashion-MNIST side by side. make plots runs:
#   gnuplot -e "datadir='build/data'; outdir='build/plots'" plots/00_data.gp
set terminal pngcairo size 1300,700 enhanced font 'DejaVu Sans,11'
set output outdir.'/00_data.png'
set multiplot layout 1,2 title 'Lesson 00: the first ten training images of every class' font ',14'
set size ratio -1
set palette gray negative           # 0 = white paper, 255 = black ink
set cbrange [0:255]
unset colorbox
set xrange [-0.5:279.5]
set yrange [279.5:-0.5]             # row 0 of the matrix at the top
set xtics ('1st' 14, '2nd' 42, '3rd' 70, '4th' 98, '5th' 126, '6th' 154, '7th' 182, '8th' 210, '9th' 238, '10th' 266) scale 0 font ',9'
set xlabel 'n-th image of the class in the training set'
set tics scale 0

set title 'MNIST'
set lmargin at screen 0.05
set rmargin at screen 0.47
set ylabel 'class (digit)'
set ytics ('0' 14, '1' 42, '2' 70, '3' 98, '4' 126, '5' 154, '6' 182, '7' 210, '8' 238, '9' 266)
plot datadir.'/00_data_mnist.dat' matrix w image notitle

set title 'Fashion-MNIST'
set lmargin at screen 0.57
set rmargin at screen 0.99
unset ylabel                        # the class names say it
set ytics ('T-shirt/top' 14, 'Trouser' 42, 'Pullover' 70, 'Dress' 98, 'Coat' 126, 'Sandal' 154, 'Shirt' 182, 'Sneaker' 210, 'Bag' 238, 'Ankle boot' 266)
plot datadir.'/00_data_fashion-mnist.dat' matrix w image notitle
unset multiplot
