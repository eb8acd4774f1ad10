/* ops.c — every operation of the tape, one function each, forward and
 * derivative side by side. A function is called with back = 0 to compute
 * the node's value from its operands, and with back = 1 to add the node's
 * gradient into its operands (gradients always accumulate, +=).
 *
 * Notation in the comments: y is this node, x (or a, b) its operands,
 * g = dL/dy the gradient arriving from above.
 *
 * Reading guide, top to bottom:
 *   - the derivative pairs: the arithmetic ops' scalar f and d in arith.h,
 *     the unary ops as f / d pairs (y = f(x), dy/dx), then matrices,
 *     reductions, softmax and the losses, each op's derivative in the
 *     comment on the line above the code that applies it;
 *   - run(): one switch from an op to its function, used by the forward
 *     replay (ops_forward) and by the sweep's general case (ops_backward);
 *   - the constructors op_*: shape rules, then the forward value;
 *   - the composites: softmax and cross-entropy written as explicit nodes.
 * Only for speed: the scalar fast paths — binary() when building a 1×1
 * node, and backward_node() in tape.h during the sweep — which call the
 * same arith.h functions as the general loops and give the same bits.
 * To add an op: its OP_ name in tape.h's op_kind, its name in names[], its
 * function here, its case in run(), its constructor below and in ops.h,
 * and its value and central-difference test in tests/test_ops.c.
 *
 * Not here: storage, the reverse loop and mark/rewind (graph.c).
 */
#include <math.h>
#include <string.h>
#include "tape.h"
#include "arith.h"
#include "ops.h"

static const char *const names[] = {
    [OP_LEAF] = "leaf",
    [OP_ADD] = "add", [OP_SUB] = "sub", [OP_MUL] = "mul", [OP_DIV] = "div",
    [OP_NEG] = "neg", [OP_SCALE] = "scale", [OP_POW] = "pow",
    [OP_EXP] = "exp", [OP_LOG] = "log", [OP_SQRT] = "sqrt", [OP_ABS] = "abs",
    [OP_SIN] = "sin", [OP_COS] = "cos", [OP_SINH] = "sinh", [OP_COSH] = "cosh",
    [OP_TANH] = "tanh", [OP_SIGMOID] = "sigmoid", [OP_RELU] = "relu",
    [OP_STANH] = "stanh",
    [OP_MATMUL] = "matmul", [OP_TRANSPOSE] = "transpose",
    [OP_SUM] = "sum", [OP_SUM_ROWS] = "sum_rows", [OP_SUM_COLS] = "sum_cols",
    [OP_MEAN] = "mean",
    [OP_SOFTMAX] = "softmax", [OP_LOG_SOFTMAX] = "log_softmax",
    [OP_SOFTMAX_CE] = "softmax_ce", [OP_MSE] = "mse",
    [OP_RESHAPE] = "reshape", [OP_CONV2D] = "conv2d", [OP_MAXPOOL2D] = "maxpool2d",
    [OP_BN_TRAIN] = "batchnorm", [OP_BN_INFER] = "batchnorm_infer",
};
/* Unsized, so a new op at the end of op_kind without a name fails here;
 * test_graph checks that no name in the middle is missing. */
_Static_assert(sizeof names / sizeof names[0] == OP_COUNT, "one name per op");

const char *tape_op_name(unsigned k)
{
    return (unsigned)k < OP_COUNT && names[k] ? names[k] : "?";
}

#define REC(id) (&g->nodes[(id)])
#define VAL(id) (g->val + g->nodes[(id)].off)
#define GRAD(id) (g->grad + g->nodes[(id)].off)

/* ---- element-wise binary ops, numpy broadcasting in 2-D ---------------- */

/* Index of output element (i, j) in an operand of shape ar × ac. */
static inline uint32_t bidx(uint32_t ar, uint32_t ac, uint32_t i, uint32_t j)
{
    return (ar == 1 ? 0 : i) * ac + (ac == 1 ? 0 : j);
}

/* Visits every output element e with its operand indices ia, ib. The
 * common case, equal shapes, is one flat loop. */
#define EACH_PAIR(r, ra, rb, BODY)                                            \
    do {                                                                      \
        uint32_t n_ = (r)->rows * (r)->cols;                                  \
        if ((ra)->rows * (ra)->cols == n_ && (rb)->rows * (rb)->cols == n_) { \
            for (uint32_t e = 0; e < n_; e++) {                               \
                uint32_t ia = e, ib = e;                                      \
                BODY                                                          \
            }                                                                 \
        } else {                                                              \
            for (uint32_t i_ = 0; i_ < (r)->rows; i_++)                       \
                for (uint32_t j_ = 0; j_ < (r)->cols; j_++) {                 \
                    uint32_t e = i_ * (r)->cols + j_;                         \
                    uint32_t ia = bidx((ra)->rows, (ra)->cols, i_, j_);       \
                    uint32_t ib = bidx((rb)->rows, (rb)->cols, i_, j_);       \
                    BODY                                                      \
                }                                                             \
        }                                                                     \
    } while (0)

/* The four arithmetic ops, as scalar forward f and derivative d, are in
 * arith.h: the sweep's scalar fast path (tape.h) applies the same d. */

ALWAYS_INLINE void binary_op(graph *g, const nrec *r, int back, bin_f f, bin_d d)
{
    const nrec *ra = REC(r->a), *rb = REC(r->b);
    const double *a = VAL(r->a), *b = VAL(r->b);
    double *y = g->val + r->off;
    const double *gy = g->grad + r->off;
    double *ga = GRAD(r->a), *gb = GRAD(r->b);
    if (!back) EACH_PAIR(r, ra, rb, { y[e] = f(a[ia], b[ib]); });
    else EACH_PAIR(r, ra, rb, { d(gy[e], a[ia], b[ib], y[e], &ga[ia], &gb[ib]); });
}

static inline void add_op(graph *g, const nrec *r, int back) { binary_op(g, r, back, add_f, add_d); }
static inline void sub_op(graph *g, const nrec *r, int back) { binary_op(g, r, back, sub_f, sub_d); }
static inline void mul_op(graph *g, const nrec *r, int back) { binary_op(g, r, back, mul_f, mul_d); }
static inline void div_op(graph *g, const nrec *r, int back) { binary_op(g, r, back, div_f, div_d); }

/* ---- element-wise unary ops -------------------------------------------- */

/* Each unary op is its forward f and its local derivative dy/dx, written
 * from x and y = f(x) (and the op's constant k); unary_op runs them:
 * forward y = f(x), backward dL/dx += dL/dy · dy/dx. */
