# lbvm — one binary, built from the layer folders; tests and fuzzers link the same objects.
#
#   make              build/lbvm
#   make run          install dependencies, build, run live-bootstrap's 2021 chain in lbvm (needs /dev/kvm)
#   make check        install test dependencies (Debian/Ubuntu), build with gcc and clang, run every test
#   make fixtures     fetch the test fixtures (Debian kernels, busybox, ...) into ~/.cache/lbvm/fixtures
#   make unit         Check unit tests under ASan + UBSan
#   make cli-tests    shell tests of the command line (no KVM needed)
#   make host-tests   the KVM scenarios inside the KVM test host (tests/host/; HOST_SUITES=a,b picks suites)
#   make fuzz         libFuzzer targets, a bounded run each (FUZZ_SECONDS)
#   make bench        benchmarks (bench/), not tests

CC       ?= cc
CFLAGS   ?= -O2 -g
BUILD    ?= build
SAN      ?=
PKGS     := libcurl ext2fs com_err libelf zlib libcrypto libseccomp libarchive json-c slirp
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(WARNINGS) $(CFLAGS) $(SAN) -MMD -MP \
             $(shell pkg-config --cflags $(PKGS))
LIBS     = $(shell pkg-config --libs $(PKGS)) -lpthread
CHECK_LIBS = $(shell pkg-config --libs check)

# Every .c in a layer folder is part of the program; cli/main.c alone holds main().
LAYERS   := common vmm devices boot image firmware kbs sysa sysb sysc sources net session bootstrap steps cli
LIB_SRCS := $(filter-out cli/main.c,$(wildcard $(addsuffix /*.c,$(LAYERS))))
# Assembly: data built into the binary (.incbin, paths relative to the repository root). firmware/bios.S is
# not lbvm's code but the guest's firmware, built by the rules below.
ASM_SRCS := $(filter-out firmware/bios.S,$(wildcard $(addsuffix /*.S,$(LAYERS))))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(ASM_SRCS:%.S=$(BUILD)/%.o)

# The guest firmware (firmware/bios.S, 16-bit real mode) is assembled with binutils, whatever CC is, and
# linked into lbvm as data (firmware/embed.S). Its addresses come from common/layout.h through the preprocessor.
FW_AS      ?= as
FW_LD      ?= ld
FW_OBJCOPY ?= objcopy
FW_BIN     := $(BUILD)/firmware/bios.bin
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 10

.PHONY: all clean check deps fixtures run demo unit unit-bins cli-tests host-tests fuzz bench

all: $(BUILD)/lbvm

$(BUILD)/lbvm: $(BUILD)/cli/main.o $(BUILD)/liblbvm.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# ar names members by file name only: two objects of one name in different layers would replace each other.
DUP_NAMES := $(sort $(foreach n,$(notdir $(LIB_OBJS)),$(if $(filter-out 1,$(words $(filter %/$(n),$(LIB_OBJS)))),$(n))))
$(BUILD)/liblbvm.a: $(LIB_OBJS)
	$(if $(DUP_NAMES),$(error these source files share a name across layers (rename one): $(DUP_NAMES)))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -c -Wa,-I. -MMD -MP -o $@ $<

# What .incbin pulls in (make cannot see it in the -MMD dependencies).
$(BUILD)/sources/builtin_data.o: $(wildcard sources/*.manifest)

$(BUILD)/firmware/bios.elf: firmware/bios.S common/layout.h firmware/abi.h
	@mkdir -p $(dir $@)
	$(CC) -E -P -x assembler-with-cpp -I. -o $(@:.elf=.s) $<
	$(FW_AS) --32 -o $(@:.elf=.o) $(@:.elf=.s)
	$(FW_LD) -m elf_i386 -Ttext=0 -e fw_entry -o $@ $(@:.elf=.o)

$(FW_BIN): $(BUILD)/firmware/bios.elf
	$(FW_OBJCOPY) -O binary $< $@
	@printf 'firmware: %d bytes of code and data in a %d-byte image, from %d lines of firmware/bios.S\n' \
		0x$$(nm $< | sed -n 's/ T fw_code_end$$//p') $$(wc -c <$@) $$(wc -l <firmware/bios.S)

# The image is a build output: its path depends on BUILD.
$(BUILD)/firmware/embed.o: firmware/embed.S $(FW_BIN)
	@mkdir -p $(dir $@)
	$(CC) -c -DFIRMWARE_BIN='"$(FW_BIN)"' -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblbvm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/liblbvm.a $(CHECK_LIBS) $(LIBS)

unit-bins: $(UNIT_BINS)

# Unit tests always run instrumented: ASan + UBSan, aborting on the first report.
# The bzImage tests parse Debian's real kernels from the fixture cache (fetched on first use). No test
# runs when the fixtures cannot be had: fixtures.sh's last line then says why.
unit:
	$(MAKE) BUILD=build/san SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		CFLAGS="-O1 -g" unit-bins
	fx=$$(tests/host/fixtures.sh) && LBVM_FIXTURES="$$fx" tests/unit/run.sh build/san/tests

cli-tests: all
	fx=$$(tests/host/fixtures.sh) && LBVM_FIXTURES="$$fx" tests/cli/run.sh $(BUILD)/lbvm

# HOST_SUITES: the test-host suites to run (comma-separated; empty = every suite). make check runs
# CHECK_HOST_SUITES: those that pass and fit its time on a 2-core machine; the others (diff, firmware,
# net) run with `make host-tests` (docs/testing.md says why each is left out).
CHECK_HOST_SUITES ?= boot,bootstrap,disk,ending,fate,images,kexec,security
host-tests: all
	tests/host/run.sh $(BUILD)/lbvm $(HOST_SUITES)

fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

deps:
	tests/install-deps.sh

fixtures:
	tests/host/fixtures.sh >/dev/null

run: deps
	$(MAKE) all
	scripts/run-live-bootstrap.sh

# Boot Debian's kernel with a busybox shell in lbvm (needs /dev/kvm).
demo: deps
	$(MAKE) all
	tests/host/demo.sh $(BUILD)/lbvm

check: deps
	$(MAKE) fixtures
	$(MAKE) all
	$(MAKE) CC=clang BUILD=build/clang all
	$(MAKE) unit
	$(MAKE) cli-tests
	$(MAKE) fuzz
	$(MAKE) host-tests HOST_SUITES=$(CHECK_HOST_SUITES)

bench: all
	bench/run.sh $(BUILD)/lbvm

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
