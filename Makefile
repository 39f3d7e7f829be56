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
# The engine: pure code shared by every front end.
ENGINE_SRC := src/fmt.c src/addr.c src/arena.c src/netset.c src/names.c src/nameset.c src/glob.c src/policy.c src/policy_read.c src/policy_keys.c src/policy_rule.c src/shadow.c src/index.c src/engine.c src/decide.c src/rotate.c
ENGINE_SRC += src/kaddr.c
ENGINE_SRC += src/hostname.c src/hosttab.c
# The preload front end.
SHIM_SRC   := src/log.c src/setup.c src/real.c src/peek.c src/fdtab.c src/optlog.c src/actions.c src/window.c src/connstate.c src/shim.c src/accept.c src/hooks.c
SHIM_SRC   += src/sink.c
SHIM_SRC   += src/logstart.c src/warnrate.c
SHIM_SRC   += src/periodic.c
SHIM_SRC   += src/held.c
SHIM_SRC   += src/reload.c
SHIM_SRC   += src/resolve.c src/answer.c
ENGINE_OBJ := $(ENGINE_SRC:src/%.c=$(BUILD)/%.o)
SHIM_OBJ   := $(SHIM_SRC:src/%.c=$(BUILD)/%.o)

LIB := $(BUILD)/libsockshim.so
LAUNCHER := $(BUILD)/sockshim

.PHONY: all test tests-build deps install install-config uninstall clean demo bench stress fuzz
all: $(LIB) $(LAUNCHER) $(BUILD)/libsockshim-engine.a
# plain make also makes the ./sockshim link the README uses (not for other BUILD dirs)
ifeq ($(BUILD),build)
all: sockshim
endif

$(BUILD):
	@mkdir -p $(BUILD)

$(BUILD)/%.o: src/%.c src/*.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libsockshim-engine.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(LIB): $(ENGINE_OBJ) $(SHIM_OBJ) src/sockshim.map
	$(CC) -shared -o $@ $(ENGINE_OBJ) $(SHIM_OBJ) $(INIH_STATIC) \
		-Wl,--version-script=src/sockshim.map -Wl,-z,now -Wl,-z,relro -ldl -lpthread $(SANFLAGS) $(LDFLAGS)

# The launcher is a static PIE entered at sockshim_start (src/run.c): run
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

$(BUILD)/run.o: src/run.c src/run.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(RUN_CFLAGS) -DLIBDIR='"$(LIBDIR)"' -c -o $@ src/run.c
	@if echo '$(LAUNCHER_LDFLAGS)' | grep -q sockshim_start && nm -u $@ | grep -v ' _start$$' | grep -q .; then \
		echo "$@ calls out, but it runs before the C library starts:"; nm -u $@; rm -f $@; exit 1; fi

# The seccomp supervisor (sockshim --seccomp): its own files, and the
# preload's log, start-up and actions, reused as they are (not its hooks).
SUP_SRC    := src/sfilter.c src/supcall.c src/supervise.c src/supserve.c src/optread.c src/supsend.c
# sockshim report: reads decision logs, its own files
SUP_SRC    += src/report.c src/report_parse.c src/report_tab.c
SUP_OBJ    := $(SUP_SRC:src/%.c=$(BUILD)/%.o) $(filter-out $(BUILD)/shim.o $(BUILD)/accept.o $(BUILD)/hooks.o $(BUILD)/resolve.o $(BUILD)/answer.o,$(SHIM_OBJ))

$(LAUNCHER): src/launcher.c $(BUILD)/run.o $(SUP_OBJ) $(BUILD)/libsockshim-engine.a src/*.h
	$(CC) $(ALL_CFLAGS) -DSYSCONFDIR_TEXT='"$(SYSCONFDIR)/sockshim/sockshim.ini"' \
		-o $@ src/launcher.c $(BUILD)/run.o $(SUP_OBJ) $(BUILD)/libsockshim-engine.a $(INIH_STATIC) \
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
TEST_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -Wno-missing-prototypes -Isrc $(INIH_CFLAGS) $(SANFLAGS)

$(BUILD)/tests/unit-%: tests/unit/%.c $(BUILD)/libsockshim-engine.a src/*.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libsockshim-engine.a $(INIH_STATIC) -lcmocka -lpthread

$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< -lpthread -ldl

# the log reader of `sockshim report`, against lines the shim's own logger writes
$(BUILD)/tests/unit-report_parse: tests/unit/report_parse.c $(BUILD)/report_parse.o $(BUILD)/log.o $(BUILD)/logstart.o $(BUILD)/warnrate.o $(BUILD)/sink.o $(BUILD)/fdtab.o $(BUILD)/real.o $(BUILD)/libsockshim-engine.a src/*.h
	@mkdir -p $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(filter %.o,$^) $(BUILD)/libsockshim-engine.a $(INIH_STATIC) -lcmocka -lpthread -ldl

# the random differential probe keeps its trace side in a header of its own;
# it is never built with a sanitizer: it hands libc unreadable pointers on
# purpose, which the sanitizer's own wrappers of accept and the like read
$(BUILD)/tests/diffrand: tests/helpers/diffrand.h
$(BUILD)/tests/diffrand: TEST_CFLAGS := $(filter-out $(SANFLAGS),$(TEST_CFLAGS))

tests-build: all $(UNIT_BIN) $(PROBE_BIN)

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

# make bench [ONLY=substring]: the benchmarks of tests/bench/, a table of figures.
bench: all
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
