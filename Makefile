# chainrule — make | make test | make run | make data | make plots | make bench
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
MODELS_SRC := $(wildcard models/*.c)
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

.PHONY: all test test-build run data plots bench fuzz clean
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
$(B)/tests/%: tests/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(LIBS) $(LDLIBS) -o $@
$(B)/bench/%: tests/bench/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(LIBS) $(LDLIBS) -o $@

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
