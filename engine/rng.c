/* rng.c — xoshiro256** with SplitMix64 seeding, and numpy's legacy MT19937. */
#include <math.h>
#include <string.h>
#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* rng_uniform(r) < p  ⇔  (rng_next(r) >> 11) < T: the 53-bit integer a is
 * below p·2^53 (exact in double) when it is below its ceiling */
static uint64_t keep_threshold(double p)
{
    if (!(p > 0.0)) return 0;                      /* (NaN too: never below) */
    if (p >= 1.0) return (uint64_t)1 << 53;
    return (uint64_t)ceil(p * 0x1.0p53);
}

void rng_keep_u8(rng *r, uint8_t *out, size_t n, double p)
{
    uint64_t T = keep_threshold(p);
    for (size_t i = 0; i < n; i++) out[i] = (rng_next(r) >> 11) < T;
}

void rng_keep_f32(rng *r, float *out, size_t n, double p, float on)
{
    uint64_t T = keep_threshold(p);
    uint32_t ob;
    memcpy(&ob, &on, sizeof ob);
    for (size_t i = 0; i < n; i++) {    /* on's bits or +0's under a mask: no branch to mispredict */
        uint32_t v = ob & (0u - (uint32_t)((rng_next(r) >> 11) < T));
        memcpy(out + i, &v, sizeof v);
    }
}

double rng_range(rng *r, double lo, double hi) { return lo + (hi - lo) * rng_uniform(r); }

uint32_t rng_below(rng *r, uint32_t n)
{
    /* Lemire's multiply-and-reject: no modulo bias. */
    uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t floor = (uint32_t)-n % n;
        while (low < floor) {
            m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double rng_normal(rng *r)
{
    /* Marsaglia polar method; one of the pair is dropped so the stream
     * position depends only on the number of calls. */
    double x1, x2, s;
    do {
        x1 = 2.0 * rng_uniform(r) - 1.0;
        x2 = 2.0 * rng_uniform(r) - 1.0;
        s = x1 * x1 + x2 * x2;
    } while (s >= 1.0 || s == 0.0);
    return x1 * sqrt(-2.0 * log(s) / s);
}

void rng_shuffle(rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        uint32_t j = rng_below(r, (uint32_t)i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* ---- MT19937 as numpy's legacy RandomState ------------------------------ */

void mt_seed(mt19937 *m, uint32_t seed)
{
    /* init_genrand, which np.random.seed uses for an integer seed */
    m->mt[0] = seed;
    for (int i = 1; i < 624; i++)
        m->mt[i] = 1812433253U * (m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) + (uint32_t)i;
    m->pos = 624;
    m->has_gauss = 0;
    m->gauss = 0.0;
}

uint32_t mt_next(mt19937 *m)
{
    if (m->pos >= 624) {
        for (int i = 0; i < 624; i++) {
            uint32_t y = (m->mt[i] & 0x80000000U) | (m->mt[(i + 1) % 624] & 0x7fffffffU);
            m->mt[i] = m->mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
        }
        m->pos = 0;
    }
    uint32_t y = m->mt[m->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

double mt_double(mt19937 *m)
{
    /* 53 bits: the top 27 of one draw and the top 26 of the next */
    uint32_t a = mt_next(m) >> 5, b = mt_next(m) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

double mt_normal(mt19937 *m)
{
    if (m->has_gauss) {
        m->has_gauss = 0;
        return m->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * mt_double(m) - 1.0;
        x2 = 2.0 * mt_double(m) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    /* numpy returns f·x2 now and keeps f·x1 for the next call */
    m->gauss = f * x1;
    m->has_gauss = 1;
    return f * x2;
}
