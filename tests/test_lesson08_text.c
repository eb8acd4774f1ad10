/* test_lesson08_text.c — lesson 08's closing sentences, branch by branch.
 * Its goldens reach some (a dead ReLU and a dead tanh layer, divergence,
 * both lists of chance-level networks, the sigmoid's vanishing faster);
 * the others need runs the 100-image slice does not give, so here
 * summarise gets outcomes made up to reach them. The lesson's source is
 * compiled in whole, its main renamed. */
#define main lesson08_main
#include "../lessons/08_depth.c"
#undef main
#include <string.h>
#include "check.h"

/* every network trained, finite, at 50% with gradients 1 in every layer */
static void healthy(outcome out[NDEPTH][NACT])
{
    for (int d = 0; d < NDEPTH; d++)
        for (int k = 0; k < NACT; k++) {
            outcome *o = &out[d][k];
            memset(o, 0, sizeof *o);
            o->epochs = 1;
            o->val_acc[0] = 0.5;
            o->val_loss = 1.0;
            for (int l = 0; l < depths[d]; l++) o->gW[l] = o->gb[l] = 1.0;
        }
}

/* summarise's text on one line, words joined by single spaces (the
 * wrapping is say's, tested in test_say; static buffer) */
static const char *text(outcome out[NDEPTH][NACT])
{
    static char buf[8192];
    FILE *f = check_sink();
    summarise(f, out, 3);
    return check_collect(f, buf, sizeof buf, 1);
}

static int has(const char *s, const char *part) { return strstr(s, part) != NULL; }

int main(void)
{
    static outcome out[NDEPTH][NACT];
    enum { TANH = 1, SIG = 2 };
    int L40 = NDEPTH - 1;
    const char *s;

    /* nothing wrong: only the fixed sentences and the comparison at L = 40 */
    healthy(out);
    out[L40][SIG].gW[0] = 1e-20;
    out[L40][TANH].gW[0] = 0.5;
    s = text(out);
    CHECK(has(s, "At L = 40 the largest |dW| of layer 1 is 1.0e-20 of the last layer's for the sigmoid "
                 "(slope at most 1/4 per layer) and 5.0e-01 for tanh (slope 1 at 0): the sigmoid's "
                 "gradient vanishes faster."));
    CHECK(!has(s, "chance level"));
    CHECK(!has(s, "diverged"));
    CHECK(has(s, "One seed and 3 epochs:"));
    /* the other way round */
    out[L40][SIG].gW[0] = 0.5;
    out[L40][TANH].gW[0] = 1e-20;
    s = text(out);
    CHECK(has(s, "and 1.0e-20 for tanh (slope 1 at 0); here the sigmoid's does not vanish faster."));

    /* a dead layer at L = 40 leaves layer 1 no gradient: no comparison */
    healthy(out);
    out[L40][TANH].gW[36] = out[L40][TANH].gb[36] = 0;
    for (int l = 0; l < 36; l++) out[L40][TANH].gW[l] = out[L40][TANH].gb[l] = 0;
    s = text(out);
    CHECK(has(s, "tanh at L = 40: layer 37 gets exactly zero gradient, weights and biases: every unit "
                 "there is saturated (slope exactly 0 in float32) for every training image, so no error "
                 "passes through it, and the 36 layers below it get none either. One dead layer"));
    CHECK(has(s, "At L = 40 no gradient reaches layer 1 for tanh (a layer above it is dead), so how fast "
                 "the sigmoid's and tanh's gradients shrink cannot be compared here."));
    CHECK(!has(s, "vanishes faster"));
    for (int l = 0; l < 40; l++) out[L40][SIG].gW[l] = out[L40][SIG].gb[l] = 0;
    out[L40][SIG].gb[39] = 0.25;          /* its output layer: a bias gradient, no weight gradient */
    s = text(out);
    CHECK(has(s, "for the sigmoid or tanh (a layer above it is dead)"));
    CHECK(has(s, "sigmoid at L = 40: layer 39 gets exactly zero gradient"));
    CHECK(has(s, "and the 38 layers below it get none either. Layer 40 above it still gets a bias "
                 "gradient (2.5e-01) but no weight gradient: its inputs are all 0."));
    /* one layer below a dead one: singular */
    healthy(out);
    out[0][0].gW[1] = out[0][0].gb[1] = out[0][0].gW[0] = out[0][0].gb[0] = 0;
    s = text(out);
    CHECK(has(s, "relu at L = 5: layer 2 gets exactly zero gradient, weights and biases: every unit "
                 "there is off (ReLU 0) for every training image, so no error passes through it, and "
                 "the 1 layer below it gets none either."));
    /* the output layer dead: the softmax saturated */
    healthy(out);
    out[1][3].gW[19] = out[1][3].gb[19] = 0;
    out[1][3].val_acc[0] = 0.098;
    s = text(out);
    CHECK(has(s, "lecun_tanh at L = 20: the output layer gets exactly zero gradient: the softmax "
                 "saturated (float32 probabilities exactly 0 or 1), so nothing flows back at all; "
                 "validation 9.80%."));

    /* divergence, and the comparison it leaves out */
    healthy(out);
    out[L40][SIG].val_loss = NAN;
    s = text(out);
    CHECK(has(s, "sigmoid at L = 40 diverged: training stopped at a loss that is not a finite number"));
    CHECK(has(s, "At L = 40 the sigmoid diverged, so its gradients cannot be set beside the tanh's."));
    healthy(out);
    out[L40][TANH].val_loss = INFINITY;
    s = text(out);
    CHECK(has(s, "At L = 40 the tanh diverged, so its gradients cannot be set beside the sigmoid's."));

    /* chance level: by whether layer 1's gradient fell below 1/100, each
     * network whole in the list, the lists ending in a full stop */
    healthy(out);
    out[0][SIG].val_acc[0] = 0.14; out[0][SIG].gW[0] = 2e-3;
    out[1][0].val_acc[0] = 0.08;   out[1][0].gW[0] = 0.1;
    out[2][TANH].val_acc[0] = 0.12; out[2][TANH].gW[0] = 0.8;
    s = text(out);
    CHECK(has(s, "At chance level (below 20%), the gradient vanished on the way down (layer 1 gets less "
                 "than 1/100 of the output layer's largest |dW|): sigmoid L=5 (14%, 2e-03)."));
    CHECK(has(s, "(1/100 of the output layer's or more), which points to too small a budget rather than "
                 "a vanished gradient: relu L=20 (8%, 1e-01); tanh L=40 (12%, 8e-01)."));
    /* 20% is not chance level; a dead network is listed as dead, not here */
    healthy(out);
    out[0][SIG].val_acc[0] = 0.2; out[0][SIG].gW[0] = 2e-3;
    out[0][TANH].val_acc[0] = 0.1; out[0][TANH].gW[1] = out[0][TANH].gb[1] = 0;
    s = text(out);
    CHECK(!has(s, "At chance level"));
    return check_report("test_lesson08_text");
}
