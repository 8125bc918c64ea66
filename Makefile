# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake. The two commands of the README:
#   make demo   the whole chain on a fresh data directory
#   make test   every test, through CTest
#   make demo-cluster  three ztpd on one PostgreSQL behind HAProxy, one killed
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo demo-cluster bench fuzz clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

demo: build
	@bash scripts/demo.sh $(BUILD)

demo-cluster: build
	@bash scripts/demo-cluster.sh $(BUILD)

bench: build
	@bash scripts/bench.sh $(BUILD)

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
