# SPDX-License-Identifier: GPL-2.0
#
# The nova tree's user-facing targets. The kernel itself is built by kbuild
# in the base tree; these targets prepare that tree and drive the tests.
#
#   make run       build everything and boot the guest on a simulated GPU
#                  (CHIP=ad102 by default; see `make chips`)
#   make check     run every test; ends with "N passed, M failed"
#   make bench     boot the guest once and print nova's benchmark figures,
#                  with ratios against vgem and DRM_IOCTL_VERSION
#   make compare   boot our nova and the base tree's upstream nova on the same
#                  simulated GPUs (COMPARE_CHIPS, default ga102,ad102) and
#                  print how far each gets, probe-to-ready time and MMIO counts
#   make kernel    build the test kernel only
#   make tools     build the simulator and the guest test client
#   make fuzz-firmware  run every variant of the firmware fuzzer (make check
#                  runs a seeded choice of them; NOVA_FUZZ_COUNT and
#                  NOVA_FUZZ_SEED choose another)
#   make chips     list the chips the simulator models
#   make clean     remove the tools' build output (the cache stays)
#
# Variables: CHIP, KDIR (build your own kernel tree instead of Debian's
# linux-source-7.3), NOVA_CACHE (default ~/.cache/nova), NOVA_HOST_TOOLS=1
# (use the host's toolchain and QEMU instead of the cached Debian root),
# NOVA_CHIPS (the chips `make check` boots).

CHIP ?= ad102
S := scripts/nova

COMPARE_CHIPS ?= ga102,ad102

.PHONY: run check bench compare kernel upstream-kernel tools initramfs env chips clean \
	fuzz-firmware

run: tools kernel initramfs
	@python3 $(S)/guest.py --chip $(CHIP) --mode demo

check:
	@python3 $(S)/check.py

bench: tools kernel initramfs
	@python3 $(S)/guest.py --chip $(CHIP) --mode bench

compare: tools kernel upstream-kernel initramfs
	@python3 $(S)/compare.py --chips $(COMPARE_CHIPS)

upstream-kernel:
	@NOVA_VARIANT=upstream bash $(S)/build-kernel.sh

env:
	@bash $(S)/env.sh

kernel:
	@bash $(S)/build-kernel.sh

tools:
	@bash $(S)/build-tools.sh

initramfs: tools
	@bash $(S)/build-initramfs.sh

fuzz-firmware: tools kernel initramfs
	@python3 $(S)/fwfuzz.py

chips: tools
	@tools/target/release/nova-sim --list-chips

clean:
	cd tools && cargo clean
