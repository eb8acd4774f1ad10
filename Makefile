# chainrule — make | make test | make run | make data | make plots | make bench
#             | make install | make uninstall | make check
#
# Everything built goes under $(B) (default build/). `make test` builds the
# suite twice — the reference build and one with AddressSanitizer and
# UndefinedBehaviorSanitizer in build/asan — and runs both.

CC      ?= cc
B       ?= build
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Werror
CFLAGS  ?= -O2 -g
ALLFLAGS = -std=c11 $(CFLAGS) $(WARN) -ffp-contract=off -fopenmp -Iengine -Imodels -Ilessons -Ilessons/verify $(SANFLAGS)
LDLIBS   = -lm -fopenmp
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ENGINE_SRC := $(wildcard engine/*.c)
# models/image_png.c alone needs libpng: kept out of libmodels.a, linked
# (with -lpng) only into predict and the tests that read PNG.
PNG_SRC    := models/image_png.c
MODELS_SRC := $(filter-out $(PNG_SRC),$(wildcard models/*.c))
# lessons/: one program per NN_topic.c (and predict.c); every other .c there
# is the support the programs share (the command line). lessons/verify/: the
# derivation checker, main.c its program, the rest its library.
LESSON_SRC := $(wildcard lessons/[0-9][0-9]_*.c)
PROG_SRC   := $(wildcard lessons/predict.c)
SUPPORT_SRC:= $(filter-out $(LESSON_SRC) $(PROG_SRC),$(wildcard lessons/*.c))
VERIFY_LIB_SRC := $(filter-out lessons/verify/main.c,$(wildcard lessons/verify/*.c))
TEST_SRC   := $(wildcard tests/test_*.c)
BENCH_SRC  := $(wildcard tests/bench/*.c)

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/obj/%.o)
MODELS_OBJ := $(MODELS_SRC:%.c=$(B)/obj/%.o)
SUPPORT_OBJ:= $(SUPPORT_SRC:%.c=$(B)/obj/%.o)
VERIFY_OBJ := $(VERIFY_LIB_SRC:%.c=$(B)/obj/%.o)
LESSONS    := $(LESSON_SRC:lessons/%.c=$(B)/lessons/%)
PROGS      := $(PROG_SRC:lessons/%.c=$(B)/%) $(B)/verify
TESTS      := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCHES    := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
LIBS       := $(B)/libverify.a $(B)/liblessons.a $(B)/libmodels.a $(B)/libengine.a
HEADERS    := $(wildcard engine/*.h models/*.h lessons/*.h lessons/verify/*.h tests/*.h)

.PHONY: all test test-build run data plots bench fuzz clean install uninstall check
# predict, test_image and test_predict read PNG through libpng (Debian
# libpng-dev); without it the rest builds, and make says what is missing.
PNG_OBJ := $(B)/obj/models/image_png.o
PNG_TESTS := $(B)/tests/test_image $(B)/tests/test_predict
HAVE_PNG := $(shell printf '\043include <png.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1)
ifneq ($(HAVE_PNG),1)
$(warning libpng-dev is missing: build/predict and test_image, test_predict are not built (apt-get install libpng-dev; make run and .ci/run install it))
PROGS := $(filter-out $(B)/predict,$(PROGS))
TESTS := $(filter-out $(PNG_TESTS),$(TESTS))
endif

all: $(LIBS) $(LESSONS) $(PROGS)

$(B)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -c $< -o $@

$(B)/libengine.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/libmodels.a: $(MODELS_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/liblessons.a: $(SUPPORT_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/libverify.a: $(VERIFY_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/lessons/%: lessons/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) $< $(LIBS) $(LDLIBS) -o $@
$(B)/verify: lessons/verify/main.c $(LIBS) $(HEADERS)
	$(CC) $(ALLFLAGS) $< $(LIBS) $(LDLIBS) -o $@
$(B)/%: lessons/%.c $(LIBS) $(HEADERS)
	$(CC) $(ALLFLAGS) $< $(LIBS) $(LDLIBS) -o $@

$(PNG_OBJ): $(PNG_SRC) $(HEADERS)
	@[ "$(HAVE_PNG)" = 1 ] || { echo "$@: needs libpng: apt-get install libpng-dev" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -c $< -o $@
$(B)/predict: lessons/predict.c $(PNG_OBJ) $(LIBS) $(HEADERS)
	$(CC) $(ALLFLAGS) $< $(PNG_OBJ) $(LIBS) $(LDLIBS) -lpng -o $@
$(PNG_TESTS): $(B)/tests/%: tests/%.c $(PNG_OBJ) $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(PNG_OBJ) $(LIBS) $(LDLIBS) -lpng -o $@
$(B)/tests/%: tests/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(LIBS) $(LDLIBS) -o $@
# (compile lessons 08 and 10 in whole, to run their sentences' branches)
$(B)/tests/test_lesson10_text: lessons/10_cnn.c
$(B)/tests/test_lesson08_text: lessons/08_depth.c
$(B)/bench/%: tests/bench/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(LIBS) $(LDLIBS) -o $@

# The benches are built too: tests/test_hostile.sh feeds the MNIST bench bad data.
test-build: all $(TESTS) $(BENCHES)

# The reference build, then the sanitizer build; one total at the end.
test:
	@$(MAKE) --no-print-directory -s test-build
	@$(MAKE) --no-print-directory -s test-build B=build/asan SAN=1
	@bash tests/run.sh build build/asan

bench: all $(BENCHES)
	@bash tests/bench/run.sh

run: all
	@bash lessons/run.sh

data:
	@bash models/fetch_data.sh

plots:
	@bash plots/render.sh

fuzz:
	@bash tests/fuzz/run.sh

clean:
	rm -rf build

# ---- the engine as an installable C library ------------------------------
# One version number, in the file VERSION: --version of every program
# (lessons/cli.c), the shared library's name and soname, chainrule.pc.
# libchainrule is the engine alone (engine/*.c): models/ stays out, being
# the lessons' fast path (float32 kernels behind OpenMP and an AVX2 table,
# MNIST loaders, training loops) whose API follows the lessons, and it
# would make every user of the engine link OpenMP.
VERSION   := $(shell cat VERSION)
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR     = $(DESTDIR)$(PREFIX)/bin
LIBDIR     = $(DESTDIR)$(PREFIX)/lib
INCDIR     = $(DESTDIR)$(PREFIX)/include/chainrule
MAN1DIR    = $(DESTDIR)$(PREFIX)/share/man/man1
PUBLIC_H   := engine/chainrule.h engine/graph.h engine/ops.h engine/gradcheck.h \
              engine/rng.h engine/print.h engine/dot.h
SONAME     := libchainrule.so.$(SOVERSION)
CHAINRULE_LIBS := $(B)/libchainrule.a $(B)/libchainrule.so.$(VERSION)
PIC_OBJ    := $(ENGINE_SRC:%.c=$(B)/pic/%.o)
MANPAGES    = $(PROGS:$(B)/%=$(B)/man/%.1)
all: $(CHAINRULE_LIBS)
test-build: $(BENCHES)

$(B)/obj/lessons/cli.o: VERSION
$(B)/obj/lessons/cli.o: ALLFLAGS += -DCHAINRULE_VERSION='"$(VERSION)"'

$(B)/pic/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -fPIC -c $< -o $@
$(B)/libchainrule.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/libchainrule.so.$(VERSION): $(PIC_OBJ) VERSION
	$(CC) -shared -Wl,-soname,$(SONAME) $(SANFLAGS) -o $@ $(PIC_OBJ) -lm
	ln -sf libchainrule.so.$(VERSION) $(B)/$(SONAME)
	ln -sf $(SONAME) $(B)/libchainrule.so
$(B)/chainrule.pc: VERSION Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' 'libdir=$${exec_prefix}/lib' \
	    'includedir=$${prefix}/include' '' 'Name: chainrule' \
	    'Description: deterministic reverse-mode autodiff engine for learning backpropagation' \
	    'Version: $(VERSION)' 'Cflags: -I$${includedir}/chainrule' \
	    'Libs: -L$${libdir} -lchainrule' 'Libs.private: -lm' > $@.tmp && mv $@.tmp $@
# Man pages from each program's own --help and --version (help2man, Debian
# help2man): one source, nothing written twice. Without help2man, a note.
MAN_NAME_verify  = check a derivation against the engine, with a counterexample when it is wrong
MAN_NAME_predict = classify a handwritten digit with a model saved by a lesson
$(B)/man/%.1: $(B)/% VERSION Makefile
	@mkdir -p $(dir $@)
	@if command -v help2man >/dev/null 2>&1; then \
	    help2man --locale=C.UTF-8 --no-info --no-discard-stderr --section=1 --source='chainrule $(VERSION)' \
	        --name='$(or $(MAN_NAME_$(notdir $<)),a chainrule program)' \
	        --version-string='$(VERSION)' --output=$@.tmp ./$< && mv $@.tmp $@; \
	else echo "make: help2man is missing (apt-get install help2man): no man page for $(notdir $<)" >&2; fi

# PREFIX and DESTDIR as GNU: `make install PREFIX=/usr/local DESTDIR=`.
# $(B)/chainrule.pc is rewritten for the PREFIX given.
install: all $(MANPAGES)
	@rm -f $(B)/chainrule.pc
	@$(MAKE) --no-print-directory -s $(B)/chainrule.pc PREFIX='$(PREFIX)'
	mkdir -p $(BINDIR) $(LIBDIR)/pkgconfig $(INCDIR) $(MAN1DIR)
	install -m 644 $(B)/libchainrule.a $(LIBDIR)/libchainrule.a
	install -m 755 $(B)/libchainrule.so.$(VERSION) $(LIBDIR)/libchainrule.so.$(VERSION)
	ln -sf libchainrule.so.$(VERSION) $(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(LIBDIR)/libchainrule.so
	install -m 644 $(PUBLIC_H) $(INCDIR)/
	install -m 644 $(B)/chainrule.pc $(LIBDIR)/pkgconfig/chainrule.pc
	install -m 755 $(PROGS) $(BINDIR)/
	@for m in $(MANPAGES); do if [ -f $$m ]; then echo "install -m 644 $$m $(MAN1DIR)/"; install -m 644 $$m $(MAN1DIR)/; fi; done

# Removes exactly what install put there (and the include/chainrule/ it made).
uninstall:
	rm -f $(LIBDIR)/libchainrule.a $(LIBDIR)/libchainrule.so.$(VERSION) $(LIBDIR)/$(SONAME) \
	    $(LIBDIR)/libchainrule.so $(LIBDIR)/pkgconfig/chainrule.pc
	rm -f $(addprefix $(INCDIR)/,$(notdir $(PUBLIC_H)))
	rm -f $(addprefix $(BINDIR)/,$(notdir $(PROGS))) $(addprefix $(MAN1DIR)/,$(notdir $(MANPAGES)))
	-rmdir $(INCDIR) 2>/dev/null

# GNU's name for the test suite.
check: test
