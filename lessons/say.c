/* say.c — see say.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "say.h"

/* Columns of s[0…n): its UTF-8 code points (bytes that do not continue one). */
static int columns(const char *s, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int blank(char c) { return c == ' ' || c == '\n'; }

static void vsay(FILE *f, int first, int rest, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    char small[1024], *text = small;
    if (len < 0) len = 0;
    if ((size_t)len >= sizeof small && !(text = malloc((size_t)len + 1))) cli_fail("out of memory");
    vsnprintf(text, (size_t)len + 1, fmt, aq);
    va_end(aq);
    if (first < 0) first = 0;
    if (rest < 0) rest = 0;
    int used = -1, lines = 0;          /* columns on the current line; −1: none begun */
    for (int i = 0; i < len;) {
        while (i < len && blank(text[i])) i++;
        int j = i;
        while (j < len && !blank(text[j])) j++;
        if (j == i) break;
        int w = columns(text + i, j - i);
        if (used >= 0 && used + 1 + w > SAY_WIDTH) { fputc('\n', f); used = -1; }
        if (used < 0) {
            int ind = lines++ ? rest : first;
            fprintf(f, "%*s", ind, "");
            used = ind;
        } else { fputc(' ', f); used++; }
        for (int q = i; q < j; q++) {           /* U+00A0 as a plain space */
            if ((unsigned char)text[q] == 0xC2 && q + 1 < j && (unsigned char)text[q + 1] == 0xA0) {
                fputc(' ', f);
                q++;
            } else fputc(text[q], f);
        }
        used += w;
        i = j;
    }
    if (used >= 0) fputc('\n', f);
    if (text != small) free(text);
}

void say(FILE *f, int indent, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(f, indent, indent, fmt, ap);
    va_end(ap);
}

void say_item(FILE *f, int first, int rest, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(f, first, rest, fmt, ap);
    va_end(ap);
}

const char *say_glued(char *buf, size_t n, const char *s)
{
    size_t k = 0;
    if (n == 0) return buf;
    for (; *s; s++) {
        if (*s == ' ') {
            if (k + 2 >= n) break;
            buf[k++] = (char)0xC2;
            buf[k++] = (char)0xA0;
        } else {
            if (k + 1 >= n) break;
            buf[k++] = *s;
        }
    }
    /* a multi-byte character cut by n: drop what of it was copied */
    size_t lead = k;
    while (lead > 0 && ((unsigned char)buf[lead - 1] & 0xC0) == 0x80) lead--;
    if (lead > 0) {
        unsigned char c = (unsigned char)buf[lead - 1];
        size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (k - (lead - 1) < want) k = lead - 1;
    }
    buf[k] = '\0';
    return buf;
}
