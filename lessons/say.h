/* say.h — the lessons' computed prose. A sentence whose numbers and words
 * are chosen at run time (a label, "more than" or "within", a count) has
 * a different length in every branch, so no hand-placed line break fits
 * them all: the sentence is formatted whole and wrapped here.
 *
 *   say(stdout, 2, "The best %s setting (%s) gained %.2f points.", kind, label, g);
 */
#ifndef CHAINRULE_SAY_H
#define CHAINRULE_SAY_H

#include <stdio.h>

/* The widest line say writes, in columns (UTF-8 code points). */
#define SAY_WIDTH 80

/* Formats fmt and its arguments (printf's rules) and writes the result to
 * f as one paragraph: its words (runs of characters other than space and
 * newline) joined by single spaces, each line starting with `indent`
 * spaces and at most SAY_WIDTH columns long, unless one word alone is
 * longer (it then has the line to itself). A non-breaking space
 * (U+00A0, say_glued) joins words and is written as a space. Ends with a newline; writes
 * nothing for text without words. Out of memory for a long text: one
 * line on stderr, exit 2 (cli.h's rule). */
void say(FILE *f, int indent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* say with a hanging indent: the first line starts with `first` spaces,
 * the others with `rest` (a list item whose text runs on). */
void say_item(FILE *f, int first, int rest, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* s with its spaces made non-breaking (U+00A0), into buf (n bytes,
 * truncated at a whole character): a label that say keeps on one line
 * and writes with plain spaces. Returns buf. */
const char *say_glued(char *buf, size_t n, const char *s);

#endif
