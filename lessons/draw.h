/* draw.h — images drawn as text in the terminal: the way lesson 00 shows
 * MNIST and predict shows the digit it classifies.
 *
 * Not here: writing image files (image.h writes PGM).
 */
#ifndef CHAINRULE_DRAW_H
#define CHAINRULE_DRAW_H

#include <stdio.h>

/* Draws `count` side × side images (pixels 0 … 255 as float, row-major;
 * 0 paper, 255 ink) next to each other under their titles, one character
 * per two pixel rows (a character cell is about twice as tall as wide),
 * denser characters for more ink; trailing blanks trimmed. side is even
 * and count · (side + 3) < 256. */
void draw_images(FILE *f, const float *const *img, const char *const *title, int count, int side);

#endif
