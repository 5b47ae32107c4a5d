# ec2ha - Pacemaker agents for AWS EC2.  GNU make, pkg-config for every dependency.
#
#   make              build/libec2ha.a and the programs
#   make check        every test suite (installs missing Debian packages as root; NO_DEPS=1 skips)
#   make unit         cmocka unit tests        make asan      unit tests under ASan+UBSan
#   make valgrind     unit tests under valgrind
#   make demo         two-node cluster failover demo (root)
#   make install      DESTDIR, PREFIX honoured

CC        ?= cc
BUILD     ?= build
PREFIX    ?= /usr
SBINDIR   ?= $(PREFIX)/sbin
OCFDIR    ?= $(PREFIX)/lib/ocf/resource.d/ec2ha
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/ec2ha
PYTHON    ?= /usr/bin/python3
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

PKGS      := libcurl libcrypto libxml-2.0 pacemaker-cib pacemaker
# Pacemaker's libcib/libcrmcommon are not linked: lib/cluster_pcmk.c dlopen()s them by soname
# when the CIB is first used, so the hot paths never map them (and glib, gnutls, qb, ...).
# Their headers still come from PKGS; the sonames are read from the development symlinks.
LINK_PKGS := libcurl libcrypto libxml-2.0
PCMK_LIBDIR := $(shell pkg-config --variable=libdir pacemaker-cib 2>/dev/null)
pcmk_soname = $(shell readelf -d $(PCMK_LIBDIR)/$(1).so 2>/dev/null | \
                sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
LIBCIB_SONAME := $(call pcmk_soname,libcib)
LIBCRMCOMMON_SONAME := $(call pcmk_soname,libcrmcommon)
PCMK_SONAMES := $(if $(LIBCIB_SONAME),-DEC2HA_LIBCIB_SONAME='"$(LIBCIB_SONAME)"') \
                $(if $(LIBCRMCOMMON_SONAME),-DEC2HA_LIBCRMCOMMON_SONAME='"$(LIBCRMCOMMON_SONAME)"')
ifeq ($(filter clean help deps,$(MAKECMDGOALS)),)
PKG_MISSING := $(shell scripts/deps.sh --check-build)
ifneq ($(PKG_MISSING),)
$(error $(PKG_MISSING))
endif
endif

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wmissing-prototypes \
             -Wstrict-prototypes -Wpointer-arith -Wundef -Wno-unused-parameter
CSTD      := -std=c11 -D_GNU_SOURCE
OPT       ?= -O2 -g
SAN       ?=
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(SAN) -Iinclude -Ilib \
             $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS))) -DEC2HA_VERSION='"$(VERSION)"' \
             $(PCMK_SONAMES) $(CFLAGS)