typedef double (*un_f)(double x, double k);
typedef double (*un_d)(double x, double y, double k);

// y = −x;  dy/dx = −1
ALWAYS_INLINE double neg_f(double x, double k) { (void)k; return -x; }
ALWAYS_INLINE double neg_d(double x, double y, double k) { (void)x; (void)y; (void)k; return -1.0; }

// y = k·x;  dy/dx = k
ALWAYS_INLINE double scale_f(double x, double k) { return k * x; }
ALWAYS_INLINE double scale_d(double x, double y, double k) { (void)x; (void)y; return k; }

// y = x^p (p = k);  dy/dx = p·x^(p−1)
ALWAYS_INLINE double pow_f(double x, double k) { return pow(x, k); }
ALWAYS_INLINE double pow_d(double x, double y, double k) { (void)y; return k * pow(x, k - 1.0); }

// y = e^x;  dy/dx = y
ALWAYS_INLINE double exp_f(double x, double k) { (void)k; return exp(x); }
ALWAYS_INLINE double exp_d(double x, double y, double k) { (void)x; (void)k; return y; }

// y = log x;  dy/dx = 1/x
ALWAYS_INLINE double log_f(double x, double k) { (void)k; return log(x); }
ALWAYS_INLINE double log_d(double x, double y, double k) { (void)y; (void)k; return 1.0 / x; }

// y = √x;  dy/dx = 1/(2y)
ALWAYS_INLINE double sqrt_f(double x, double k) { (void)k; return sqrt(x); }
ALWAYS_INLINE double sqrt_d(double x, double y, double k) { (void)x; (void)k; return 1.0 / (2.0 * y); }

