# locktrace — top-level entry points.  The real build is CMake (CMakeLists.txt);
# this file is what a user types.
#
# Commands that run something (test, demo, bench, check-suites, kill-test,
# fuzz, deb) first install the Debian packages they need (`make deps`, which
# is quick when nothing is missing), so they work on a fresh machine.
# `make build` and `make install` only build and copy: they never ask for
# root or touch the package manager; if a package is missing, configuring
# says so and `make deps` installs it.
BUILD   ?= build
JOBS    ?= $(shell nproc)
PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all deps build build-with-deps test demo bench check-suites check-real check-clock kill-test fuzz install deb clean

all: build

# The Debian packages of scripts/deps/*.txt (the same script .ci/run calls).
deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || \
	    { echo "locktrace: configuring failed; if a package is missing, run: make deps" >&2; exit 1; }

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# deps, then build, in that order even under make -j.
build-with-deps: deps
	@$(MAKE) --no-print-directory build

# Builds everything, then runs unit and integration tests (real programs under the real shim).
test: build-with-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

# Traces a built-in program that hangs, reads its trace while it is still hung, prints the diagnosis.
demo: build-with-deps
	./scripts/demo.sh $(BUILD)

# Lock-heavy workloads and real programs untraced, under locktrace and under LTTng's
# pthread wrapper, in one interleaved run; prints ns/op, the ratios and ns per record
# (knobs: scripts/bench.sh; BENCH_ROUNDS=1 BENCH_HANG_RUNS=0 for a quick look).
bench: build-with-deps
	./scripts/install-deps.sh bench-extra
	./scripts/bench.sh $(BUILD)

# Third-party test suites (glibc nptl, kernel futex selftests, GLib) plain vs traced.
check-suites: build-with-deps
	./suites/run.sh $(BUILD)

# Real servers and runtimes from Debian under the shim (memcached, redis, sysbench,
# stress-ng, Python, pigz, Java): healthy ones read live idle and under load and
# after REAL_KILLS SIGKILLs each get no error or warning; hung ones are named right.
REAL_KILLS ?= 4
check-real: build-with-deps
	./scripts/install-deps.sh real
	./scripts/check-real.sh $(BUILD) $(REAL_KILLS)

# The trace's times against the traced program's own CLOCK_MONOTONIC for CLOCK_SECONDS.
CLOCK_SECONDS ?= 300
check-clock: build
	python3 tests/clock/check_clock.py --lib $(BUILD)/liblocktrace.so --decoder $(BUILD)/locktrace \
		--prog $(BUILD)/tests/clock/clock_stamps --seconds $(CLOCK_SECONDS)

# SIGKILL traced lock-heavy programs at random moments (KILLS times) and check every trace.
KILLS ?= 300
kill-test: build-with-deps
	./scripts/kill-loop.sh $(KILLS) $(BUILD)

# libFuzzer targets (clang, ASan+UBSan) for the trace and bundle readers, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 300
fuzz: build-with-deps
	./scripts/fuzz.sh $(FUZZ_SECONDS) $(BUILD)

# Builds only what is installed and copies it to $(DESTDIR)$(PREFIX): bin/locktrace,
# libexec/locktrace/liblocktrace.so, the man pages and the docs (cmake/install.cmake).
install: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target locktrace liblocktrace
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# The Debian package $(BUILD)/locktrace_VERSION_ARCH.deb (installs under /usr).
deb: deps
	@$(MAKE) --no-print-directory $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target locktrace liblocktrace
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD)