LIBS_ALL   = $(shell pkg-config --libs $(LINK_PKGS)) $(LDLIBS)
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
FENCE_SRC := $(sort $(wildcard fence/*.c))
EIP_SRC   := $(sort $(wildcard agents/eip/*.c))
CLI_SRC   := $(sort $(wildcard agents/cli/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_HELP := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

PROGRAMS  := $(if $(FENCE_SRC),$(BUILD)/fence_ec2) $(if $(EIP_SRC),$(BUILD)/eip) \
             $(if $(CLI_SRC),$(BUILD)/ec2ha)

.PHONY: all lib programs unit asan valgrind check deps clean install uninstall demo bench \
        fuzz test-ec2sim test-agents test-asan-agents cluster-tests man help install-for-tests \
        package-test bench-smoke
.DEFAULT_GOAL := all

all: $(BUILD)/libec2ha.a $(PROGRAMS) $(UNIT_BIN)
lib: $(BUILD)/libec2ha.a
programs: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c $(wildcard include/ec2ha/*.h lib/*.h fence/*.h agents/*/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libec2ha.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/fence_ec2: $(FENCE_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libec2ha.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libec2ha.a $(LIBS_ALL)

$(BUILD)/eip: $(EIP_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libec2ha.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libec2ha.a $(LIBS_ALL)

$(BUILD)/ec2ha: $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libec2ha.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libec2ha.a $(LIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELP:%.c=$(BUILD)/obj/%.o) $(BUILD)/libec2ha.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libec2ha.a $(LIBS_ALL) \
	    $(shell pkg-config --libs cmocka)

# ---- tests ------------------------------------------------------------------

deps:
	@scripts/deps.sh --install

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(BUILD) $(UNIT_BIN)

asan:
	$(MAKE) BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' unit

valgrind: $(UNIT_BIN)
	@VALGRIND=1 scripts/run-unit.sh $(BUILD) $(UNIT_BIN)

test-ec2sim:
	@if [ -d tests/ec2sim ] && ls tests/ec2sim/test_*.py >/dev/null 2>&1; then \
	    cd tests/ec2sim && $(PYTHON) -m pytest -q -p no:cacheprovider; fi

test-agents: all
	@if ls tests/agents/test_*.py >/dev/null 2>&1; then \
	    EC2HA_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/agents; fi

test-asan-agents:
	@if ls tests/agents/test_*.py >/dev/null 2>&1; then \
	    $(MAKE) BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	        SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' all && \
	    EC2HA_BUILD=$(abspath build-asan) EC2HA_SANITIZED=1 \
	        $(PYTHON) -m pytest -q -p no:cacheprovider tests/agents; fi

cluster-tests: all
	@if [ -x tests/cluster/run ]; then tests/cluster/run; fi

# make install/uninstall into a DESTDIR, options in --help/metadata/man, the docs against the
# code, and the .deb: built in a scratch copy of the tree, lintian, and (root) dpkg -i inside
# a private overlay of /usr, /etc, /var, Pacemaker's metadata commands, dpkg -r.
package-test: programs man
	@EC2HA_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/package

fuzz:
	@if [ -x tests/fuzz/run ]; then tests/fuzz/run; fi

# As root, the programs are installed before the agent tests so Pacemaker's own tools
# (stonith_admin, crm_resource) find them; the cluster tests need them installed too.
install-for-tests: all
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) -s install PREFIX=/usr >/dev/null && \
	    echo "installed into /usr for the tests"; fi

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) asan
	$(MAKE) test-ec2sim
	$(MAKE) install-for-tests
	$(MAKE) test-agents
	$(MAKE) test-asan-agents
	$(MAKE) fuzz
	$(MAKE) package-test
	$(MAKE) cluster-tests
	$(MAKE) bench-smoke
	@echo "make check: all suites passed"

demo: deps all
	@scripts/demo.sh

bench: deps all
	@bench/run

# One repetition of every per-call benchmark (~20 s): proves `make bench` still runs and that
# none of our calls fails in the benchmark's namespace; writes no results.md.
bench-smoke: all
	@if [ "$$(id -u)" = 0 ]; then bench/run --smoke; \
	else echo "bench-smoke: skipped (needs root for its namespaces)"; fi

# ---- install ----------------------------------------------------------------

man: $(PROGRAMS)
	@mkdir -p $(BUILD)/man
	@if [ -x $(BUILD)/fence_ec2 ]; then $(BUILD)/fence_ec2 -o manpage > $(BUILD)/man/fence_ec2.8; fi
	@if [ -x $(BUILD)/eip ]; then OCF_ROOT=/usr/lib/ocf $(BUILD)/eip manpage > $(BUILD)/man/ocf_ec2ha_eip.7; fi
	@if [ -x $(BUILD)/ec2ha ]; then $(BUILD)/ec2ha manpage > $(BUILD)/man/ec2ha.8; fi

install: programs man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(OCFDIR) $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)/crm-examples $(DESTDIR)$(DOCDIR)/docs
	@if [ -x $(BUILD)/fence_ec2 ]; then install -m 0755 $(BUILD)/fence_ec2 $(DESTDIR)$(SBINDIR)/fence_ec2; \
	    install -m 0644 $(BUILD)/man/fence_ec2.8 $(DESTDIR)$(MANDIR)/man8/; fi
	@if [ -x $(BUILD)/eip ]; then install -m 0755 $(BUILD)/eip $(DESTDIR)$(OCFDIR)/eip; \
	    install -m 0644 $(BUILD)/man/ocf_ec2ha_eip.7 $(DESTDIR)$(MANDIR)/man7/; fi
	@if [ -x $(BUILD)/ec2ha ]; then install -m 0755 $(BUILD)/ec2ha $(DESTDIR)$(SBINDIR)/ec2ha; \
	    install -m 0644 $(BUILD)/man/ec2ha.8 $(DESTDIR)$(MANDIR)/man8/; fi
	@for f in crm-examples/*; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(DOCDIR)/crm-examples/ || true; done
	@if [ -f README.md ]; then install -m 0644 README.md $(DESTDIR)$(DOCDIR)/; fi
	@for f in docs/*; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(DOCDIR)/docs/ || true; done
	@if [ -f docs/iam-policy.json ]; then ln -sfn docs/iam-policy.json $(DESTDIR)$(DOCDIR)/iam-policy.json; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fence_ec2 $(DESTDIR)$(SBINDIR)/ec2ha $(DESTDIR)$(OCFDIR)/eip \
	    $(DESTDIR)$(MANDIR)/man8/fence_ec2.8 $(DESTDIR)$(MANDIR)/man8/ec2ha.8 \
	    $(DESTDIR)$(MANDIR)/man7/ocf_ec2ha_eip.7
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(OCFDIR) 2>/dev/null

clean:
	rm -rf build build-asan build-fuzz

help:
	@sed -n '1,10p' Makefile
