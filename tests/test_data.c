/* test_data.c — the data sets API: splits (sizes, order, disjointness, seeds),
 * scaling, normalisation, and the
 * course's synthetic data against its check values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "data.h"
#include "synth.h"

/* N rows of D = 3 whose first feature is the row's number: a row can be
 * traced through any split. Labels i mod 10. */
static void make_set(dataset *ds, int n)
{
    CHECK(dataset_alloc(ds, n, 3, 10) == 0);
    for (int i = 0; i < n; i++) {
        ds->x[3 * i] = (float)i;
        ds->x[3 * i + 1] = (float)i + 0.5f;
        ds->x[3 * i + 2] = (float)(-i);
        ds->labels[i] = (uint8_t)(i % 10);
    }
}

/* 1 when a ∪ b holds every row 0 … n−1 exactly once, each row intact. */
static int partition(const dataset *a, const dataset *b, int n)
{
    char *seen = calloc((size_t)n, 1);
    int ok = a->n + (b ? b->n : 0) == n;
    const dataset *parts[2] = {a, b};
    for (int p = 0; p < 2 && ok; p++) {
        if (!parts[p]) continue;
        for (int i = 0; i < parts[p]->n && ok; i++) {
            const float *r = parts[p]->x + 3 * i;
            int id = (int)r[0];
            ok = id >= 0 && id < n && !seen[id] && r[1] == (float)id + 0.5f && r[2] == (float)(-id) &&
                 parts[p]->labels[i] == id % 10;
            if (ok) seen[id] = 1;
        }
    }
    free(seen);
    return ok;
}

static int same_rows(const dataset *a, const dataset *b)
{
    return a->n == b->n && a->d == b->d && memcmp(a->x, b->x, (size_t)a->n * a->d * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, (size_t)a->n) == 0;
}

static void test_splits(void)
{
    dataset all, a, b, c, d;
    make_set(&all, 103);

    CHECK(data_split_first(&all, 80, &a, &b) == 0);
    CHECK(a.n == 80 && b.n == 23 && a.d == 3 && b.classes == 10);
    CHECK(partition(&a, &b, 103));
    CHECK(a.x[3 * 79] == 79.0f && b.x[0] == 80.0f && b.x[3 * 22] == 102.0f);
    dataset_free(&a);
    dataset_free(&b);
    CHECK(data_split_first(&all, 103, &a, NULL) == 0 && a.n == 103 && same_rows(&a, &all));
    dataset_free(&a);
    CHECK(data_split_first(&all, 0, &a, &b) == 0 && a.n == 0 && b.n == 103);
    dataset_free(&a);
    dataset_free(&b);

    CHECK(data_split_random(&all, 70, 7, &a, &b) == 0);
    CHECK(a.n == 70 && b.n == 33);
    CHECK(partition(&a, &b, 103));
    int moved = 0;    /* a random split does not keep the file order */
    for (int i = 0; i < a.n; i++) moved += a.x[3 * i] != (float)i;
    CHECK(moved > 50);
    CHECK(data_split_random(&all, 70, 7, &c, &d) == 0);
    CHECK(same_rows(&a, &c) && same_rows(&b, &d));    /* same seed, same split */
    dataset_free(&c);
    dataset_free(&d);
    CHECK(data_split_random(&all, 70, 8, &c, &d) == 0);
    CHECK(!same_rows(&a, &c));                          /* another seed, another */
    CHECK(partition(&c, &d, 103));
    dataset_free(&c);
    dataset_free(&d);
    CHECK(data_split_random(&all, 70, 7, &c, NULL) == 0 && same_rows(&a, &c));
    dataset_free(&c);
    dataset_free(&a);
    dataset_free(&b);

    uint32_t idx[3] = {5, 0, 5};
    CHECK(data_subset(&all, idx, 3, &a) == 0);
    CHECK(a.n == 3 && a.x[0] == 5.0f && a.x[3] == 0.0f && a.x[6] == 5.0f && a.labels[2] == 5);
    dataset_free(&a);
    dataset_free(&all);
    dataset_free(&all);    /* a second free is harmless */
    dataset_free(NULL);
}

