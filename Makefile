# locktrace — top-level entry points.  The real build is CMake (CMakeLists.txt);
# this file is what a user types.
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all deps build test demo bench check-suites kill-test fuzz clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Builds everything, then runs unit and integration tests (real programs under the real shim).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

# Traces a built-in program that hangs, reads its trace while it is still hung, prints the diagnosis.
demo: build
	./scripts/demo.sh $(BUILD)

# Lock-heavy workloads untraced and traced in one run; prints ns/op and the ratio.
bench: build
	./scripts/bench.sh $(BUILD)

# Third-party test suites (glibc nptl, kernel futex selftests, GLib) plain vs traced.
check-suites: build
	./suites/run.sh $(BUILD)

# SIGKILL traced lock-heavy programs at random moments (KILLS times) and check every trace.
KILLS ?= 300
kill-test: build
	./scripts/kill-loop.sh $(KILLS) $(BUILD)

# libFuzzer targets (clang, ASan+UBSan) for the trace and bundle readers, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 300
fuzz: build
	./scripts/fuzz.sh $(FUZZ_SECONDS) $(BUILD)

clean:
	rm -rf $(BUILD)
