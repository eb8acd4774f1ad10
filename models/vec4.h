/* vec4.h — 4-wide vectors (GCC/Clang vector extensions; SSE on x86-64) for
 * scans (masks, not sums) and for element-wise loops: each lane does the
 * operations of the scalar loop, IEEE-rounded alike (and with
 * -ffp-contract=off no multiply and add are fused), so the bits are the
 * scalar loop's. Loads and stores go through memcpy: any alignment. */
#ifndef CHAINRULE_VEC4_H
#define CHAINRULE_VEC4_H

#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));

static inline v4f ld4(const float *p) { v4f v; memcpy(&v, p, sizeof v); return v; }
static inline void st4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

#endif
