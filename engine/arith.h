/* arith.h — private to the engine: the four arithmetic ops (add, sub, mul,
 * div) as a scalar forward and its derivative, shared by ops.c (which runs
 * them over tensors) and the sweep's scalar fast path in tape.h. */
#ifndef CHAINRULE_ARITH_H
#define CHAINRULE_ARITH_H

/* Forced inlining where a function pointer argument must fold away. */
#if defined(__GNUC__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE static inline
#endif

/* Each binary op is written once, as its scalar forward f and derivative
 * d; binary_op (ops.c) runs them over (broadcast) tensors; the scalar fast
 * paths, binary() in ops.c and backward_node() in tape.h, call the same two. */
typedef double (*bin_f)(double a, double b);
typedef void (*bin_d)(double g, double a, double b, double y, double *ga, double *gb);

// y = a + b;  dL/da += g;  dL/db += g
ALWAYS_INLINE double add_f(double a, double b) { return a + b; }
ALWAYS_INLINE void add_d(double g, double a, double b, double y, double *ga, double *gb)
{
    (void)a; (void)b; (void)y;
    *ga += g;
    *gb += g;
}

// y = a − b;  dL/da += g;  dL/db −= g
ALWAYS_INLINE double sub_f(double a, double b) { return a - b; }
ALWAYS_INLINE void sub_d(double g, double a, double b, double y, double *ga, double *gb)
{
    (void)a; (void)b; (void)y;
    *ga += g;
    *gb -= g;
}

// y = a·b;  dL/da += g·b;  dL/db += g·a
ALWAYS_INLINE double mul_f(double a, double b) { return a * b; }
ALWAYS_INLINE void mul_d(double g, double a, double b, double y, double *ga, double *gb)
{
    (void)y;
    *ga += g * b;
    *gb += g * a;
}

// y = a/b;  dL/da += g/b;  dL/db −= g·a/b² = g·y/b
ALWAYS_INLINE double div_f(double a, double b) { return a / b; }
ALWAYS_INLINE void div_d(double g, double a, double b, double y, double *ga, double *gb)
{
    (void)a;
    *ga += g / b;
    *gb -= g * y / b;
}

#endif