// y = |x|;  dy/dx = sign(x), 0 at the kink x = 0
ALWAYS_INLINE double abs_f(double x, double k) { (void)k; return fabs(x); }
ALWAYS_INLINE double abs_d(double x, double y, double k) { (void)y; (void)k; return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

// y = sin x;  dy/dx = cos x
ALWAYS_INLINE double sin_f(double x, double k) { (void)k; return sin(x); }
ALWAYS_INLINE double sin_d(double x, double y, double k) { (void)y; (void)k; return cos(x); }

// y = cos x;  dy/dx = −sin x
ALWAYS_INLINE double cos_f(double x, double k) { (void)k; return cos(x); }
ALWAYS_INLINE double cos_d(double x, double y, double k) { (void)y; (void)k; return -sin(x); }

// y = sinh x;  dy/dx = cosh x
ALWAYS_INLINE double sinh_f(double x, double k) { (void)k; return sinh(x); }
ALWAYS_INLINE double sinh_d(double x, double y, double k) { (void)y; (void)k; return cosh(x); }

// y = cosh x;  dy/dx = sinh x
ALWAYS_INLINE double cosh_f(double x, double k) { (void)k; return cosh(x); }
ALWAYS_INLINE double cosh_d(double x, double y, double k) { (void)y; (void)k; return sinh(x); }

// y = tanh x;  dy/dx = 1 − y²
ALWAYS_INLINE double tanh_f(double x, double k) { (void)k; return tanh(x); }
ALWAYS_INLINE double tanh_d(double x, double y, double k) { (void)x; (void)k; return 1.0 - y * y; }

// y = σ(x) = 1/(1 + e^−x), without overflow: e^x/(1 + e^x) for x < 0;  dy/dx = y(1 − y)
ALWAYS_INLINE double sigmoid_f(double x, double k)
{
    (void)k;
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double z = exp(x);
    return z / (1.0 + z);
}
ALWAYS_INLINE double sigmoid_d(double x, double y, double k) { (void)x; (void)k; return y * (1.0 - y); }

// y = max(0, x);  dy/dx = [x > 0], 0 at the kink (as PyTorch)
ALWAYS_INLINE double relu_f(double x, double k) { (void)k; return x > 0 ? x : 0.0; }
ALWAYS_INLINE double relu_d(double x, double y, double k) { (void)y; (void)k; return x > 0 ? 1.0 : 0.0; }

/* LeCun's scaled tanh, "Efficient BackProp" §4.4: f(±1) ≈ ±1. */
#define STANH_A 1.7159
#define STANH_S (2.0 / 3.0)

// y = A·tanh(Sx);  dy/dx = A·S·(1 − tanh²(Sx)) = S·(A − y²/A)
ALWAYS_INLINE double stanh_f(double x, double k) { (void)k; return STANH_A * tanh(STANH_S * x); }
ALWAYS_INLINE double stanh_d(double x, double y, double k) { (void)x; (void)k; return STANH_S * (STANH_A - y * y / STANH_A); }

ALWAYS_INLINE void unary_op(graph *g, const nrec *r, int back, un_f f, un_d d)
{
    uint32_t n = r->rows * r->cols;
    const double *x = VAL(r->a);
    double *y = g->val + r->off;
    const double *gy = g->grad + r->off;
    double *gx = GRAD(r->a);
    if (!back) for (uint32_t e = 0; e < n; e++) y[e] = f(x[e], r->k);
    else for (uint32_t e = 0; e < n; e++) gx[e] += gy[e] * d(x[e], y[e], r->k);
}

/* ---- matrices ----------------------------------------------------------- */

static inline void matmul_op(graph *g, const nrec *r, int back)
{
    // a is (R, K), b is (K, C), y is (R, C)
    const nrec *ra = REC(r->a);
    uint32_t R = r->rows, K = ra->cols, C = r->cols;
    const double *a = VAL(r->a), *b = VAL(r->b);
    double *y = g->val + r->off;
    const double *gy = g->grad + r->off;
    double *ga = GRAD(r->a), *gb = GRAD(r->b);
    if (!back) {
        // y_ij = Σ_k a_ik b_kj
        for (uint32_t i = 0; i < R; i++) {
            double *yi = y + (size_t)i * C;
            for (uint32_t j = 0; j < C; j++) yi[j] = 0.0;
            for (uint32_t k = 0; k < K; k++) {
                double aik = a[(size_t)i * K + k];
                const double *bk = b + (size_t)k * C;
                for (uint32_t j = 0; j < C; j++) yi[j] += aik * bk[j];
            }
        }
        return;
    }
    // dL/da = g·bᵀ:  dL/da_ik += Σ_j g_ij b_kj
    // dL/db = aᵀ·g:  dL/db_kj += Σ_i a_ik g_ij
    for (uint32_t i = 0; i < R; i++) {
        const double *gi = gy + (size_t)i * C;
        for (uint32_t k = 0; k < K; k++) {
            const double *bk = b + (size_t)k * C;
            double *gbk = gb + (size_t)k * C;
            double aik = a[(size_t)i * K + k], s = 0.0;
            for (uint32_t j = 0; j < C; j++) {
                s += gi[j] * bk[j];
                gbk[j] += aik * gi[j];
            }
            ga[(size_t)i * K + k] += s;
        }
    }
}

static inline void transpose_op(graph *g, const nrec *r, int back)
{
    // x is (C, R), y is (R, C): y_ij = x_ji
    uint32_t R = r->rows, C = r->cols;
    const double *x = VAL(r->a);
    double *y = g->val + r->off;
    const double *gy = g->grad + r->off;
    double *gx = GRAD(r->a);
    if (!back) {
        for (uint32_t i = 0; i < R; i++)
            for (uint32_t j = 0; j < C; j++) y[i * C + j] = x[j * R + i];
        return;
    }
    // dL/dx_ji += g_ij
    for (uint32_t i = 0; i < R; i++)
        for (uint32_t j = 0; j < C; j++) gx[j * R + i] += gy[i * C + j];
}

/* ---- reductions --------------------------------------------------------- */

static inline void sum_op(graph *g, const nrec *r, int back)
{
    const nrec *rx = REC(r->a);
    uint32_t n = rx->rows * rx->cols;
    const double *x = VAL(r->a);
    double *gx = GRAD(r->a);
    if (!back) {
        double s = 0.0;
        for (uint32_t e = 0; e < n; e++) s += x[e];
        g->val[r->off] = s;
        return;
    }
    // y = Σ x;  dL/dx_e += g
    double gy = g->grad[r->off];
    for (uint32_t e = 0; e < n; e++) gx[e] += gy;
}

static inline void mean_op(graph *g, const nrec *r, int back)
{
    const nrec *rx = REC(r->a);
    uint32_t n = rx->rows * rx->cols;
    const double *x = VAL(r->a);
    double *gx = GRAD(r->a);
    if (!back) {
        double s = 0.0;
        for (uint32_t e = 0; e < n; e++) s += x[e];
        g->val[r->off] = s / n;
        return;
    }
    // y = (1/n) Σ x;  dL/dx_e += g/n
    double gy = g->grad[r->off] / n;
    for (uint32_t e = 0; e < n; e++) gx[e] += gy;
}

static inline void sum_rows_op(graph *g, const nrec *r, int back)
{
    // x is (R, C), y is (R, 1)
    const nrec *rx = REC(r->a);
    uint32_t R = rx->rows, C = rx->cols;
    const double *x = VAL(r->a);
    double *y = g->val + r->off, *gx = GRAD(r->a);
    const double *gy = g->grad + r->off;
    if (!back) {
        for (uint32_t i = 0; i < R; i++) {
            double s = 0.0;
            for (uint32_t j = 0; j < C; j++) s += x[i * C + j];
            y[i] = s;
        }
        return;
    }
    // y_i = Σ_j x_ij;  dL/dx_ij += g_i
    for (uint32_t i = 0; i < R; i++)
        for (uint32_t j = 0; j < C; j++) gx[i * C + j] += gy[i];
}

static inline void sum_cols_op(graph *g, const nrec *r, int back)
{
    // x is (R, C), y is (1, C)
    const nrec *rx = REC(r->a);
    uint32_t R = rx->rows, C = rx->cols;
    const double *x = VAL(r->a);
    double *y = g->val + r->off, *gx = GRAD(r->a);
    const double *gy = g->grad + r->off;
    if (!back) {
        for (uint32_t j = 0; j < C; j++) y[j] = 0.0;
        for (uint32_t i = 0; i < R; i++)
            for (uint32_t j = 0; j < C; j++) y[j] += x[i * C + j];
        return;
    }
    // y_j = Σ_i x_ij;  dL/dx_ij += g_j
    for (uint32_t i = 0; i < R; i++)
        for (uint32_t j = 0; j < C; j++) gx[i * C + j] += gy[j];
}

/* ---- softmax and losses ------------------------------------------------- */

/* Row-wise log Σ_j e^{x_j}, shifted by the row maximum so e^{…} ≤ 1. */
static double logsumexp(const double *x, uint32_t C)
{
    double m = x[0], s = 0.0;
    for (uint32_t j = 1; j < C; j++) if (x[j] > m) m = x[j];
    for (uint32_t j = 0; j < C; j++) s += exp(x[j] - m);
    return m + log(s);
}

static inline void softmax_op(graph *g, const nrec *r, int back)
{
    // o is (R, C), y is (R, C), each row y_i = softmax(o_i)
    uint32_t R = r->rows, C = r->cols;
    const double *o = VAL(r->a);
    double *y = g->val + r->off, *go = GRAD(r->a);
    const double *gy = g->grad + r->off;
    if (!back) {
        for (uint32_t i = 0; i < R; i++) {
            double lse = logsumexp(o + i * C, C);
            for (uint32_t j = 0; j < C; j++) y[i * C + j] = exp(o[i * C + j] - lse);
        }
        return;
    }
    // ∂y_k/∂o_j = y_k(δ_kj − y_j), so dL/do_j += Σ_k g_k y_k(δ_kj − y_j)
    //                                         = y_j (g_j − Σ_k g_k y_k)
    for (uint32_t i = 0; i < R; i++) {
        const double *yi = y + i * C, *gi = gy + i * C;
        double dot = 0.0;
        for (uint32_t k = 0; k < C; k++) dot += gi[k] * yi[k];
        for (uint32_t j = 0; j < C; j++) go[i * C + j] += yi[j] * (gi[j] - dot);
    }
}

static inline void log_softmax_op(graph *g, const nrec *r, int back)
{
    uint32_t R = r->rows, C = r->cols;
    const double *o = VAL(r->a);
    double *y = g->val + r->off, *go = GRAD(r->a);
    const double *gy = g->grad + r->off;
    if (!back) {
        for (uint32_t i = 0; i < R; i++) {
            double lse = logsumexp(o + i * C, C);
            for (uint32_t j = 0; j < C; j++) y[i * C + j] = o[i * C + j] - lse;
        }
        return;
    }
    // y_k = o_k − log Σ e^o, ∂y_k/∂o_j = δ_kj − softmax_j:
    // dL/do_j += g_j − e^{y_j} Σ_k g_k
    for (uint32_t i = 0; i < R; i++) {
        const double *gi = gy + i * C;
        double s = 0.0;
        for (uint32_t k = 0; k < C; k++) s += gi[k];
        for (uint32_t j = 0; j < C; j++) go[i * C + j] += gi[j] - exp(y[i * C + j]) * s;
    }
}

static inline void softmax_ce_op(graph *g, const nrec *r, int back)
{
    // o and t are (R, C); y = (1/R) Σ_i −Σ_j t_ij log softmax(o_i)_j
    const nrec *ro = REC(r->a);
    uint32_t R = ro->rows, C = ro->cols;
    const double *o = VAL(r->a), *t = VAL(r->b);
    double *go = GRAD(r->a), *gt = GRAD(r->b);
    if (!back) {
        double loss = 0.0;
        for (uint32_t i = 0; i < R; i++) {
            double lse = logsumexp(o + i * C, C);
            for (uint32_t j = 0; j < C; j++)
                if (t[i * C + j] != 0.0) loss -= t[i * C + j] * (o[i * C + j] - lse);
        }
        g->val[r->off] = loss / R;
        return;
    }
    // dL/do_ij += g/R · (y_ij Σ_k t_ik − t_ij)   = g/R · (y − t) for one-hot t
    // dL/dt_ij −= g/R · log y_ij
    double gR = g->grad[r->off] / R;
    for (uint32_t i = 0; i < R; i++) {
        const double *oi = o + i * C, *ti = t + i * C;
        double lse = logsumexp(oi, C), st = 0.0;
        for (uint32_t k = 0; k < C; k++) st += ti[k];
        for (uint32_t j = 0; j < C; j++) {
            double ly = oi[j] - lse;
            go[i * C + j] += gR * (exp(ly) * st - ti[j]);
            gt[i * C + j] -= gR * ly;
        }
    }
}

static inline void mse_op(graph *g, const nrec *r, int back)
{
    // a and b are (R, C); y = (1/n) Σ (a − b)²
    const nrec *ra = REC(r->a);
    uint32_t n = ra->rows * ra->cols;
    const double *a = VAL(r->a), *b = VAL(r->b);
    double *ga = GRAD(r->a), *gb = GRAD(r->b);
    if (!back) {
        double s = 0.0;
        for (uint32_t e = 0; e < n; e++) s += (a[e] - b[e]) * (a[e] - b[e]);
        g->val[r->off] = s / n;
        return;
    }
    // dL/da += g·2(a − b)/n;  dL/db −= g·2(a − b)/n
    double k = 2.0 * g->grad[r->off] / n;
    for (uint32_t e = 0; e < n; e++) {
        double d = k * (a[e] - b[e]);
        ga[e] += d;
        gb[e] -= d;
    }
}

/* ---- convolutional layers ------------------------------------------------
 * Images are NHWC rows: a batch of B images of H × W pixels and C channels
 * is a B × (H·W·C) node whose row b holds image b, element ((y·W + x)·C + c).
 * Conv and pool keep their 4-D parameters in the tape's side array g->aux
 * (the node's k is the first index), so the node record stays 32 bytes. */

/* aux layout of a conv node: H, W, C, k, p (the padding each side), Ho, Wo */
enum { CV_H, CV_W, CV_C, CV_K, CV_P, CV_HO, CV_WO, CV_N };
/* aux layout of a pool node: H, W, C, k */
enum { PL_H, PL_W, PL_C, PL_K, PL_N };

static inline const uint32_t *aux_of(const graph *g, const nrec *r) { return g->aux + (uint32_t)r->k; }

static inline void reshape_op(graph *g, const nrec *r, int back)
{
    // y is x's elements in the same row-major order, another rows × cols
    uint32_t n = r->rows * r->cols;
    const double *x = VAL(r->a);
    double *y = g->val + r->off, *gx = GRAD(r->a);
    const double *gy = g->grad + r->off;
    if (!back) { memcpy(y, x, n * sizeof *y); return; }
    // y_e = x_e;  dL/dx_e += g_e
    for (uint32_t e = 0; e < n; e++) gx[e] += gy[e];
}

static inline void conv2d_op(graph *g, const nrec *r, int back)
{
    // x is (B, H, W, C), w is (k, k, C, F) = the (k·k·C) × F matrix, y is (B, Ho, Wo, F)
    const uint32_t *s = aux_of(g, r);
    uint32_t B = r->rows, H = s[CV_H], W = s[CV_W], C = s[CV_C], k = s[CV_K];
    uint32_t Ho = s[CV_HO], Wo = s[CV_WO], F = REC(r->b)->cols;
    int p = (int)s[CV_P];
    const double *x = VAL(r->a), *w = VAL(r->b);
    double *y = g->val + r->off, *gx = GRAD(r->a), *gw = GRAD(r->b);
    const double *gy = g->grad + r->off;
    if (!back) memset(y, 0, (size_t)r->rows * r->cols * sizeof *y);
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t oy = 0; oy < Ho; oy++)
            for (uint32_t ox = 0; ox < Wo; ox++) {
                size_t o = (((size_t)b * Ho + oy) * Wo + ox) * F;
                for (uint32_t dy = 0; dy < k; dy++) {
                    int iy = (int)(oy + dy) - p;
                    if (iy < 0 || iy >= (int)H) continue;   /* outside the image: 0 */
                    for (uint32_t dx = 0; dx < k; dx++) {
                        int ix = (int)(ox + dx) - p;
                        if (ix < 0 || ix >= (int)W) continue;
                        size_t i = (((size_t)b * H + (uint32_t)iy) * W + (uint32_t)ix) * C;
                        for (uint32_t c = 0; c < C; c++) {
                            const double *wr = w + ((size_t)(dy * k + dx) * C + c) * F;
                            double *gwr = gw + ((size_t)(dy * k + dx) * C + c) * F;
                            double xv = x[i + c], sx = 0.0;
                            if (!back) {
                                // y[b][oy][ox][f] = Σ_{dy,dx,c} x[b][oy+dy−p][ox+dx−p][c] · w[dy][dx][c][f]
                                for (uint32_t f = 0; f < F; f++) y[o + f] += xv * wr[f];
                                continue;
                            }
                            // dL/dx[b][iy][ix][c] += Σ_f g[b][oy][ox][f] · w[dy][dx][c][f]
                            // dL/dw[dy][dx][c][f] += x[b][iy][ix][c] · g[b][oy][ox][f]
                            for (uint32_t f = 0; f < F; f++) {
                                sx += gy[o + f] * wr[f];
                                gwr[f] += xv * gy[o + f];
                            }
                            gx[i + c] += sx;
                        }
                    }
                }
            }
}

