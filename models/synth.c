/* synth.c — the course's load_synth, reproduced with numpy's legacy
 * generator (mt19937 in rng.h). */
#include <stdlib.h>
#include <string.h>
#include "rng.h"
#include "synth.h"

int synth_q(int variant, double *q01, double *q11)
{
    /* Q = [[Q00, Q01], [Q10, Q11]] with Q00 = 1 in both variants */
    switch (variant) {
    case 2020: *q01 = 0.5 + 1.0; *q11 = 0.2; return 0;     /* [[1, 0.5], [1, 0.2]] */
    case 2021: *q01 = -0.05 + 1.0; *q11 = 0.4; return 0;   /* [[1, -0.05], [1, 0.4]] */
    default: return -1;
    }
}

int synth_generate(int variant, uint32_t seed, int n, double *x, uint8_t *labels)
{
    double q01, q11;
    if (synth_q(variant, &q01, &q11)) return -1;
    mt19937 m;
    mt_seed(&m, seed);
    for (int i = 0; i < n; i++) {
        /* np.random.randn(n, 2) fills row by row: x0, then x1 */
        double x0 = mt_normal(&m), x1 = mt_normal(&m);
        x[2 * i] = x0;
        x[2 * i + 1] = x1;
        // q = xᵀ Q x = x0² + (Q01 + Q10)·x0·x1 + Q11·x1²;  class 1 when q > 0.6
        double q = x0 * x0 + q01 * x0 * x1 + q11 * x1 * x1;
        labels[i] = q > 0.6;
    }
    return 0;
}
