# SPDX-License-Identifier: GPL-2.0
#
# The nova tree's user-facing targets. The kernel itself is built by kbuild
# in the base tree; these targets prepare that tree and drive the tests.
#
#   make run       build everything and boot the guest on a simulated GPU
#                  (CHIP=ad102 by default; see `make chips`)
#   make check     run every test; ends with "N passed, M failed, K skipped"
#   make bench     boot the guest once and print nova's benchmark figures
#                  (medians with their spread, ratios against vgem and
#                  DRM_IOCTL_VERSION taken pair by pair), and write them as
#                  JSON (BENCH_OUT); BENCH_BASE=<json> compares with a base
#   make compare   boot our nova and the base tree's upstream nova on the same
#                  simulated GPUs (COMPARE_CHIPS, default ga102,ad102),
#                  COMPARE_RUNS times (default 3), and print how far each
#                  gets, the median probe-to-ready time with its spread and
#                  MMIO counts; COMPARE_ICOUNT=1 counts instructions instead
#   make kernel    build the test kernel only
#   make series    write the tree as a patch series against the base tree
#                  (SERIES_DIR, default $NOVA_CACHE/series), checkpatch it
#                  and git am it onto a git checkout of the base
#   make series-check  the same, then build the kernel after each patch
#                  (bisectable); expensive, not part of `make check`
#   make docs      kernel-doc, htmldocs of Documentation/gpu and rustdoc,
#                  as `make check` runs them
#   make tools     build the simulator and the guest test client
#   make fuzz-firmware  run every variant of the firmware fuzzer (make check
#                  runs a seeded choice of them; NOVA_FUZZ_COUNT and
#                  NOVA_FUZZ_SEED choose another)
#   make kunit     nova-core's KUnit suites through the kernel's runner,
#                  tools/testing/kunit/kunit.py with
#                  --kunitconfig=drivers/gpu/nova-core (UML; a kernel build of
#                  its own, not part of `make check`; KUNIT_ARCH=x86_64 runs
#                  them in QEMU with TCG)
#   make chips     list the chips the simulator models
#   make clean     remove the tools' build output (the cache stays)
#
# Variables: CHIP, BENCH_OUT, BENCH_BASE, COMPARE_CHIPS, COMPARE_RUNS,
# COMPARE_ICOUNT, KDIR (build your own kernel tree instead of Debian's
# linux-source-7.3), NOVA_CACHE (default ~/.cache/nova), NOVA_HOST_TOOLS=1
# (use the host's toolchain and QEMU instead of the cached Debian root),
# NOVA_CHIPS (the chips `make check` boots), KUNIT_ARCH (um or x86_64).

CHIP ?= ad102
S := scripts/nova

COMPARE_CHIPS ?= ga102,ad102
COMPARE_RUNS ?= 3

.PHONY: run check bench compare kernel upstream-kernel tools initramfs env chips clean \
	series series-check docs fuzz-firmware kunit

SERIES_OUT = $(if $(SERIES_DIR),--out $(SERIES_DIR))

run: tools kernel initramfs
	@python3 $(S)/guest.py --chip $(CHIP) --mode demo

check:
	@python3 $(S)/check.py

bench: tools kernel initramfs
	@python3 $(S)/bench.py --chip $(CHIP) $(if $(BENCH_OUT),--json $(BENCH_OUT)) \
		$(if $(BENCH_BASE),--base $(BENCH_BASE))

compare: tools kernel upstream-kernel initramfs
	@python3 $(S)/compare.py --chips $(COMPARE_CHIPS) --runs $(COMPARE_RUNS) \
		$(if $(filter 1,$(COMPARE_ICOUNT)),--icount)

upstream-kernel:
	@NOVA_VARIANT=upstream bash $(S)/build-kernel.sh

env:
	@bash $(S)/env.sh

kernel:
	@bash $(S)/build-kernel.sh

series:
	@python3 $(S)/series.py $(SERIES_OUT)

series-check:
	@python3 $(S)/series.py $(SERIES_OUT) --build-each


docs:
	@python3 $(S)/series.py $(SERIES_OUT) --htmldocs
	@bash $(S)/docs.sh kernel-doc
	@bash $(S)/build-kernel.sh --rustdoc
	@bash $(S)/docs.sh rustdoc

tools:
	@bash $(S)/build-tools.sh

initramfs: tools
	@bash $(S)/build-initramfs.sh

fuzz-firmware: tools kernel initramfs
	@python3 $(S)/fwfuzz.py

kunit:
	@NOVA_KUNIT_ARCH=$(or $(KUNIT_ARCH),$(NOVA_KUNIT_ARCH),um) bash $(S)/kunit.sh

chips: tools
	@tools/target/release/nova-sim --list-chips

clean:
	cd tools && cargo clean
