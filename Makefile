# quern - one binary, one library per stage (DESIGN.md section 1).
#
#   make              build build/quern (and build/quern-cuda.so when nvcc is found)
#   make test         deps, build, unit + end-to-end tests, then all again under ASan+UBSan
#   make demo         deps, build, the whole pipeline on the bundled sample
#   make deps         install missing Debian packages (deps/*.txt)
#   make bench        side-by-side benchmarks (bench/)
#   make fuzz         run every libFuzzer target for FUZZ_SECONDS each
#   make gpu-check    CUDA parity + speed check (on a GPU machine)
#   make cuda         like make, but fails when nvcc is missing
#   make unit MOD=x   build and run one module's unit tests only (fast loop)
#   make install      PREFIX/bin/quern (+ PREFIX/lib/quern/quern-cuda.so), DESTDIR honoured
#
# Variables: BUILD=dir (default build), SAN=1 (ASan+UBSan), NO_CUDA=1, JOBS,
#            PREFIX (default /usr/local), DESTDIR.

BUILD   ?= build
SAN     ?=
CC      ?= cc
CXX     ?= c++

MODULES := common cat ingest clean dedup tokenize mix trainer pipeline
# Which module libraries each module's tests link (besides its own + common).
DEPS_trainer  := tokenize
DEPS_pipeline := ingest clean dedup tokenize mix trainer cat

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -fopenmp -MMD -MP -I.
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=gnu++17 $(WARN) -D_GNU_SOURCE -fopenmp -MMD -MP -I.
LDFLAGS += -fopenmp
LDLIBS  += -lzstd -lz -ldeflate -lpcre2-8 -lxxhash -larchive -lutf8proc \
           -lgumbo -luchardet -lcld2 -lstdc++ -lpthread -lm

ifeq ($(SAN),1)
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  CFLAGS   += $(SANFLAGS) -O1
  CXXFLAGS += $(SANFLAGS) -O1
  LDFLAGS  += $(SANFLAGS)
  NO_CUDA  := 1
endif

