# sockshim — build, test and install.
# Conventions packagers expect: PREFIX, DESTDIR, SYSCONFDIR, LIBDIR, CFLAGS +=.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
SYSCONFDIR ?= $(PREFIX)/etc
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
WARN       := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
CFLAGS     ?= -O2 -g
ifeq ($(CI),true)
WARN       += -Werror
endif
# SANITIZE=address,undefined builds everything with those sanitizers.
ifneq ($(SANITIZE),)
SANFLAGS   := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif

INIH_CFLAGS := $(shell $(PKG_CONFIG) --cflags inih 2>/dev/null)
INIH_LIBDIR := $(shell $(PKG_CONFIG) --variable=libdir inih 2>/dev/null)
# inih is linked in statically so its symbols never meet an application's own copy.
INIH_STATIC := $(if $(INIH_LIBDIR),$(INIH_LIBDIR)/libinih.a,-l:libinih.a)

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden $(WARN) $(INIH_CFLAGS) \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' -DSOCKSHIM_VERSION='"$(VERSION)"' $(SANFLAGS) $(CFLAGS)

BUILD := build
# The source lists follow the folders of src/ (README, "Source layout").
# Objects keep flat names under $(BUILD); each folder sees the headers of
# the folders it builds on and no others (-I), so a wrong dependency does
# not compile: the engine sees only its own.
# The engine: pure code shared by every front end.
ENGINE_SRC := $(sort $(wildcard src/engine/*.c))
# What the two interposing front ends share: carrying out a decision on a
# socket, the log, start-up, the fd table.
ACT_SRC    := $(sort $(wildcard src/act/*.c))
ACT_INC    := -Isrc/engine
# The preload front end: the hooks.
PRELOAD_SRC := $(sort $(wildcard src/preload/*.c))
PRELOAD_INC := -Isrc/engine -Isrc/act
# The seccomp front end (sockshim --seccomp).
SECCOMP_SRC := $(sort $(wildcard src/seccomp/*.c))
SECCOMP_INC := -Isrc/engine -Isrc/act
# The launcher: the sockshim command (launcher.c, built into it directly),
# its run mode (run.c, rules of its own below) and `sockshim report`.
LAUNCHER_SRC := $(filter-out src/launcher/launcher.c src/launcher/run.c,$(sort $(wildcard src/launcher/*.c)))
LAUNCHER_INC := -Isrc/engine -Isrc/act -Isrc/seccomp
ALL_H      := $(wildcard src/*/*.h)
ENGINE_OBJ := $(ENGINE_SRC:src/engine/%.c=$(BUILD)/%.o)
ACT_OBJ    := $(ACT_SRC:src/act/%.c=$(BUILD)/%.o)
PRELOAD_OBJ := $(PRELOAD_SRC:src/preload/%.c=$(BUILD)/%.o)
SECCOMP_OBJ := $(SECCOMP_SRC:src/seccomp/%.c=$(BUILD)/%.o)
LAUNCHER_OBJ := $(LAUNCHER_SRC:src/launcher/%.c=$(BUILD)/%.o)
SHIM_OBJ   := $(ACT_OBJ) $(PRELOAD_OBJ)
# objects are named after their source alone: no two folders may share a name
DUP_C      := $(shell printf '%s\n' $(notdir $(wildcard src/*/*.c)) | sort | uniq -d)
ifneq ($(DUP_C),)
$(error files of the same name in two folders of src/ (objects are flat under $(BUILD)): $(DUP_C))
endif

LIB := $(BUILD)/libsockshim.so
LAUNCHER := $(BUILD)/sockshim

.PHONY: all test tests-build check-engine deps install install-config uninstall clean demo bench stress fuzz
all: $(LIB) $(LAUNCHER) $(BUILD)/libsockshim-engine.a
# plain make also makes the ./sockshim link the README uses (not for other BUILD dirs)
ifeq ($(BUILD),build)
all: sockshim
endif

$(BUILD):
	@mkdir -p $(BUILD)

$(ENGINE_OBJ): $(BUILD)/%.o: src/engine/%.c $(ALL_H) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(ACT_OBJ): $(BUILD)/%.o: src/act/%.c $(ALL_H) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(ACT_INC) -c -o $@ $<
$(PRELOAD_OBJ): $(BUILD)/%.o: src/preload/%.c $(ALL_H) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(PRELOAD_INC) -c -o $@ $<
$(SECCOMP_OBJ): $(BUILD)/%.o: src/seccomp/%.c $(ALL_H) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(SECCOMP_INC) -c -o $@ $<
$(LAUNCHER_OBJ): $(BUILD)/%.o: src/launcher/%.c $(ALL_H) | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(LAUNCHER_INC) -c -o $@ $<

$(BUILD)/libsockshim-engine.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(LIB): $(ENGINE_OBJ) $(SHIM_OBJ) src/preload/sockshim.map
	$(CC) -shared -o $@ $(ENGINE_OBJ) $(SHIM_OBJ) $(INIH_STATIC) \
		-Wl,--version-script=src/preload/sockshim.map -Wl,-z,now -Wl,-z,relro -ldl -lpthread $(SANFLAGS) $(LDFLAGS)

# The launcher is a static PIE entered at sockshim_start (src/launcher/run.c): run
# mode execs the command before the C library starts, so no dynamic loader
# and no libc start-up run in between. run.o must call nothing (checked).
# Each page it touches costs a fault: so no stack probes (they touch every
# page of its buffers; it keeps them far from the guard gap itself), and its
# string constants in its own .rodata, not merged all over the C library's.
# LAUNCHER_LDFLAGS= builds an ordinary launcher (sanitizer builds do).
RUN_CFLAGS := -fno-stack-protector $(shell for f in -fno-stack-clash-protection -fno-merge-constants; do \
	$(CC) -Werror $$f -x c -c -o /dev/null /dev/null 2>/dev/null && printf '%s ' $$f; done)
ifeq ($(SANITIZE),)
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
LAUNCHER_LDFLAGS ?= -static-pie -Wl,-e,sockshim_start
endif
endif

$(BUILD)/run.o: src/launcher/run.c src/launcher/run.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(RUN_CFLAGS) -DLIBDIR='"$(LIBDIR)"' -c -o $@ src/launcher/run.c
	@if echo '$(LAUNCHER_LDFLAGS)' | grep -q sockshim_start && nm -u $@ | grep -v ' _start$$' | grep -q .; then \
		echo "$@ calls out, but it runs before the C library starts:"; nm -u $@; rm -f $@; exit 1; fi

# The launcher holds the seccomp supervisor and `sockshim report`, and the
# shared log, start-up and actions, reused as they are (not the hooks).
SUP_OBJ    := $(SECCOMP_OBJ) $(LAUNCHER_OBJ) $(ACT_OBJ)

$(LAUNCHER): src/launcher/launcher.c $(BUILD)/run.o $(SUP_OBJ) $(BUILD)/libsockshim-engine.a $(ALL_H)
	$(CC) $(ALL_CFLAGS) $(LAUNCHER_INC) -DSYSCONFDIR_TEXT='"$(SYSCONFDIR)/sockshim/sockshim.ini"' \
		-o $@ src/launcher/launcher.c $(BUILD)/run.o $(SUP_OBJ) $(BUILD)/libsockshim-engine.a $(INIH_STATIC) \
		$(LAUNCHER_LDFLAGS) -lpthread -ldl $(SANFLAGS) $(LDFLAGS)

# The launcher at the top of the tree, as the README uses it.
sockshim: $(LAUNCHER)
	ln -sf $(LAUNCHER) sockshim

# The main job on the default policy, against real programs (python3, curl).
demo: all sockshim
	@examples/quickstart/run.sh

# ---- tests ----
# Unit tests: tests/unit/NAME.c -> build/tests/unit-NAME, linked with the engine
# only (no preload). Probes: tests/helpers/NAME.c -> build/tests/NAME.
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit-%)
PROBE_SRC  := $(wildcard tests/helpers/*.c)
PROBE_BIN  := $(PROBE_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -Wno-missing-prototypes -Isrc/engine $(INIH_CFLAGS) $(SANFLAGS)

$(BUILD)/tests/unit-%: tests/unit/%.c $(BUILD)/libsockshim-engine.a $(ALL_H)
	@mkdir -p $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libsockshim-engine.a $(INIH_STATIC) -lcmocka -lpthread

$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< -lpthread -ldl

# the log reader of `sockshim report`, against lines the shim's own logger writes
$(BUILD)/tests/unit-report_parse: tests/unit/report_parse.c $(BUILD)/report_parse.o $(BUILD)/log.o $(BUILD)/logresolve.o $(BUILD)/logstart.o $(BUILD)/warnrate.o $(BUILD)/sink.o $(BUILD)/fdtab.o $(BUILD)/real.o $(BUILD)/libsockshim-engine.a $(ALL_H)
	@mkdir -p $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -Isrc/act -Isrc/launcher -o $@ $< $(filter %.o,$^) $(BUILD)/libsockshim-engine.a $(INIH_STATIC) -lcmocka -lpthread -ldl

# the random differential probe keeps its trace side in a header of its own;
# it is never built with a sanitizer: it hands libc unreadable pointers on
# purpose, which the sanitizer's own wrappers of accept and the like read
$(BUILD)/tests/diffrand: tests/helpers/diffrand.h
$(BUILD)/tests/diffrand: TEST_CFLAGS := $(filter-out $(SANFLAGS),$(TEST_CFLAGS))

# The engine stands alone: no file of src/engine includes a header from
# elsewhere (its objects are built without -I flags, and this says so
# plainly), and its objects with inih link into a shared object that may
# leave no symbol undefined (-z defs): nothing from the other folders.
check-engine: $(ENGINE_OBJ)
	@bad=$$(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src/engine/*.[ch] | \
		while IFS= read -r l; do h=$${l#*\"}; h=$${h%%\"*}; \
		case $$h in */*) echo "$$l" ;; *) [ -f "src/engine/$$h" ] || echo "$$l" ;; esac; done); \
	if [ -n "$$bad" ]; then echo "src/engine includes headers from outside it:"; echo "$$bad"; exit 1; fi
	$(CC) -shared -Wl,-z,defs -o $(BUILD)/engine-alone.so $(ENGINE_OBJ) $(INIH_STATIC) -lpthread $(SANFLAGS) $(LDFLAGS)

tests-build: all check-engine $(UNIT_BIN) $(PROBE_BIN)

deps:
	@tests/deps.sh

# make test [ONLY="words"] runs every test (or those whose name contains one of the words);
# FRONTEND=seccomp runs the end-to-end tests that apply to both front ends under the supervisor.
test: deps
	@$(MAKE) --no-print-directory tests-build
	@SOCKSHIM_FRONTEND=$(FRONTEND) tests/run.sh "$(ONLY)"

# make stress [ROUNDS=N]: the concurrency and lifecycle tests N times, then under TSan.
stress: deps
	@$(MAKE) --no-print-directory tests-build
	@BUILD=$(BUILD) tests/stress.sh $(ROUNDS)

# make fuzz [FUZZ_TIME=seconds]: libFuzzer on the policy parser and the engine (clang).
fuzz:
	@BUILD=$(BUILD) tests/fuzz/run.sh $(FUZZ_TIME)

# The floor of the seccomp benchmarks: the supervisor's own filter builder,
# every call answered with CONTINUE (tests/bench/seccomp/floorsup.c).
FLOORSUP_OBJ := $(filter %/sfilter.o %/optread.o,$(SUP_OBJ))
$(BUILD)/bench/floorsup: tests/bench/seccomp/floorsup.c $(FLOORSUP_OBJ) $(BUILD)/libsockshim-engine.a $(ALL_H)
	@mkdir -p $(BUILD)/bench
	$(CC) $(TEST_CFLAGS) -O2 -Isrc/seccomp -o $@ $< $(filter %.o,$^) $(BUILD)/libsockshim-engine.a $(INIH_STATIC) -lpthread

# make bench [ONLY=substring]: the benchmarks of tests/bench/, a table of figures.
bench: all $(BUILD)/bench/floorsup
	@BUILD=$(BUILD) tests/bench/run.sh $(ONLY)

clean:
	rm -rf $(BUILD) sockshim

BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/libsockshim.so
	install -m 0755 $(LAUNCHER) $(DESTDIR)$(BINDIR)/sockshim
	@for m in doc/sockshim.1 doc/sockshim.ini.5 doc/sockshim-log.5; do [ -f $$m ] || continue; \
		s=$${m##*.}; echo install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -m 0644 doc/sockshim.bash-completion $(DESTDIR)$(BASHCOMPDIR)/sockshim

install-config:
	install -d $(DESTDIR)$(SYSCONFDIR)/sockshim
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/sockshim/sockshim.ini ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/sockshim/sockshim.ini"; \
	else \
		install -m 0644 conf/sockshim.ini $(DESTDIR)$(SYSCONFDIR)/sockshim/sockshim.ini; \
	fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsockshim.so $(DESTDIR)$(BINDIR)/sockshim \
		$(DESTDIR)$(MANDIR)/man1/sockshim.1 $(DESTDIR)$(MANDIR)/man5/sockshim.ini.5 $(DESTDIR)$(MANDIR)/man5/sockshim-log.5 $(DESTDIR)$(BASHCOMPDIR)/sockshim
