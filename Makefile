# chainrule — make | make test | make run | make data | make plots | make bench
#
# Everything built goes under $(B) (default build/). `make test` builds the
# suite twice — the reference build and one with AddressSanitizer and
# UndefinedBehaviorSanitizer in build/asan — and runs both.

CC      ?= cc
B       ?= build
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Werror
CFLAGS  ?= -O2 -g
ALLFLAGS = -std=c11 $(CFLAGS) $(WARN) -ffp-contract=off -fopenmp -Iengine -Imodels $(SANFLAGS)
LDLIBS   = -lm -fopenmp
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ENGINE_SRC := $(wildcard engine/*.c)
MODELS_SRC := $(wildcard models/*.c)
LESSON_SRC := $(wildcard lessons/[0-9][0-9]_*.c)
TEST_SRC   := $(wildcard tests/test_*.c)
BENCH_SRC  := $(wildcard tests/bench/*.c)
VERIFY_SRC := $(wildcard lessons/verify.c)

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/obj/%.o)
MODELS_OBJ := $(MODELS_SRC:%.c=$(B)/obj/%.o)
LESSONS    := $(LESSON_SRC:lessons/%.c=$(B)/lessons/%)
TESTS      := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCHES    := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
VERIFY     := $(VERIFY_SRC:lessons/verify.c=$(B)/verify)
LIBS       := $(B)/libmodels.a $(B)/libengine.a
HEADERS    := $(wildcard engine/*.h models/*.h tests/*.h)

.PHONY: all test test-build run data plots bench fuzz clean
all: $(LIBS) $(LESSONS) $(VERIFY)

$(B)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -c $< -o $@

$(B)/libengine.a: $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/libmodels.a: $(MODELS_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/lessons/%: lessons/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) $< $(LIBS) $(LDLIBS) -o $@
$(B)/verify: lessons/verify.c $(LIBS) $(HEADERS)
	$(CC) $(ALLFLAGS) $< $(LIBS) $(LDLIBS) -o $@
$(B)/tests/%: tests/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(LIBS) $(LDLIBS) -o $@
$(B)/bench/%: tests/bench/%.c $(LIBS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLFLAGS) -Itests $< $(LIBS) $(LDLIBS) -o $@

test-build: all $(TESTS)

# The reference build, then the sanitizer build; one total at the end.
test:
	@$(MAKE) --no-print-directory -s test-build
	@$(MAKE) --no-print-directory -s test-build B=build/asan SAN=1
	@bash tests/run.sh build build/asan

bench: all $(BENCHES)
	@bash tests/bench/run.sh

run: all
	@bash tests/run_lessons.sh

data:
	@bash tests/data.sh

plots:
	@bash tests/plots.sh

fuzz:
	@bash tests/fuzz/run.sh

clean:
	rm -rf build
