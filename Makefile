# Tributary: the two commands of the set-up contract, plus helpers.
#   make run    install missing Debian packages, build (Release), serve on :5000 with ./var
#   make test   the same install and build, then every test through ctest
BUILD_DIR ?= build
BUILD_TYPE ?= Release
PORT ?= 5000
DATA ?= ./var
JOBS ?= $(shell nproc)

DEB_PACKAGES := build-essential cmake ninja-build pkg-config git \
	librocksdb-dev libboost-graph-dev nlohmann-json3-dev libcpp-httplib-dev \
	libgraphviz-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev libssl-dev \
	libbrotli-dev liblz4-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core libjemalloc-dev python3
# What `make bench` needs besides: the peer's PostgreSQL.
BENCH_PACKAGES := postgresql

.PHONY: all deps bench-deps build run test test-sanitize bench clean format

all: build

# Installs only what is missing of the packages $(1), so a machine that has everything never
# calls apt.
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PACKAGES))

bench-deps:
	$(call install_missing,$(BENCH_PACKAGES))

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@launcher=""; command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; \
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $$launcher

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/tributary serve --data $(DATA) --port $(PORT) --load-samples-if-empty samples

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The whole benchmark suite at about 10^5 and 10^6 column edges, the peer and the ceilings in
# the same run, and the targets checked (docs/benchmarks.md): under 10 minutes. The report
# goes to $(BUILD_DIR)/bench/report.md, the figures to $(BUILD_DIR)/bench/results.json.
bench: build bench-deps
	python3 bench/suite.py --build $(BUILD_DIR)

# Every test under AddressSanitizer and UndefinedBehaviorSanitizer, in its own build tree.
test-sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIB_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-asan

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')