static void test_features(void)
{
    dataset tr, te;
    CHECK(dataset_alloc(&tr, 2, 2, 10) == 0);
    CHECK(dataset_alloc(&te, 1, 2, 10) == 0);
    float v[4] = {0, 51, 255, 102}, w[2] = {255, 0};
    memcpy(tr.x, v, sizeof v);
    memcpy(te.x, w, sizeof w);
    data_scale(&tr, 255);
    data_scale(&te, 255);
    CHECK(tr.x[0] == 0.0f && tr.x[1] == 51.0f / 255.0f && tr.x[2] == 1.0f && te.x[0] == 1.0f);
    double m, s;
    data_mean_std(&tr, &m, &s);
    /* mean of 0, 0.2, 1, 0.4 (in float) and its population std */
    double want_m = ((double)0.0f + (double)(51.0f / 255.0f) + 1.0 + (double)(102.0f / 255.0f)) / 4;
    CHECK_NEAR(m, 0.4, 1e-7);
    CHECK_NEAR(m, want_m, 1e-15);
    CHECK_NEAR(s, sqrt((0.16 + 0.04 + 0.36 + 0.0) / 4), 1e-7);
    CHECK(data_normalize(&tr, m, s) == 0);
    CHECK(data_normalize(&te, m, s) == 0);    /* the training set's numbers for every set */
    double m2, s2;
    data_mean_std(&tr, &m2, &s2);
    CHECK_NEAR(m2, 0.0, 1e-7);
    CHECK_NEAR(s2, 1.0, 1e-6);
    CHECK_NEAR(te.x[0], (1.0 - m) / s, 1e-6);
    CHECK_NEAR(te.x[1], (0.0 - m) / s, 1e-6);

    /* no spread (blank images: std 0), or a non-finite number: a status,
     * and the set left as it was */
    float keep[4];
    memcpy(keep, tr.x, sizeof keep);
    CHECK(data_normalize(&tr, 0.0, 0.0) == -1);
    CHECK(data_normalize(&tr, 0.5, -1.0) == -1);
    CHECK(data_normalize(&tr, 0.5, NAN) == -1);
    CHECK(data_normalize(&tr, 0.5, INFINITY) == -1);
    CHECK(data_normalize(&tr, NAN, 1.0) == -1);
    CHECK(memcmp(keep, tr.x, sizeof keep) == 0);
    dataset blank;
    CHECK(dataset_alloc(&blank, 3, 4, 10) == 0);
    data_mean_std(&blank, &m2, &s2);
    CHECK(m2 == 0.0 && s2 == 0.0 && data_normalize(&blank, m2, s2) == -1);
    dataset_free(&blank);

    dataset_free(&tr);
    dataset_free(&te);
}

/* LESSONS.md, lesson 04: first point and class counts of both variants. */
static void test_synth(void)
{
    static double x[SYNTH_N * 2];
    static uint8_t y[SYNTH_N];
    const int variants[2] = {2020, 2021};
    const int want[2][4] = {{32567, 27433, 5427, 4573}, {26506, 33494, 4378, 5622}};
    for (int v = 0; v < 2; v++) {
        CHECK(synth_generate(variants[v], 0, SYNTH_N, x, y) == 0);
        CHECK(x[0] == 1.764052345967664 && x[1] == 0.4001572083672233);
        int cnt[4] = {0};
        for (int i = 0; i < SYNTH_N; i++) cnt[(i >= SYNTH_TRAIN) * 2 + y[i]]++;
        for (int k = 0; k < 4; k++) CHECK(cnt[k] == want[v][k]);
    }
    CHECK(synth_generate(2019, 0, 1, x, y) == -1);
}

int main(void)
{
    test_splits();
    test_features();
    test_synth();
    return check_report("test_data");
}
