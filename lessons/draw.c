/* draw.c — images as text (contract in draw.h). */
#include <string.h>
#include "draw.h"

#include "fail.h"

static void put_trimmed(FILE *f, char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ') n--;
    s[n] = '\0';
    fprintf(f, "%s\n", s);
}

void draw_images(FILE *f, const float *const *img, const char *const *title, int count, int side)
{
    static const char ramp[] = " .:-=+*#%@";    /* 10 shades, 0 (paper) … 255 (ink) */
    char line[256];
    ASSERT(side % 2 == 0 && count * (side + 3) < (int)sizeof line, "draw_images: %d images of side %d", count, side);
    int n = 0;
    for (int k = 0; k < count; k++)
        n += snprintf(line + n, sizeof line - (size_t)n, "  %-*s", side + 1, title[k]);
    put_trimmed(f, line);
    for (int r = 0; r < side; r += 2) {
        n = 0;
        for (int k = 0; k < count; k++) {
            line[n++] = ' ';
            line[n++] = ' ';
            for (int c = 0; c < side; c++) {
                float v = (img[k][r * side + c] + img[k][(r + 1) * side + c]) / 2;   // 0 … 255
                line[n++] = ramp[(int)(v * 10 / 256)];
            }
            line[n++] = ' ';
        }
        line[n] = '\0';
        put_trimmed(f, line);
    }
}
