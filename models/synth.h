/* synth.h — the course's synthetic data set, `load_synth`, bit for bit.
 *
 * numpy's legacy generator seeded with 0 (mt19937 in rng.h) draws 70,000 × 2
 * standard normals row by row (x0 then x1 of each row). A point is class 1
 * when q = x0² + (Q01 + Q10)·x0·x1 + Q11·x1² > 0.6, else class 0. The first
 * 60,000 rows train, the last 10,000 validate. Two variants of Q:
 *   2020: Q = [[1, 0.5], [1, 0.2]]    train [32567, 27433]  val [5427, 4573]
 *   2021: Q = [[1, −0.05], [1, 0.4]]  train [26506, 33494]  val [4378, 5622]
 * (class counts as [label 0, label 1]; first point (1.764052345967664,
 * 0.4001572083672233) in both).
 *
 * Offers: synth_q (a variant's Q) and synth_generate (the rows in double, as
 * numpy draws them). Not here: the network that learns it
 * (lessons/04_synthetic.c, which trains in double on the graph).
 */
#ifndef CHAINRULE_SYNTH_H
#define CHAINRULE_SYNTH_H

#include <stdint.h>

#define SYNTH_N 70000        /* rows drawn */
#define SYNTH_TRAIN 60000    /* the first ones train; the rest validate */

/* Q's off-diagonal sum and Q11 of a variant (2020 or 2021) into q01 (Q01+Q10)
 * and q11; returns 0, or −1 for an unknown variant. */
int synth_q(int variant, double *q01, double *q11);

/* The first n rows of the stream seeded with `seed` (the course uses 0):
 * x (n × 2, row-major, double — the exact numpy values) and labels (n).
 * Returns 0, or −1 for an unknown variant. */
int synth_generate(int variant, uint32_t seed, int n, double *x, uint8_t *labels);

#endif
