# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake. The two commands of the README:
#   make demo   the whole chain on a fresh data directory
#   make test   every test, through CTest (the store on SQLite)
#   make test-pg the store's tests again on a real PostgreSQL they start
#               (ctest -L pg; docs/testing.md)
#   make demo-cluster  three ztpd on one PostgreSQL behind HAProxy, one killed
#   make size   the device core's flash and RAM on a Cortex-M4 and x86-64
#               (scripts/size.sh, docs/device-core.md)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# the PostgreSQL copies mostly wait (on the server, on ztpd): more at once than cores
PG_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))
# the labels make test leaves out (ctest -LE): the PostgreSQL copies (make
# test-pg runs them); CI's sanitizer run also leaves out the slow ones
TEST_EXCLUDE ?= pg
CMAKE_FLAGS ?=

.PHONY: all deps build test test-pg demo demo-cluster bench fuzz size clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600 -LE '$(TEST_EXCLUDE)'

test-pg: build
	@cd $(BUILD) && ctest --output-on-failure -j$(PG_JOBS) --timeout 600 -L pg

demo: build
	@bash scripts/demo.sh $(BUILD)

demo-cluster: build
	@bash scripts/demo-cluster.sh $(BUILD)

bench: build
	@bash scripts/bench.sh $(BUILD)

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

# compiles the core by itself (not the CMake build): BUILD/size
size:
	@bash scripts/size.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