# ---- CUDA: compiled whenever nvcc and the CUDA runtime libraries are present ----
# nvcc may be a wrapper script outside the toolkit (/usr/local/bin/nvcc), so the
# toolkit root is asked of nvcc itself (its TOP), not derived from nvcc's path.
# Without libcudart/libcublas next to it the build falls back to CPU-only.
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifneq ($(NVCC),)
ifeq ($(NO_CUDA),)
  CUDA_HOME ?= $(shell $(NVCC) --dryrun -c -x cu /dev/null -o /dev/null 2>&1 | \
                 sed -n 's/^\#\$$ TOP=//p' | head -n1 | xargs -r realpath 2>/dev/null)
  CUDA_LIBDIR := $(firstword $(foreach d,$(CUDA_HOME)/lib64 $(CUDA_HOME)/targets/x86_64-linux/lib \
                   $(patsubst %/bin/nvcc,%,$(NVCC))/lib64 /usr/local/cuda/lib64,\
                   $(if $(and $(wildcard $(d)/libcudart.so),$(wildcard $(d)/libcublas.so),$(wildcard $(d)/libcublasLt.so)),$(d))))
  ifeq ($(CUDA_LIBDIR),)
    $(warning nvcc found ($(NVCC)) but not libcudart/libcublas/libcublasLt; building without CUDA)
  else
    CUDA_SRCS  := $(wildcard trainer/*.cu)
  endif
  CUDA_ARCHS ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
                -gencode arch=compute_90,code=compute_90
  NVCCFLAGS  ?= -O3 -std=c++17 $(CUDA_ARCHS) -I. -Xcompiler -Wall,-Wextra,-Werror -MMD -MP
  # The backend is a plugin (trainer/cuda_plugin.h), loaded with dlopen only when
  # training asks for a GPU: quern itself links no CUDA library, so no other
  # command loads cuBLASLt and quern starts where the CUDA libraries are absent.
  ifneq ($(CUDA_SRCS),)
    CUDA_PLUGIN := $(BUILD)/quern-cuda.so
  endif
endif
endif
CUDA_OBJS := $(patsubst %.cu,$(BUILD)/%.cu.o,$(CUDA_SRCS))

# ---- sources ----
modsrc  = $(filter-out %.cu,$(wildcard $(1)/*.c $(1)/*.cc))
modobj  = $(patsubst %.cc,$(BUILD)/%.o,$(patsubst %.c,$(BUILD)/%.o,$(call modsrc,$(1))))
LIBS    := $(foreach m,$(MODULES),$(BUILD)/lib$(m).a)
QUERN   := $(BUILD)/quern

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
testmod    = $(word 2,$(subst _, ,$(notdir $(basename $(1)))))

.PHONY: all deps test check unit demo bench fuzz gpu-check clean tests cuda install uninstall
all: $(QUERN) $(CUDA_PLUGIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@
$(BUILD)/%.cu.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -Xcompiler -fPIC -c $< -o $@

define LIB_RULE
$(BUILD)/lib$(1).a: $(call modobj,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call LIB_RULE,$(m))))

$(QUERN): $(BUILD)/quern.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/quern.o -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS)

# quern-cuda.so (CUDA section above): the .cu objects, a private
# position-independent copy of model.c (parameter layout), the CUDA libraries
# found through its own rpath; only quern_cuda_plugin is exported
# (trainer/cuda_plugin.map), and -z defs makes a missing symbol a build error
# rather than a dlopen failure.
ifneq ($(CUDA_PLUGIN),)
$(CUDA_PLUGIN): $(CUDA_OBJS) $(BUILD)/trainer/model.pic.o trainer/cuda_plugin.map
	$(CXX) -shared -fopenmp -Wl,-z,defs -Wl,--version-script=trainer/cuda_plugin.map -o $@ \
	  $(filter %.o,$^) -L$(CUDA_LIBDIR) -Wl,-rpath,$(CUDA_LIBDIR) -lcublasLt -lcublas -lcudart
endif
$(BUILD)/trainer/model.pic.o: trainer/model.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c $< -o $@

# A test links its own module's library, that module's DEPS_ and common.
define TEST_RULE
$(BUILD)/tests/$(1): $(BUILD)/tests/$(1).o $(foreach m,$(call testmod,$(1)) $(DEPS_$(call testmod,$(1))) common,$(BUILD)/lib$(m).a)
	$(CC) $(LDFLAGS) -o $$@ $$< -Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group -lcmocka $(LDLIBS)
endef
$(foreach t,$(notdir $(basename $(TEST_SRCS))),$(eval $(call TEST_RULE,$(t))))

tests: $(QUERN) $(CUDA_PLUGIN) $(TEST_BINS)

deps:
	@bash scripts/deps.sh

# check: run the suite for this BUILD (no deps step). test: the full thing.
check: tests
	@QUERN=$(abspath $(QUERN)) BUILD=$(abspath $(BUILD)) bash tests/run.sh $(TEST_BINS)

test: deps
	$(MAKE) check
	$(MAKE) check SAN=1 BUILD=$(BUILD)/asan

unit: $(BUILD)/libcommon.a
	$(MAKE) $(filter $(BUILD)/tests/test_$(MOD)%,$(TEST_BINS))
	@for t in $(filter $(BUILD)/tests/test_$(MOD)%,$(TEST_BINS)); do echo "== $$t"; $$t || exit 1; done

demo: deps
	$(MAKE) all
	@QUERN=$(abspath $(QUERN)) bash scripts/demo.sh

bench: all
	@QUERN=$(abspath $(QUERN)) bash bench/run.sh

fuzz:
	@bash tests/fuzz/run.sh

gpu-check:
	@bash trainer/gpu_check.sh

# The CUDA plugin is built by `make` whenever nvcc is found; this target insists on it.
cuda:
	@test -n "$(NVCC)" || { echo "make cuda: nvcc not found (install the CUDA Toolkit, or set NVCC=/path/to/nvcc)" >&2; exit 2; }
	@test -n "$(CUDA_PLUGIN)" || { echo "make cuda: no quern-cuda.so to build (NO_CUDA/SAN set, or nvcc without libcudart/libcublas/libcublasLt)" >&2; exit 2; }
	$(MAKE) all

# The plugin goes where quern looks for it when it is not beside the binary:
# ../lib/quern/ relative to quern's directory (trainer/cuda_plugin.c).
PREFIX  ?= /usr/local
install: all
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 755 "$(QUERN)" "$(DESTDIR)$(PREFIX)/bin/quern"
ifneq ($(CUDA_PLUGIN),)
	install -d "$(DESTDIR)$(PREFIX)/lib/quern"
	install -m 755 "$(CUDA_PLUGIN)" "$(DESTDIR)$(PREFIX)/lib/quern/quern-cuda.so"
endif

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/quern" "$(DESTDIR)$(PREFIX)/lib/quern/quern-cuda.so"
	-rmdir "$(DESTDIR)$(PREFIX)/lib/quern" 2>/dev/null

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
