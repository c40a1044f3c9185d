# vitrine - top-level, non-recursive Makefile.
#
#   make deps      install the Debian packages needed to build, test and demo
#   make run       local demo: mosquitto + aggregator + agent with simulated sensors
#   make test      build and run the whole test suite (unit, integration, fuzz corpora)
#   make test-long the fault tests in their long versions (200 agent kills, a
#                  10-minute broker outage, 50 aggregator kills; about 25 min)
#   make san       the test suite again under AddressSanitizer + UBSan (clang)
#   make bench     throughput and size figures (>= 1M simulated readings)
#   make fuzz      build libFuzzer targets (clang) and run each for FUZZ_SECONDS
#   make install   install programs, plugins, plugin SDK, systemd units and a
#                  default configuration (PREFIX, SYSCONFDIR, UNITDIR, DESTDIR)
#   make deb       Debian packages for the board's architecture, in $(O)/deb/
#                  (platform/debian/README.md); make deb-lint runs lintian on them
#   make BOARD=rpi4-arm64   cross-build for a board (boards/README.md); with
#                  deps, sysroot and test-emulated (its tests under qemu-user)
#
# Respects CC, CFLAGS, LDFLAGS, DESTDIR, PREFIX, CROSS_COMPILE, PKG_CONFIG,
# BOARD (boards/$(BOARD)/board.mk) and O (output directory). V=1 shows commands.

# "make" alone builds everything (the first rule below would be a library).
.DEFAULT_GOAL := all