static inline void maxpool2d_op(graph *g, const nrec *r, int back)
{
    // x is (B, H, W, C), y is (B, H/k, W/k, C): the maximum of each k × k window
    const uint32_t *s = aux_of(g, r);
    uint32_t B = r->rows, H = s[PL_H], W = s[PL_W], C = s[PL_C], k = s[PL_K];
    uint32_t Hp = H / k, Wp = W / k;
    const double *x = VAL(r->a);
    double *y = g->val + r->off, *gx = GRAD(r->a);
    const double *gy = g->grad + r->off;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t py = 0; py < Hp; py++)
            for (uint32_t px = 0; px < Wp; px++)
                for (uint32_t c = 0; c < C; c++) {
                    /* the FIRST maximum in row-major window order (strict >) */
                    size_t best = (((size_t)b * H + py * k) * W + px * k) * C + c;
                    for (uint32_t dy = 0; dy < k; dy++)
                        for (uint32_t dx = 0; dx < k; dx++) {
                            size_t i = (((size_t)b * H + py * k + dy) * W + px * k + dx) * C + c;
                            if (x[i] > x[best]) best = i;
                        }
                    size_t o = (((size_t)b * Hp + py) * Wp + px) * C + c;
                    if (!back) { y[o] = x[best]; continue; }
                    // y = x[best];  dL/dx[best] += g, the other window entries get 0
                    gx[best] += gy[o];
                }
}

