/* rng.h — the only source of randomness in chainrule.
 *
 * rng_*: xoshiro256** (Blackman & Vigna, 2018), seeded from one 64-bit
 * number through SplitMix64. Fast, 256 bits of state, same stream on every
 * machine. Normals by the Marsaglia polar method.
 *
 * mt_*: MT19937 (Matsumoto & Nishimura, 1998) reproducing numpy's legacy
 * np.random.seed(s) / np.random.rand / np.random.randn bit for bit, for the
 * lessons that must see the course's own numpy data.
 *
 * Never rand(), time() or addresses.
 */
#ifndef CHAINRULE_RNG_H
#define CHAINRULE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } rng;

void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);                   /* 64 random bits */
double rng_uniform(rng *r);                  /* [0, 1), 53 bits */
double rng_range(rng *r, double lo, double hi);   /* [lo, hi) */
uint32_t rng_below(rng *r, uint32_t n);      /* 0 … n−1, unbiased; n ≥ 1 */
double rng_normal(rng *r);                   /* N(0, 1) */
/* n draws in order, draw i kept when rng_uniform(r) < p (the same draws and
 * answers as that loop, compared as 53-bit integers): out[i] = 1 or 0, or,
 * for the float form, on or 0 (a dropout mask). */
void rng_keep_u8(rng *r, uint8_t *out, size_t n, double p);
void rng_keep_f32(rng *r, float *out, size_t n, double p, float on);
/* Fisher–Yates: a uniformly random order of idx[0..n). */
void rng_shuffle(rng *r, uint32_t *idx, size_t n);

typedef struct {
    uint32_t mt[624];
    int pos;
    int has_gauss;       /* numpy caches the second normal of a pair */
    double gauss;
} mt19937;

void mt_seed(mt19937 *m, uint32_t seed);     /* numpy: np.random.seed(seed) */
uint32_t mt_next(mt19937 *m);                /* 32 random bits */
double mt_double(mt19937 *m);                /* np.random.random_sample() */
double mt_normal(mt19937 *m);                /* np.random.randn() */

#endif
