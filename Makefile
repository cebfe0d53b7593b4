# vigil - thin wrapper around CMake. The two commands a new user needs:
#   make demo   install what is missing, build, run the demo (about 20 s)
#   make test   install what is missing, build with -Wall -Wextra -Werror, run every test
# More: make build, make asan (the suite under AddressSanitizer + UBSan), make bench.

BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test asan demo bench clean

all: build

deps:
	@deploy/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@deploy/demo.sh $(BUILD)

bench: build
	@bench/run.sh all

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