/* Mean and 1/σ = 1/√(var + ε) of column c of x (N, C), var biased (÷ N). */
static void column_stats(const double *x, uint32_t N, uint32_t C, uint32_t c, double eps,
                         double *mean, double *istd)
{
    double s = 0.0, v = 0.0;
    for (uint32_t i = 0; i < N; i++) s += x[(size_t)i * C + c];
    double m = s / N;
    for (uint32_t i = 0; i < N; i++) {
        double d = x[(size_t)i * C + c] - m;
        v += d * d;
    }
    *mean = m;
    *istd = 1.0 / sqrt(v / N + eps);
}

static inline void bn_train_op(graph *g, const nrec *r, int back)
{
    // x is (N, C), γ is (1, C) or absent (γ = 1), ε = k; per column c:
    // x̂ = (x − μ)/σ, μ = mean, σ = √(biased var + ε);  y = γ·x̂
    uint32_t N = r->rows, C = r->cols;
    const double *x = VAL(r->a), *gam = r->b == NO_NODE ? NULL : VAL(r->b);
    double *y = g->val + r->off, *gx = GRAD(r->a), *gg = gam ? GRAD(r->b) : NULL;
    const double *gy = g->grad + r->off;
    for (uint32_t c = 0; c < C; c++) {
        double m, is, gc = gam ? gam[c] : 1.0;
        column_stats(x, N, C, c, r->k, &m, &is);
        if (!back) {
            for (uint32_t i = 0; i < N; i++) y[(size_t)i * C + c] = gc * ((x[(size_t)i * C + c] - m) * is);
            continue;
        }
        double sg = 0.0, sgx = 0.0;
        for (uint32_t i = 0; i < N; i++) {
            double xh = (x[(size_t)i * C + c] - m) * is;
            sg += gy[(size_t)i * C + c];
            sgx += gy[(size_t)i * C + c] * xh;
        }
        // dL/dx = γ/(Nσ) · (N·g − Σg − x̂·Σ(g·x̂))   (μ and σ depend on every x of the column)
        for (uint32_t i = 0; i < N; i++) {
            double xh = (x[(size_t)i * C + c] - m) * is;
            gx[(size_t)i * C + c] += gc * is / N * (N * gy[(size_t)i * C + c] - sg - xh * sgx);
        }
        // dL/dγ_c += Σ_i g_ic · x̂_ic
        if (gg) gg[c] += sgx;
    }
}

static inline void bn_infer_op(graph *g, const nrec *r, int back)
{
    // x is (N, C), s is (2, C): row 0 the running mean μ, row 1 the running
    // variance v; ε = k.  y = (x − μ)/σ, σ = √(v + ε)
    uint32_t N = r->rows, C = r->cols;
    const double *x = VAL(r->a), *st = VAL(r->b);
    double *y = g->val + r->off, *gx = GRAD(r->a), *gs = GRAD(r->b);
    const double *gy = g->grad + r->off;
    for (uint32_t c = 0; c < C; c++) {
        double m = st[c], is = 1.0 / sqrt(st[C + c] + r->k);
        if (!back) {
            for (uint32_t i = 0; i < N; i++) y[(size_t)i * C + c] = (x[(size_t)i * C + c] - m) * is;
            continue;
        }
        double sg = 0.0, sgy = 0.0;
        for (uint32_t i = 0; i < N; i++) {
            double gi = gy[(size_t)i * C + c];
            // dL/dx = g/σ
            gx[(size_t)i * C + c] += gi * is;
            sg += gi;
            sgy += gi * y[(size_t)i * C + c];
        }
        // dL/dμ += −Σg/σ;  dL/dv += Σ g·(−½)(x − μ)/σ³ = −½ Σ g·y / σ²
        gs[c] -= sg * is;
        gs[C + c] -= 0.5 * sgy * is * is;
    }
}

/* ---- dispatch ------------------------------------------------------------ */

/* One switch over every op; with the op functions inline, each case is the
 * op's own code, and -Wswitch (in -Wall) checks that no op is missing. */
