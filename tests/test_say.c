/* test_say.c — say(): the lessons' computed prose wrapped within
 * SAY_WIDTH columns, whatever the formatted lengths. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "say.h"

static char out[8192];

/* A file to say into, then what was said into it (in out; the file closed) */
static FILE *sink(void) { return check_sink(); }
static const char *collect(FILE *f) { return check_collect(f, out, sizeof out, 0); }

/* what say(f, indent, "%s", text) writes */
static const char *said(int indent, const char *text)
{
    FILE *f = sink();
    say(f, indent, "%s", text);
    return collect(f);
}

/* every line of s: at most width code points, starting with indent
 * spaces and then a non-space, no trailing space; s ends with '\n' */
static int well_wrapped(const char *s, int indent, int width)
{
    size_t n = strlen(s);
    if (n == 0 || s[n - 1] != '\n') return 0;
    for (const char *l = s; *l; ) {
        const char *e = strchr(l, '\n');
        int cols = 0;
        for (const char *p = l; p < e; p++) cols += ((unsigned char)*p & 0xC0) != 0x80;
        for (int i = 0; i < indent; i++) if (l[i] != ' ') return 0;
        if (l[indent] == ' ' || e[-1] == ' ' || cols > width) return 0;
        l = e + 1;
    }
    return 1;
}

/* s with each run of spaces and newlines made one space, ends trimmed */
static const char *words(const char *s)
{
    static char w[8192];
    size_t k = 0;
    for (; *s; s++) {
        int b = *s == ' ' || *s == '\n';
        if (b) { if (k && w[k - 1] != ' ') w[k++] = ' '; }
        else w[k++] = *s;
    }
    while (k && w[k - 1] == ' ') k--;
    w[k] = '\0';
    return w;
}

int main(void)
{
    /* a short sentence: one line, indented */
    CHECK(strcmp(said(2, "The loss fell."), "  The loss fell.\n") == 0);
    CHECK(strcmp(said(0, "a  b\n c"), "a b c\n") == 0);       /* spaces and newlines collapse */
    CHECK(strcmp(said(2, ""), "") == 0);                      /* no words, nothing */
    CHECK(strcmp(said(2, "   \n "), "") == 0);

    /* a long one: every line within the width, the words unchanged */
    const char *para = "Without regularisation the validation loss was lowest after epoch 2 of 3 "
                       "and rose by 0.0355 afterwards: the network had begun to overfit, and the "
                       "best L2 setting (L2 lambda = 0.01) gained 0.20 points of test accuracy over none.";
    const char *s = said(2, para);
    CHECK(well_wrapped(s, 2, SAY_WIDTH));
    CHECK(strcmp(words(s), words(para)) == 0);
    CHECK(strchr(s, '\n') != s + strlen(s) - 1);              /* more than one line */
    /* greedy: no line could have taken the next line's first word */
    for (const char *l = s; *l; ) {
        const char *e = strchr(l, '\n');
        if (!e[1]) break;
        const char *nx = e + 3, *ne = strpbrk(nx, " \n");
        CHECK((e - l) + 1 + (ne - nx) > SAY_WIDTH);
        l = e + 1;
    }

    /* exactly SAY_WIDTH columns fits; one more moves the last word down */
    char exact[SAY_WIDTH + 8];
    memset(exact, 'x', SAY_WIDTH);
    exact[0] = 'a'; exact[1] = ' ';
    exact[SAY_WIDTH] = '\0';
    s = said(0, exact);
    CHECK(strlen(s) == SAY_WIDTH + 1 && strchr(s, '\n') == s + SAY_WIDTH);
    exact[SAY_WIDTH] = 'x'; exact[SAY_WIDTH + 1] = '\0';
    s = said(0, exact);
    CHECK(strncmp(s, "a\n", 2) == 0);

    /* columns are code points: 79 'σ' (2 bytes each) and a word fit in 80 */
    char greek[2 * 79 + 8] = "";
    for (int i = 0; i < 78; i++) strcat(greek, "\xcf\x83");
    strcat(greek, " b");
    s = said(0, greek);
    CHECK(strchr(s, '\n') == s + strlen(s) - 1);              /* 78 + 1 + 1 = 80: one line */
    CHECK(well_wrapped(s, 0, SAY_WIDTH));

    /* a word longer than a line has a line of its own */
    char huge[200];
    memset(huge, 'y', 150); huge[150] = '\0';
    char buf[300];
    snprintf(buf, sizeof buf, "before %s after", huge);
    s = said(2, buf);
    CHECK(strncmp(s, "  before\n  yyy", 14) == 0);
    CHECK(strstr(s, "y\n  after\n") != NULL);

    /* longer than say's stack buffer: the heap path, the same wrapping */
    char big[5000] = "";
    for (int i = 0; i < 400; i++) strcat(big, "word1234 ");
    s = said(4, big);
    CHECK(well_wrapped(s, 4, SAY_WIDTH));
    CHECK(strcmp(words(s), words(big)) == 0);

    /* a glued label stays on one line and reads with plain spaces */
    char lab[64];
    CHECK(strcmp(say_glued(lab, sizeof lab, "L2 lambda = 0.01"), "L2\xc2\xa0" "lambda\xc2\xa0" "=\xc2\xa0" "0.01") == 0);
    snprintf(buf, sizeof buf, "No L2 setting beat no regularisation on the test images (the best, %s, "
             "reaches 20.00%% against 20.00%%).", lab);
    s = said(2, buf);
    CHECK(strstr(s, "L2 lambda = 0.01") != NULL);            /* whole, plain spaces */
    CHECK(strstr(s, "\xc2\xa0") == NULL);
    CHECK(well_wrapped(s, 2, SAY_WIDTH));
    CHECK(strcmp(said(0, lab), "L2 lambda = 0.01\n") == 0);
    CHECK(strcmp(say_glued(lab, 6, "a b c"), "a\xc2\xa0" "b") == 0);   /* truncated, whole characters */
    CHECK(strcmp(say_glued(lab, 4, "a b"), "a\xc2\xa0") == 0);     /* 3 bytes and the NUL fit */
    CHECK(strcmp(say_glued(lab, 3, "a b"), "a") == 0);
    CHECK(strcmp(say_glued(lab, 5, "a\xe2\x82\xac"), "a\xe2\x82\xac") == 0);  /* € whole */
    CHECK(strcmp(say_glued(lab, 4, "a\xe2\x82\xac"), "a") == 0);       /* € cut: dropped */
    CHECK(strcmp(say_glued(lab, 4, "\xcf\x83\xcf\x83"), "\xcf\x83") == 0);

    /* a hanging indent: the first line at 4, the rest at 6 */
    {
        FILE *g = sink();
        say_item(g, 4, 6, "%s", para);
        collect(g);
        CHECK(strncmp(out, "    Without", 11) == 0);
        const char *nl = strchr(out, '\n');
        CHECK(nl && strncmp(nl + 1, "      ", 6) == 0 && nl[7] != ' ');
        CHECK(strcmp(words(out), words(para)) == 0);
        for (const char *l = out; *l; l = strchr(l, '\n') + 1) CHECK(strchr(l, '\n') - l <= SAY_WIDTH);
    }

    /* the format's own arguments */
    FILE *f = sink();
    say(f, 2, "gained %.2f points over %s.", 0.2, "none");
    collect(f);
    CHECK(strcmp(out, "  gained 0.20 points over none.\n") == 0);
    return check_report("test_say");
}
