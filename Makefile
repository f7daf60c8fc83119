# The README's two commands: `make demo` and `make test`.  Both install the Debian
# packages that are missing (once), configure and build.  Warnings are errors in
# `make test` (WERROR=ON, which CI runs), not in a user's build.
BUILD      ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
WERROR     ?=
WERROR_FLAG = $(if $(WERROR),-DSHARDWAVE_WERROR=$(WERROR))
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SW         := $(BUILD)/shardwave
EXAMPLE    ?= examples/llama3-8b.yaml
APT_PKGS   := flex bison libyaml-dev libcmocka-dev libopenmpi-dev openmpi-bin graphviz pkg-config cmake python3-venv

.PHONY: all deps build asan release test test-asan pytest demo clean

all: build

deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# configure DIR TYPE [OPTIONS]: once, and again whenever WERROR is given
configure = if [ ! -f $(1)/CMakeCache.txt ] || [ -n "$(WERROR)" ]; then \
	  cmake -S . -B $(1) -DCMAKE_BUILD_TYPE=$(2) $(WERROR_FLAG) $(3) >/dev/null; fi

build: deps
	@$(call configure,$(BUILD),RelWithDebInfo)
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@$(call configure,$(ASAN_BUILD),Debug,-DSHARDWAVE_SANITIZE=ON)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The Python package's tests (python/tests) run in a virtual environment under $(BUILD)
# with numpy and pytest (from PyPI when the interpreter lacks them), against the library
# just built.  PYTEST_PYTHON=/path/to/python uses another interpreter (one with torch: the
# torch tests are skipped, and say so, without it).  SHARDWAVE_TEST_PIP=1 (set by `make
# test`) also checks `pip install .` into a fresh virtual environment.
PYTHON        ?= python3
PYVENV        := $(BUILD)/pyenv
PYTEST_PYTHON ?= $(PYVENV)/bin/python
SHARDWAVE_TEST_PIP ?= 1

$(PYVENV)/.ready:
	$(PYTHON) -m venv --system-site-packages $(PYVENV)
	$(PYVENV)/bin/python -c "import numpy, pytest" 2>/dev/null || $(PYVENV)/bin/python -m pip install -q numpy pytest
	touch $@

pytest: build $(if $(filter $(PYVENV)/bin/python,$(PYTEST_PYTHON)),$(PYVENV)/.ready)
	SHARDWAVE_LIBRARY=$(abspath $(BUILD))/libshardwave.so SHARDWAVE_CLI=$(abspath $(SW)) \
	  SHARDWAVE_TEST_PIP=$(SHARDWAVE_TEST_PIP) $(PYTEST_PYTHON) -m pytest python/tests -q -rs

# Release (-O3): GCC warns about some things at -O3 only; built, and its unit tests run.
release: deps
	@$(call configure,$(RELEASE_BUILD),Release)
	cmake --build $(RELEASE_BUILD) -j $(JOBS)

# All tests, warnings as errors: unit + end-to-end + conformance on the normal build, the
# Python package's tests, the unit tests again under ASan+UBSan, and the unit tests of a
# Release build.
test: WERROR = ON
test: build asan release
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory pytest
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit
	cd $(RELEASE_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

# The main job on the embedded default (the local backend): check the Llama-3-8B layouts,
# compile the refit at full size (plan, DAG, Gantt chart), then run it validated at a size
# that fits this machine's memory (every rank is a thread of one process here).
OUT       ?= out
DEMO_TINY ?= -D hidden=512 -D layers=4 -D vocab=4096 -D multiple_of=64
demo: build
	@mkdir -p $(OUT)
	$(SW) check $(EXAMPLE)
	$(SW) compile $(EXAMPLE) -o $(OUT)/llama3-8b.swp
	$(SW) dot $(OUT)/llama3-8b.swp -o $(OUT)/llama3-8b.dot
	dot -Tsvg $(OUT)/llama3-8b.dot -o $(OUT)/llama3-8b-dag.svg
	$(SW) sim $(OUT)/llama3-8b.swp --svg $(OUT)/llama3-8b-gantt.svg | tail -3
	$(SW) compile $(EXAMPLE) $(DEMO_TINY) -o $(OUT)/llama3-8b-small.swp
	$(SW) run $(OUT)/llama3-8b-small.swp --backend local --validate --iters 5
	@echo "demo: wrote $(OUT)/llama3-8b.swp, $(OUT)/llama3-8b-dag.svg (the task DAG), $(OUT)/llama3-8b-gantt.svg (the Gantt chart)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(OUT)