static inline void run(graph *g, op_kind op, const nrec *r, int back)
{
    switch (op) {
    case OP_LEAF: break;
    case OP_ADD: add_op(g, r, back); break;
    case OP_SUB: sub_op(g, r, back); break;
    case OP_MUL: mul_op(g, r, back); break;
    case OP_DIV: div_op(g, r, back); break;
    case OP_NEG: unary_op(g, r, back, neg_f, neg_d); break;
    case OP_SCALE: unary_op(g, r, back, scale_f, scale_d); break;
    case OP_POW: unary_op(g, r, back, pow_f, pow_d); break;
    case OP_EXP: unary_op(g, r, back, exp_f, exp_d); break;
    case OP_LOG: unary_op(g, r, back, log_f, log_d); break;
    case OP_SQRT: unary_op(g, r, back, sqrt_f, sqrt_d); break;
    case OP_ABS: unary_op(g, r, back, abs_f, abs_d); break;
    case OP_SIN: unary_op(g, r, back, sin_f, sin_d); break;
    case OP_COS: unary_op(g, r, back, cos_f, cos_d); break;
    case OP_SINH: unary_op(g, r, back, sinh_f, sinh_d); break;
    case OP_COSH: unary_op(g, r, back, cosh_f, cosh_d); break;
    case OP_TANH: unary_op(g, r, back, tanh_f, tanh_d); break;
    case OP_SIGMOID: unary_op(g, r, back, sigmoid_f, sigmoid_d); break;
    case OP_RELU: unary_op(g, r, back, relu_f, relu_d); break;
    case OP_STANH: unary_op(g, r, back, stanh_f, stanh_d); break;
    case OP_MATMUL: matmul_op(g, r, back); break;
    case OP_TRANSPOSE: transpose_op(g, r, back); break;
    case OP_SUM: sum_op(g, r, back); break;
    case OP_SUM_ROWS: sum_rows_op(g, r, back); break;
    case OP_SUM_COLS: sum_cols_op(g, r, back); break;
    case OP_MEAN: mean_op(g, r, back); break;
    case OP_SOFTMAX: softmax_op(g, r, back); break;
    case OP_LOG_SOFTMAX: log_softmax_op(g, r, back); break;
    case OP_SOFTMAX_CE: softmax_ce_op(g, r, back); break;
    case OP_MSE: mse_op(g, r, back); break;
    case OP_RESHAPE: reshape_op(g, r, back); break;
    case OP_CONV2D: conv2d_op(g, r, back); break;
    case OP_MAXPOOL2D: maxpool2d_op(g, r, back); break;
    case OP_BN_TRAIN: bn_train_op(g, r, back); break;
    case OP_BN_INFER: bn_infer_op(g, r, back); break;
    case OP_COUNT: FAIL("op %d on the tape is not an op", (int)op);
    }
}

void ops_forward(graph *g, uint32_t i) { run(g, g->nodes[i].op, &g->nodes[i], 0); }
void ops_backward(graph *g, const nrec *r) { run(g, r->op, r, 1); }

/* ---- constructors: shape rules, then the forward value ------------------ */

static inline node make(graph *g, op_kind op, uint32_t rows, uint32_t cols, node a, node b, double k)
{
    uint32_t i = tape_push(g, op, rows, cols, a.id, b.id, k);
    run(g, op, &g->nodes[i], 0);
    return (node){i};
}

static const node NONE = {NO_NODE};

/* The broadcasting shape rule; out of line so the scalar path stays small. */
static node binary_general(graph *g, op_kind op, node a, node b)
{
    const nrec *ra = tape_rec(g, a), *rb = tape_rec(g, b);
    uint32_t R, C;
    if (ra->rows == rb->rows || rb->rows == 1) R = ra->rows;
    else if (ra->rows == 1) R = rb->rows;
    else R = 0;
    if (ra->cols == rb->cols || rb->cols == 1) C = ra->cols;
    else if (ra->cols == 1) C = rb->cols;
    else C = 0;
    ASSERT(R && C, "op_%s: shapes %ux%u and %ux%u do not broadcast",
                tape_op_name(op), ra->rows, ra->cols, rb->rows, rb->cols);
    return make(g, op, R, C, a, b, 0);
}

ALWAYS_INLINE node binary(graph *g, op_kind op, bin_f f, node a, node b)
{
    const nrec *ra = tape_rec(g, a), *rb = tape_rec(g, b);
    if ((ra->rows | ra->cols | rb->rows | rb->cols) != 1) return binary_general(g, op, a, b);
    /* scalar fast path: read the operands before the arena may move */
    double x = g->val[ra->off], z = g->val[rb->off];
    uint32_t i = tape_push(g, op, 1, 1, a.id, b.id, 0);
    g->val[g->nodes[i].off] = f(x, z);
    return (node){i};
}

node op_add(graph *g, node a, node b) { return binary(g, OP_ADD, add_f, a, b); }
node op_sub(graph *g, node a, node b) { return binary(g, OP_SUB, sub_f, a, b); }
node op_mul(graph *g, node a, node b) { return binary(g, OP_MUL, mul_f, a, b); }
node op_div(graph *g, node a, node b) { return binary(g, OP_DIV, div_f, a, b); }

static inline node unary(graph *g, op_kind op, node a, double k)
{
    const nrec *ra = tape_rec(g, a);
    return make(g, op, ra->rows, ra->cols, a, NONE, k);
}

node op_neg(graph *g, node a) { return unary(g, OP_NEG, a, 0); }
node op_scale(graph *g, node a, double k) { return unary(g, OP_SCALE, a, k); }
node op_pow(graph *g, node a, double p) { return unary(g, OP_POW, a, p); }
node op_exp(graph *g, node a) { return unary(g, OP_EXP, a, 0); }
node op_log(graph *g, node a) { return unary(g, OP_LOG, a, 0); }
node op_sqrt(graph *g, node a) { return unary(g, OP_SQRT, a, 0); }
node op_abs(graph *g, node a) { return unary(g, OP_ABS, a, 0); }
node op_sin(graph *g, node a) { return unary(g, OP_SIN, a, 0); }
node op_cos(graph *g, node a) { return unary(g, OP_COS, a, 0); }
node op_sinh(graph *g, node a) { return unary(g, OP_SINH, a, 0); }
node op_cosh(graph *g, node a) { return unary(g, OP_COSH, a, 0); }
node op_tanh(graph *g, node a) { return unary(g, OP_TANH, a, 0); }
node op_sigmoid(graph *g, node a) { return unary(g, OP_SIGMOID, a, 0); }
node op_relu(graph *g, node a) { return unary(g, OP_RELU, a, 0); }
node op_stanh(graph *g, node a) { return unary(g, OP_STANH, a, 0); }
node op_softmax(graph *g, node o) { return unary(g, OP_SOFTMAX, o, 0); }
node op_log_softmax(graph *g, node o) { return unary(g, OP_LOG_SOFTMAX, o, 0); }

node op_matmul(graph *g, node a, node b)
{
    const nrec *ra = tape_rec(g, a), *rb = tape_rec(g, b);
    ASSERT(ra->cols == rb->rows, "op_matmul: shapes %ux%u and %ux%u: inner sizes %u and %u differ",
                ra->rows, ra->cols, rb->rows, rb->cols, ra->cols, rb->rows);
    return make(g, OP_MATMUL, ra->rows, rb->cols, a, b, 0);
}