BOARD ?= host
O ?= build/$(BOARD)
PREFIX ?= /usr/local
# Where `make install` puts things. PREFIX is built in too: the agent's
# default plugin_dir is $(PLUGINDIR), so build and install with the same
# PREFIX. The configuration goes where the programs look by default
# (/etc/vitrine) for the system prefixes, under PREFIX for any other.
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
PLUGINDIR ?= $(LIBDIR)/vitrine/plugins
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSCONFDIR ?= $(if $(filter /usr /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)

ifeq ($(wildcard boards/$(BOARD)/board.mk),)
$(error BOARD=$(BOARD): no boards/$(BOARD)/board.mk; the boards are: $(notdir $(patsubst %/,%,$(dir $(wildcard boards/*/board.mk)))))
endif
include boards/$(BOARD)/board.mk

ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG ?= $(CROSS_COMPILE)pkg-config
PROTOC_C ?= protoc-c

ifeq ($(V),1)
Q :=
else
Q := @
endif

VERSION := 0.1.0

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC
# Each function and object in a section of its own, and the linker drops
# those nothing refers to: what a binary or plugin does not use (a
# driver's helper only the tests call) is not shipped. 4.6 KB off
# footfall.so on arm64, enough to keep the agent and its plugins under
# 400 KB there (make bench).
SECTIONS := -ffunction-sections -fdata-sections
CFLAGS ?= -O2 -g
VT_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) $(HARDEN) $(SECTIONS) \
	-fvisibility=hidden -DVT_VERSION='"$(VERSION)"' -Iagent -Iagent/include -Iplatform -Iaggregator \
	-Itools/ctl -Itests -Iplugins -I$(O)/gen $(BOARD_CFLAGS) $(CFLAGS)
VT_LDFLAGS := -Wl,-z,relro,-z,now -Wl,--gc-sections $(BOARD_LDFLAGS) $(LDFLAGS)
# -D_FILE_OFFSET_BITS=64: 64-bit off_t and inode numbers on 32-bit boards
# (rpi-armhf), as on 64-bit ones. Not -D_TIME_BITS=64: Debian 12's armhf
# libraries have a 32-bit time_t, and libgpiod's API passes struct timespec
# (boards/rpi-armhf/README.md, year 2038).
# OpenSSL: libmosquitto's TLS, which it loads anyway; the agent reads the
# broker's certificate through it for tls_pin (agent/tls_pin.h).
OPENSSL_LIBS := $(or $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null),-lssl -lcrypto)
LIBS := -lmosquitto -lprotobuf-c -lzstd -lmbedx509 -lmbedcrypto -lsqlite3 $(OPENSSL_LIBS) -ldl -lm

# ---- generated protobuf code ------------------------------------------------
PROTOS := $(wildcard proto/vitrine/v1/*.proto)
GEN_C := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)

$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: proto/%.proto $(PROTOS)
	@mkdir -p $(O)/gen
	$(if $(Q),@echo "  PROTOC  $<")
	$(Q)$(PROTOC_C) -Iproto --c_out=$(O)/gen $<

# ---- objects ------------------------------------------------------------------
# A cross board builds against its sysroot (boards/cross.mk), made first.
$(O)/obj/%.o: %.c $(GEN_H) | $(BOARD_PREREQ)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(VT_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/obj/gen/%.o: $(O)/gen/%.c $(GEN_H) | $(BOARD_PREREQ)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(VT_CFLAGS) -Wno-unused-parameter -c -o $@ $<

# Nothing built is intermediate: keep generated sources and test objects.
.SECONDARY:

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

# The agent looks for plugins where `make install` puts them.
$(call obj,agent/config.c plugins/tablet/kiosk_http_load.c): VT_CFLAGS += -DVT_PLUGIN_DIR='"$(PLUGINDIR)"'

# libvt: the agent's modules (everything in agent/ but main.c) plus the
# platform layer and the generated code; the aggregator reuses frame, keys,
# conf and log from it.
VT_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c)) platform/linux/os.c platform/linux/sdnotify.c
VT_OBJS := $(call obj,$(VT_SRCS)) $(patsubst $(O)/gen/%.c,$(O)/obj/gen/%.o,$(GEN_C))
AGG_SRCS := $(filter-out aggregator/main.c,$(wildcard aggregator/*.c))
AGG_OBJS := $(call obj,$(AGG_SRCS))

$(O)/libvt.a: $(VT_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(O)/libvtagg.a: $(AGG_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/vitrine-agent: $(O)/obj/agent/main.o $(O)/libvt.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) -pie -rdynamic $(VT_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/vitrine-aggregator: $(O)/obj/aggregator/main.o $(O)/libvtagg.a $(O)/libvt.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) -pie $(VT_LDFLAGS) -o $@ $^ $(LIBS)

# vitrine-ctl, the ops team's fleet tool (tools/ctl): its modules but main.c
# form libvtctl.a, which the ctl_* unit tests link too. It reads status
# documents with cJSON, and enrolls devices with the aggregator's
# configuration checks (libvtagg.a).
CTL_SRCS := $(filter-out tools/ctl/main.c,$(wildcard tools/ctl/*.c))
CTL_OBJS := $(call obj,$(CTL_SRCS))
CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
CJSON_LIBS := $(or $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null),-lcjson)
$(CTL_OBJS) $(O)/obj/tools/ctl/main.o: VT_CFLAGS += $(CJSON_CFLAGS)

$(O)/libvtctl.a: $(CTL_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/vitrine-ctl: $(O)/obj/tools/ctl/main.o $(O)/libvtctl.a $(O)/libvtagg.a $(O)/libvt.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) -pie $(VT_LDFLAGS) -o $@ $^ $(LIBS) $(CJSON_LIBS)

# ---- plugins: each plugins/<name>/plugin.mk adds itself ---------------------
# A plugin may also add a module (PLUGIN_MODULES): a shared object beside
# the plugins that one of them dlopen()s when its configuration needs it.
PLUGINS :=
PLUGIN_MODULES :=
include $(wildcard plugins/*/plugin.mk)

# Each plugin and module is <name>.so from <name>_SRCS and <name>_LIBS; a
# plugin's unit tests link its sources into plugin_<name>_test.
define vt_plugin_so
$(O)/plugins/$(1).so: $$(call obj,$$($(1)_SRCS))
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(CC) $$(VT_CFLAGS) -shared $$(VT_LDFLAGS) -o $$@ $$^ $$($(1)_LIBS)
endef
define vt_plugin_test
$(O)/tests/plugin_$(1)_test: $$(call obj,$$($(1)_TEST_SRCS) $$($(1)_SRCS)) $(O)/libvt.a
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(VT_CFLAGS) $$(VT_LDFLAGS) -o $$@ $$^ $$($(1)_LIBS) $$($(1)_TEST_LIBS) $$(LIBS)
endef
$(foreach p,$(PLUGINS) $(PLUGIN_MODULES),$(eval $(call vt_plugin_so,$(p))))
$(foreach p,$(PLUGINS),$(eval $(call vt_plugin_test,$(p))))

PLUGIN_SOS := $(foreach p,$(PLUGINS) $(PLUGIN_MODULES),$(O)/plugins/$(p).so)
PLUGIN_TESTS := $(foreach p,$(PLUGINS),$(if $($(p)_TEST_SRCS),$(O)/tests/plugin_$(p)_test))

# ---- tests --------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
# Fuzz targets are also built as plain programs that replay their corpus.
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(O)/tests/%_replay,$(FUZZ_SRCS))
ABI_PLUGINS := $(patsubst tests/abi/%.c,$(O)/tests/abi/%.so,$(wildcard tests/abi/*.c))

$(O)/tests/%_test: $(O)/obj/tests/unit/%_test.o $(O)/libvtagg.a $(O)/libvt.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) $(VT_LDFLAGS) -o $@ $^ $(LIBS)

# vitrine-ctl's tests (tests/unit/ctl_*_test.c) link its library too.
$(O)/tests/ctl_%_test: $(O)/obj/tests/unit/ctl_%_test.o $(O)/libvtctl.a $(O)/libvtagg.a $(O)/libvt.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) $(VT_LDFLAGS) -o $@ $^ $(LIBS) $(CJSON_LIBS)

# A fuzz target whose code is not in the libraries (a plugin's parser) names
# its sources in fuzz_<x>_SRCS, set in that plugin's plugin.mk, and the
# libraries they need beyond LIBS in fuzz_<x>_LIBS; tests/fuzz/run.sh reads
# the same variables.
fuzz_ctl_status_SRCS := $(CTL_SRCS)
fuzz_ctl_status_LIBS := $(CJSON_LIBS)
fuzz_ctl_acl_SRCS := $(CTL_SRCS)
fuzz_ctl_acl_LIBS := $(CJSON_LIBS)
.SECONDEXPANSION:
$(O)/tests/fuzz_%_replay: $(O)/obj/tests/fuzz/fuzz_%.o $(O)/obj/tests/fuzz/replay_main.o \
		$$(call obj,$$(fuzz_$$*_SRCS)) $(O)/libvtagg.a $(O)/libvt.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(VT_CFLAGS) $(VT_LDFLAGS) -o $@ $^ $(LIBS) $(fuzz_$*_LIBS)

# A plugin named abi_v<major>_<minor> is built against the header of that
# release, frozen in tests/abi/include-<major>.<minor>: the agent of today
# must keep loading what was built then.
abi_frozen_include = $(if $(wildcard tests/abi/include-$(1)),-Itests/abi/include-$(1))
$(O)/tests/abi/%.so: tests/abi/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(call abi_frozen_include,$(subst _,.,$(patsubst abi_v%,%,$*))) $(VT_CFLAGS) -shared -o $@ $<

# The negative control of tests/integration/canary.sh: the agent with
# agent/privacy.c built with VT_PRIVACY_DISABLED_FOR_CANARY_TEST, which puts
# identifiers in the clear into the digest fields; the test must catch it.
# Its privacy.o comes before libvt.a, so the archive's is never pulled in.
# Never installed.
CANARY_AGENT := $(O)/canary-control/vitrine-agent
$(O)/canary-control/privacy.o: agent/privacy.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $< (canary control)")
	$(Q)$(CC) $(VT_CFLAGS) -DVT_PRIVACY_DISABLED_FOR_CANARY_TEST -MMD -MP -c -o $@ $<
$(CANARY_AGENT): $(O)/obj/agent/main.o $(O)/canary-control/privacy.o $(O)/libvt.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) -pie -rdynamic $(VT_LDFLAGS) -o $@ $^ $(LIBS)
-include $(O)/canary-control/privacy.d

BINS := $(O)/vitrine-agent $(O)/vitrine-aggregator $(O)/vitrine-ctl

# The LLRP reader simulator (tools/llrp-sim): for the tests and the demo,
# built by `all`, never installed.
LLRP_SIM := $(O)/vitrine-llrp-sim
LLRP_SIM_SRCS := tools/llrp-sim/llrp_sim.c plugins/rfid/llrp.c plugins/rfid/sgtin96.c \
	plugins/rfid/source_sim.c plugins/common/store_hours.c
$(LLRP_SIM): $(call obj,$(LLRP_SIM_SRCS))
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(VT_CFLAGS) -pie $(VT_LDFLAGS) -o $@ $^
TEST_BINS := $(UNIT_BINS) $(PLUGIN_TESTS) $(FUZZ_REPLAY) $(ABI_PLUGINS) $(CANARY_AGENT)

.PHONY: all test test-long test-emulated san bench fuzz run deps install clean check-tools FORCE
all: $(BINS) $(PLUGIN_SOS) $(LLRP_SIM)

test: all $(TEST_BINS)
	$(Q)O=$(O) tests/run.sh

test-long: all $(TEST_BINS)
	$(Q)O=$(O) VT_LONG=1 TESTS='agent_sigkill|broker_stop|broker_no_persistence|aggregator_sigkill|disk_full|spool_damage|clock_jump' tests/run.sh

# Sanitizers: a separate clang build in build/san, same suite.
san:
	$(Q)$(MAKE) --no-print-directory O=build/san CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" test

# make bench: the floor of the agent's libraries (memory.sh), a counter of
# allocations to preload (allocs.sh), the JSON-per-reading baseline
# publisher and the in-process hot path (run.sh); none is installed.
BENCH_BINS := $(O)/bench/floor $(O)/bench/alloc_count.so $(O)/bench/json_pub \
	$(O)/bench/hot_path
$(O)/bench/hot_path: $(O)/obj/tests/bench/hot_path.o $(O)/libvt.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(VT_CFLAGS) $(VT_LDFLAGS) -o $@ $^ $(LIBS)
$(O)/bench/json_pub: tests/bench/json_pub.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(VT_CFLAGS) $(VT_LDFLAGS) -o $@ $< -lmosquitto
$(O)/bench/floor: tests/bench/floor.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(VT_CFLAGS) $(VT_LDFLAGS) -o $@ $< -lmosquitto -lprotobuf-c -lzstd -lmbedx509 -lmbedcrypto
# Built with the tests too, so they compile (-Werror, both compilers, the
# sanitizers) whether or not make bench runs.
test: $(BENCH_BINS)
$(O)/bench/alloc_count.so: tests/bench/alloc_count.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(VT_CFLAGS) -shared -o $@ $<
bench: all $(BENCH_BINS)
	$(Q)O=$(O) tests/bench/run.sh

FUZZ_SECONDS ?= 60
fuzz:
	$(Q)O=build/fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

run: all
	$(Q)O=$(O) tools/demo.sh

DEB_PACKAGES := build-essential pkgconf clang mosquitto mosquitto-clients libmosquitto-dev \
	protobuf-c-compiler libprotobuf-c-dev libmbedtls-dev libzstd-dev libsqlite3-dev sqlite3 libcjson-dev \
	libgpiod-dev libmicrohttpd-dev libssl-dev curl \
	openssl procps faketime python3 chromium systemd lintian
deps:
	$(Q)if [ "$$(id -u)" != 0 ]; then \
		echo "vitrine: installing packages needs root; run:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $(DEB_PACKAGES) $(BOARD_DEB_PACKAGES)"; \
		exit 1; \
	fi; \
	missing=$$(for p in $(DEB_PACKAGES) $(BOARD_DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		boards/apt-update.sh && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else echo "vitrine: all build and test packages are installed"; fi
ifneq ($(DEB_ARCH),$(shell dpkg --print-architecture 2>/dev/null))
	$(Q)boards/add-arch.sh $(DEB_ARCH)
	$(Q)$(MAKE) --no-print-directory BOARD=$(BOARD) sysroot
endif

# make test-emulated BOARD=rpi4-arm64: a cross build's unit and plugin tests
# and fuzz corpus replays, run by qemu-user; then end_to_end.sh with the
# emulated agent and its plugins against the native broker and aggregator
# (build/host, built first). With E2E=0, the unit tests only.
E2E ?= 1
test-emulated: all $(TEST_BINS) $(O)/qemu/vitrine-agent
ifeq ($(E2E),1)
	$(Q)$(MAKE) --no-print-directory BOARD=host O=build/host all
endif
	$(Q)O=$(O) VT_EXEC="$(QEMU_RUN)" VT_AGENT=$(abspath $(O)/qemu/vitrine-agent) \
		VT_AGG=$(abspath build/host/vitrine-aggregator) \
		TESTS='_test$$|_replay$$$(if $(filter 1,$(E2E)),|^end_to_end$$)' tests/run.sh
$(O)/qemu/vitrine-agent: $(O)/vitrine-agent
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\n# %s under qemu-user (make test-emulated)\nexec %s %s "$$@"\n' \
		$(BOARD) "$(QEMU_RUN)" $(abspath $<) >$@ && chmod +x $@

# The plugin SDK: plugin.h and vitrine-plugin.pc, so that a plugin builds
# out of tree with `pkg-config --cflags vitrine-plugin` and the code
# generation flags of the ABI, `pkg-config --variable=plugin_cflags
# vitrine-plugin` (docs/PLUGINS.md); not in Cflags, which are for include
# paths and macros only (lintian: pkg-config-bad-directive).
VT_ABI := $(shell sed -n 's/^\#define VITRINE_ABI_MAJOR //p' agent/include/vitrine/plugin.h).$(shell \
	sed -n 's/^\#define VITRINE_ABI_MINOR //p' agent/include/vitrine/plugin.h)
# Written again when PREFIX or a directory changes (install runs with
# another PREFIX than the build, e.g. tests/integration/plugin_sdk.sh).
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
$(O)/vitrine-plugin.pc: Makefile agent/include/vitrine/plugin.h FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$(call pc_dir,$(INCLUDEDIR))' \
		'plugindir=$(call pc_dir,$(PLUGINDIR))' 'abi=$(VT_ABI)' \
		'plugin_cflags=-fPIC -fvisibility=hidden' '' \
		'Name: vitrine-plugin' \
		'Description: build a collector plugin for vitrine-agent (plugin ABI $(VT_ABI))' \
		'Version: $(VERSION)' 'Cflags: -I$${includedir}' >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
FORCE:

# The systemd units name /usr/bin/vitrine-* and /etc/vitrine/ (the Debian
# package's paths); install writes this install's BINDIR and SYSCONFDIR in.
# A configuration already there is kept: the defaults are platform/etc/.
SYSTEMD_UNITS ?= $(wildcard platform/systemd/*.service)
# The packaged agent.conf's clock_require_sync (docs/CONFIG.md): yes on
# boards without a real-time clock (their board.mk says so).
BOARD_CLOCK_REQUIRE_SYNC ?= no
install: all $(O)/vitrine-plugin.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR)/vitrine \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(SYSCONFDIR)/vitrine \
		$(if $(SYSTEMD_UNITS),$(DESTDIR)$(UNITDIR))
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(PLUGIN_SOS) $(DESTDIR)$(PLUGINDIR)/
	install -m 0644 agent/include/vitrine/plugin.h $(DESTDIR)$(INCLUDEDIR)/vitrine/
	install -m 0644 $(O)/vitrine-plugin.pc $(DESTDIR)$(PKGCONFIGDIR)/
	$(Q)for u in $(SYSTEMD_UNITS); do \
		sed -E -e 's#/usr(/local)?/bin/vitrine-#$(BINDIR)/vitrine-#g' \
			-e 's#/etc/vitrine/#$(SYSCONFDIR)/vitrine/#g' $$u \
			>$(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	$(Q)for c in agent aggregator; do \
		f=$(DESTDIR)$(SYSCONFDIR)/vitrine/$$c.conf; \
		if [ -e $$f ]; then echo "vitrine: kept $$f (the default is platform/etc/$$c.conf)"; \
		else sed 's/^clock_require_sync .*/clock_require_sync      $(BOARD_CLOCK_REQUIRE_SYNC)/' \
			platform/etc/$$c.conf >$$f && chmod 0644 $$f || exit 1; fi; \
	done
	$(Q)grep -aqF '[$(PLUGINDIR)]' $(O)/vitrine-agent || echo "vitrine: warning:" \
		"$(O)/vitrine-agent was built with another PREFIX: its default plugin_dir is not" \
		"$(PLUGINDIR) (make clean, then build and install with the same PREFIX)"

include platform/debian/deb.mk

clean:
	rm -rf build

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
