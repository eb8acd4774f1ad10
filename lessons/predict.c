/* predict.c — your own digit: `build/predict --model FILE IMAGE…`.
 *
 * Reads each image (PGM P2/P5 or PNG, any size), turns it into MNIST's
 * format the way MNIST was made (models/image.h: grey, inverted on a light
 * background, cropped to the ink, the longer side scaled to 20 px, centred
 * by its centre of mass in 28 × 28), draws that 28 × 28 input in the
 * terminal as lesson 00 draws MNIST, and prints the model's ten
 * probabilities and its top class. The model is a file saved by a lesson's
 * --save (lesson 05: `05_mnist --save FILE`); its kind is chosen by the
 * file's magic, so another kind of network plugs into the table below.
 * Inputs are pixels / 255, as the lessons train.
 *
 * Exit status: 0; 2 for a bad flag, model or image (one line each on
 * stderr naming the file; the other images are still classified).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "draw.h"
#include "image.h"
#include "mlp.h"

#define MAX_K 256

/* ------------------------------------------------------------ model kinds */

typedef struct {
    const char *name;
    const char *magic;                  /* the file's first bytes */
    /* NULL with a message in err (naming the file) when the file is bad */
    void *(*load)(const char *path, char *err, size_t errlen);
    /* x (784) → p (K probabilities); returns K */
    int (*probs)(void *model, const float *x, float *p);
    void (*free)(void *model);
} model_kind;

static void *mlp_kind_load(const char *path, char *err, size_t errlen)
{
    mlp_config cfg;
    if (mlp_read_config(path, &cfg, err, errlen)) return NULL;
    if (cfg.sizes[0] != MNIST_SIDE * MNIST_SIDE || cfg.sizes[cfg.n_layers] > MAX_K) {
        snprintf(err, errlen, "%s: the network takes %d inputs with %d classes, predict gives %d (28 × 28)",
                 path, cfg.sizes[0], cfg.sizes[cfg.n_layers], MNIST_SIDE * MNIST_SIDE);
        return NULL;
    }
    mlp *m = mlp_new(&cfg);
    if (!m) { snprintf(err, errlen, "%s: out of memory", path); return NULL; }
    if (mlp_load(m, path, err, errlen)) { mlp_free(m); return NULL; }
    return m;
}

static int mlp_kind_probs(void *model, const float *x, float *p)
{
    mlp *m = model;
    int K = m->cfg.sizes[m->L];
    mlp_forward(m, x, NULL, 1, 0);
    memcpy(p, mlp_probs(m), (size_t)K * sizeof *p);
    return K;
}

static void mlp_kind_free(void *model) { mlp_free(model); }

static const model_kind kinds[] = {
    {"mlp", "CHRMLP2\n", mlp_kind_load, mlp_kind_probs, mlp_kind_free},
};

/* The kind whose magic the file starts with; NULL with a message. */
static const model_kind *model_kind_of(const char *path, char *err, size_t errlen)
{
    unsigned char head[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: cannot open the model", path); return NULL; }
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t len = strlen(kinds[k].magic);
        if (n >= len && memcmp(head, kinds[k].magic, len) == 0) return &kinds[k];
    }
    snprintf(err, errlen, "%s: not a chainrule model this predict reads (kinds: mlp, saved by 05_mnist --save)", path);
    return NULL;
}

/* ------------------------------------------------------------ one image */

/* Classifies one image; 0, or −1 after printing one line naming it. */
static int predict_one(const model_kind *kind, void *model, const char *path, const char *show)
{
    image im;
    char err[IMAGE_ERR_LEN];
    uint8_t digit[MNIST_SIDE * MNIST_SIDE];
    image_status s = image_load(path, &im, err);
    if (s == IMAGE_OK) s = image_to_mnist(&im, path, digit, err);
    image_free(&im);
    if (s != IMAGE_OK) { fprintf(stderr, "%s: %s\n", cli_prog(), err); return -1; }
    if (show && image_write_pgm(show, digit, MNIST_SIDE, MNIST_SIDE, err)) {
        fprintf(stderr, "%s: %s\n", cli_prog(), err);
        return -1;
    }
    float x[MNIST_SIDE * MNIST_SIDE], pix[MNIST_SIDE * MNIST_SIDE], p[MAX_K];
    for (int i = 0; i < MNIST_SIDE * MNIST_SIDE; i++) { x[i] = digit[i] / 255.0f; pix[i] = digit[i]; }
    int K = kind->probs(model, x, p), top = 0;
    for (int k = 1; k < K; k++) if (p[k] > p[top]) top = k;
    const float *img[1] = {pix};
    const char *title[1] = {path};
    draw_images(stdout, img, title, 1, MNIST_SIDE);
    printf("probabilities:");
    for (int k = 0; k < K; k++) printf("%s %d: %.4f", k % 5 ? " " : "\n ", k, p[k]);
    printf("\n%s: top class %d (probability %.4f)\n\n", path, top, p[top]);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *show = NULL;
    cli_opt opts[] = {
        {"--model", CLI_STRING, &model_path, "FILE", "the model, saved by a lesson's --save (05_mnist --save FILE)"},
        {"--show", CLI_STRING, &show, "FILE", "write the 28 × 28 input as a PGM (one image only)"},
        {0}};
    int first = cli_parse(argc, argv,
        "predict — your own digit: `predict --model FILE IMAGE…` reads PGM or PNG images of\n"
        "any size, makes each an MNIST digit (grey, inverted on light paper, cropped to the\n"
        "ink, 20 px box, centred by mass in 28 × 28), draws it and prints the model's ten\n"
        "probabilities and its top class. Draw a digit in any paint program with a thick\n"
        "brush, save it as PNG, run predict. Exit 2 when a model or image is bad.", opts);
    if (!model_path) cli_fail("--model FILE is required (save one with 05_mnist --save FILE)");
    if (first >= argc) cli_fail("no image given (predict --model FILE IMAGE…)");
    if (show && argc - first > 1) cli_fail("--show: takes one image, %d given", argc - first);
    char err[IMAGE_ERR_LEN];
    const model_kind *kind = model_kind_of(model_path, err, sizeof err);
    if (!kind) cli_fail("%s", err);
    void *model = kind->load(model_path, err, sizeof err);
    if (!model) cli_fail("%s", err);
    int bad = 0;
    for (int i = first; i < argc; i++) bad += predict_one(kind, model, argv[i], show) != 0;
    kind->free(model);
    if (fflush(stdout) != 0 || ferror(stdout)) cli_fail("stdout: write error");
    return bad ? 2 : 0;
}
