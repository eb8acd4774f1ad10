/* chainrule.h — the whole public API of the chainrule engine in one
 * include: the tape (graph.h), its operations (ops.h), gradient checks
 * (gradcheck.h), the random streams (rng.h), the lesson number format
 * (print.h), and the tape as a picture and a traced sweep (dot.h).
 *
 *   cc example.c $(pkg-config --cflags --libs chainrule)
 */
#ifndef CHAINRULE_H
#define CHAINRULE_H

#include "graph.h"
#include "ops.h"
#include "gradcheck.h"
#include "rng.h"
#include "print.h"
#include "dot.h"

#endif