node op_transpose(graph *g, node a)
{
    const nrec *ra = tape_rec(g, a);
    return make(g, OP_TRANSPOSE, ra->cols, ra->rows, a, NONE, 0);
}

node op_add_row(graph *g, node x, node b)
{
    const nrec *rx = tape_rec(g, x), *rb = tape_rec(g, b);
    ASSERT(rb->rows == 1 && rb->cols == rx->cols,
                "op_add_row: bias %ux%u is not one row of %u for x %ux%u",
                rb->rows, rb->cols, rx->cols, rx->rows, rx->cols);
    return make(g, OP_ADD, rx->rows, rx->cols, x, b, 0);
}

node op_sum(graph *g, node a) { tape_rec(g, a); return make(g, OP_SUM, 1, 1, a, NONE, 0); }
node op_mean(graph *g, node a) { tape_rec(g, a); return make(g, OP_MEAN, 1, 1, a, NONE, 0); }
node op_sum_rows(graph *g, node a) { return make(g, OP_SUM_ROWS, tape_rec(g, a)->rows, 1, a, NONE, 0); }
node op_sum_cols(graph *g, node a) { return make(g, OP_SUM_COLS, 1, tape_rec(g, a)->cols, a, NONE, 0); }

node op_softmax_ce(graph *g, node o, node t)
{
    const nrec *ro = tape_rec(g, o), *rt = tape_rec(g, t);
    ASSERT(ro->rows == rt->rows && ro->cols == rt->cols,
                "op_softmax_ce: logits %ux%u and targets %ux%u differ",
                ro->rows, ro->cols, rt->rows, rt->cols);
    return make(g, OP_SOFTMAX_CE, 1, 1, o, t, 0);
}

node op_mse(graph *g, node a, node b)
{
    const nrec *ra = tape_rec(g, a), *rb = tape_rec(g, b);
    ASSERT(ra->rows == rb->rows && ra->cols == rb->cols,
                "op_mse: shapes %ux%u and %ux%u differ", ra->rows, ra->cols, rb->rows, rb->cols);
    return make(g, OP_MSE, 1, 1, a, b, 0);
}

/* ---- composites: the same functions written as explicit nodes ----------- */

node op_softmax_composite(graph *g, node o)
{
    // y_ij = e^{o_ij − m_i} / Σ_k e^{o_ik − m_i}, m_i the row maximum. m is a
    // constant leaf: a shift leaves softmax unchanged, so no gradient flows
    // through it, and it keeps e^{…} from overflowing.
    const nrec *ro = tape_rec(g, o);
    uint32_t R = ro->rows, C = ro->cols;
    node m = graph_leaf(g, (int)R, 1, NULL);
    const double *ov = graph_val(g, o);
    double *mv = graph_val(g, m);
    for (uint32_t i = 0; i < R; i++) {
        mv[i] = ov[i * C];
        for (uint32_t j = 1; j < C; j++) if (ov[i * C + j] > mv[i]) mv[i] = ov[i * C + j];
    }
    node e = op_exp(g, op_sub(g, o, m));
    return op_div(g, e, op_sum_rows(g, e));
}

node op_softmax_ce_composite(graph *g, node o, node t)
{
    // L = −(1/R) Σ_i Σ_j t_ij log y_ij
    int R = graph_rows(g, o);
    node y = op_softmax_composite(g, o);
    return op_scale(g, op_sum(g, op_mul(g, t, op_log(g, y))), -1.0 / R);
}

/* ---- convolutional layers: constructors and the batch-norm composites ---- */

/* Appends n entries to the side array; returns the first one's index. */
static uint32_t aux_push(graph *g, const uint32_t *v, uint32_t n)
{
    if (g->na + n > g->acap) {
        uint32_t cap = g->acap ? g->acap : 64;
        while (cap < g->na + n) cap *= 2;
        uint32_t *p = realloc(g->aux, (size_t)cap * sizeof *p);
        ASSERT(p, "out of memory growing the tape's side array to %u entries", cap);
        g->aux = p;
        g->acap = cap;
    }
    uint32_t at = g->na;
    memcpy(g->aux + at, v, n * sizeof *v);
    g->na += n;
    return at;
}

/* x must be B × (H·W·C) for the shape `in` the caller gives. */
static void check_image(const graph *g, node x, op_shape in, const char *op)
{
    const nrec *rx = tape_rec(g, x);
    ASSERT(in.h > 0 && in.w > 0 && in.c > 0 && (uint64_t)in.h * in.w * in.c == rx->cols,
           "%s: input %ux%u is not B x (H·W·C) for the image shape %dx%dx%d (HxWxC)",
           op, rx->rows, rx->cols, in.h, in.w, in.c);
}

op_shape op_conv2d_shape(op_shape in, int k, int F, op_pad pad)
{
    if (pad == PAD_SAME) return (op_shape){in.h, in.w, F};
    return (op_shape){in.h - k + 1, in.w - k + 1, F};
}

node op_reshape(graph *g, node x, int rows, int cols)
{
    const nrec *rx = tape_rec(g, x);
    ASSERT(rows > 0 && cols > 0 && (uint64_t)rows * (uint64_t)cols == (uint64_t)rx->rows * rx->cols,
           "op_reshape: %ux%u has %u elements, %dx%d would have %lld",
           rx->rows, rx->cols, rx->rows * rx->cols, rows, cols, (long long)rows * cols);
    return make(g, OP_RESHAPE, (uint32_t)rows, (uint32_t)cols, x, NONE, 0);
}

