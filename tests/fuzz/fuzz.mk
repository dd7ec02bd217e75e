# fuzz.mk - builds the libFuzzer targets (driven by tests/fuzz/run.sh).
#
# Module libraries are compiled again with clang and -fsanitize=fuzzer-no-link
# plus ASan/UBSan into $(FUZZ_BUILD)/lib<module>.a (the stage commands,
# cmd_*.c, are left out: no target needs them). A target tests/fuzz/fuzz_X.c
# names the modules it links on a line "FUZZ_MODULES: common ingest"; linking
# goes through archives, so new files in a module never need listing here.
# LDLIBS comes from the main Makefile (run.sh passes it).

FUZZ_BUILD ?= build-fuzz
FCC        ?= clang
FCXX       ?= clang++
LDLIBS     ?= -lzstd -lz -ldeflate -lpcre2-8 -lxxhash -larchive -lutf8proc \
              -lgumbo -luchardet -lcld2 -lstdc++ -lpthread -lm

SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
COMMON := -g -O1 -D_GNU_SOURCE -I. -MMD -MP -Wall -Wno-unknown-pragmas $(SAN)
FCFLAGS   := -std=gnu11 $(COMMON) -fsanitize=fuzzer-no-link
FCXXFLAGS := -std=gnu++17 $(COMMON) -fsanitize=fuzzer-no-link

FUZZ_MODS := common ingest clean dedup tokenize mix pipeline cat
modsrc = $(filter-out $(1)/cmd_%,$(wildcard $(1)/*.c $(1)/*.cc))
modobj = $(patsubst %.cc,$(FUZZ_BUILD)/%.o,$(patsubst %.c,$(FUZZ_BUILD)/%.o,$(call modsrc,$(1))))

TARGET_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
TARGETS     := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(TARGET_SRCS))
mods_of = $(shell sed -n 's/.*FUZZ_MODULES:[[:space:]]*\([a-z ]*\).*/\1/p' $(1) | head -n 1)

.PHONY: all
all: $(TARGETS)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FCC) $(FCFLAGS) -c $< -o $@
$(FUZZ_BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(FCXX) $(FCXXFLAGS) -c $< -o $@

define LIB_RULE
$(FUZZ_BUILD)/lib$(1).a: $(call modobj,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(FUZZ_MODS),$(eval $(call LIB_RULE,$(m))))

# The target itself: compiled with -fsanitize=fuzzer (libFuzzer's main).
define TARGET_RULE
$(FUZZ_BUILD)/$(1): tests/fuzz/$(1).c $(foreach m,$(call mods_of,tests/fuzz/$(1).c),$(FUZZ_BUILD)/lib$(m).a)
	@mkdir -p $$(dir $$@)
	$(FCC) -std=gnu11 $(COMMON) -fsanitize=fuzzer -c $$< -o $$@.o
	$(FCXX) -fsanitize=fuzzer $(SAN) -o $$@ $$@.o -Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group $(LDLIBS)
endef
$(foreach t,$(patsubst tests/fuzz/%.c,%,$(TARGET_SRCS)),$(eval $(call TARGET_RULE,$(t))))

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