node op_conv2d(graph *g, node x, op_shape in, node w, int k, node b, op_pad pad)
{
    check_image(g, x, in, "op_conv2d");
    const nrec *rx = tape_rec(g, x), *rw = tape_rec(g, w);
    uint32_t B = rx->rows, F = rw->cols;
    ASSERT(pad == PAD_SAME || pad == PAD_VALID, "op_conv2d: padding %d is neither SAME nor VALID", (int)pad);
    ASSERT(k > 0 && (pad == PAD_VALID || k % 2 == 1),
           "op_conv2d: kernel %dx%d: SAME padding needs an odd kernel", k, k);
    ASSERT(pad == PAD_SAME || (k <= in.h && k <= in.w),
           "op_conv2d: kernel %dx%d is larger than the input %dx%dx%d (HxWxC) with VALID padding",
           k, k, in.h, in.w, in.c);
    ASSERT(rw->rows == (uint64_t)k * k * in.c,
           "op_conv2d: input %ux%dx%dx%d (NHWC) and weight %ux%u = (k·k·C_in) x F do not fit: "
           "a %dx%d kernel over %d channels needs %d rows",
           B, in.h, in.w, in.c, rw->rows, rw->cols, k, k, in.c, k * k * in.c);
    op_shape out = op_conv2d_shape(in, k, (int)F, pad);
    uint32_t s[CV_N] = {[CV_H] = (uint32_t)in.h, [CV_W] = (uint32_t)in.w, [CV_C] = (uint32_t)in.c,
                        [CV_K] = (uint32_t)k, [CV_P] = pad == PAD_SAME ? (uint32_t)(k - 1) / 2 : 0,
                        [CV_HO] = (uint32_t)out.h, [CV_WO] = (uint32_t)out.w};
    if (b.id != NO_NODE) {
        const nrec *rb = tape_rec(g, b);
        ASSERT(rb->rows == 1 && rb->cols == F,
               "op_conv2d: bias %ux%u does not fit weight %ux%u: it needs 1x%u, one per filter",
               rb->rows, rb->cols, rw->rows, rw->cols, F);
    }
    uint32_t at = aux_push(g, s, CV_N);
    node y = make(g, OP_CONV2D, B, (uint32_t)out.h * (uint32_t)out.w * F, x, w, at);
    if (b.id == NO_NODE) return y;
    /* + bias per filter: view (B, Ho·Wo·F) as (B·Ho·Wo, F), add the row */
    node yr = op_reshape(g, y, (int)(B * (uint32_t)out.h * (uint32_t)out.w), (int)F);
    return op_reshape(g, op_add_row(g, yr, b), (int)B, out.h * out.w * (int)F);
}

node op_maxpool2d(graph *g, node x, op_shape in, int k)
{
    check_image(g, x, in, "op_maxpool2d");
    const nrec *rx = tape_rec(g, x);
    ASSERT(k > 0 && k <= in.h && k <= in.w,
           "op_maxpool2d: window %dx%d does not fit the input %ux%dx%dx%d (NHWC)",
           k, k, rx->rows, in.h, in.w, in.c);
    uint32_t s[PL_N] = {[PL_H] = (uint32_t)in.h, [PL_W] = (uint32_t)in.w,
                        [PL_C] = (uint32_t)in.c, [PL_K] = (uint32_t)k};
    uint32_t at = aux_push(g, s, PL_N);
    uint32_t cols = (uint32_t)(in.h / k) * (uint32_t)(in.w / k) * (uint32_t)in.c;
    return make(g, OP_MAXPOOL2D, rx->rows, cols, x, NONE, at);
}

/* x (B, S·C) viewed as (B·S, C): channel c is column c of the view. */
static node channel_view(graph *g, node x, int C, node gamma, node beta, const char *op)
{
    const nrec *rx = tape_rec(g, x);
    ASSERT(C > 0 && rx->cols % (uint32_t)C == 0,
           "%s: input %ux%u does not split into %d channels", op, rx->rows, rx->cols, C);
    node p[2] = {gamma, beta};
    for (int i = 0; i < 2; i++) {
        if (p[i].id == NO_NODE) continue;
        const nrec *rp = tape_rec(g, p[i]);
        ASSERT(rp->rows == 1 && rp->cols == (uint32_t)C,
               "%s: %s is %ux%u, input %ux%u with %d channels needs 1x%d",
               op, i ? "beta" : "gamma", rp->rows, rp->cols, rx->rows, rx->cols, C, C);
    }
    return op_reshape(g, x, (int)(rx->rows * (rx->cols / (uint32_t)C)), C);
}

/* The view (N, C) back to x's shape, after γ (unless fused in) and β. */
static node channel_unview(graph *g, node y, node x, node gamma, node beta)
{
    if (gamma.id != NO_NODE) y = op_mul(g, y, gamma);
    if (beta.id != NO_NODE) y = op_add_row(g, y, beta);
    return op_reshape(g, y, graph_rows(g, x), graph_cols(g, x));
}

node op_batchnorm(graph *g, node x, int C, node gamma, node beta, double eps)
{
    node v = channel_view(g, x, C, gamma, beta, "op_batchnorm");
    ASSERT(eps > 0, "op_batchnorm: eps %g must be positive", eps);
    node y = make(g, OP_BN_TRAIN, (uint32_t)graph_rows(g, v), (uint32_t)C, v, gamma, eps);
    return channel_unview(g, y, x, NONE, beta);
}

node op_batchnorm_composite(graph *g, node x, int C, node gamma, node beta, double eps)
{
    node v = channel_view(g, x, C, gamma, beta, "op_batchnorm_composite");
    double N = graph_rows(g, v);
    // μ = (1/N) Σ_i x_i,  d = x − μ,  var = (1/N) Σ_i d_i²,  x̂ = d / √(var + ε)
    node mu = op_scale(g, op_sum_cols(g, v), 1.0 / N);
    node d = op_sub(g, v, mu);
    node var = op_scale(g, op_sum_cols(g, op_mul(g, d, d)), 1.0 / N);
    node xh = op_div(g, d, op_sqrt(g, op_add(g, var, graph_scalar(g, eps))));
    return channel_unview(g, xh, x, gamma, beta);
}

node op_batchnorm_infer(graph *g, node x, int C, node stats, node gamma, node beta, double eps)
{
    node v = channel_view(g, x, C, gamma, beta, "op_batchnorm_infer");
    const nrec *rs = tape_rec(g, stats);
    ASSERT(rs->rows == 2 && rs->cols == (uint32_t)C,
           "op_batchnorm_infer: stats %ux%u, %d channels need 2x%d (mean row, variance row)",
           rs->rows, rs->cols, C, C);
    node y = make(g, OP_BN_INFER, (uint32_t)graph_rows(g, v), (uint32_t)C, v, stats, eps);
    return channel_unview(g, y, x, gamma, beta);
}

node op_batchnorm_infer_composite(graph *g, node x, int C, node stats, node gamma, node beta, double eps)
{
    node v = channel_view(g, x, C, gamma, beta, "op_batchnorm_infer_composite");
    /* rows of stats picked by a product: [1 0]·stats = μ, [0 1]·stats = v */
    double e0[2] = {1, 0}, e1[2] = {0, 1};
    node mu = op_matmul(g, graph_leaf(g, 1, 2, e0), stats);
    node var = op_matmul(g, graph_leaf(g, 1, 2, e1), stats);
    node xh = op_div(g, op_sub(g, v, mu), op_sqrt(g, op_add(g, var, graph_scalar(g, eps))));
    return channel_unview(g, xh, x, gamma, beta);
}
