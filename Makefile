# comms_resolve: PGXS build
EXTENSION = comms_resolve
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = comms_resolve
CORE_OBJS = src/core/cr_util.o src/core/cr_validate.o src/core/cr_request.o src/core/cr_rank.o
OBJS = src/comms_resolve.o src/guc.o src/jsonb_bridge.o src/inventory.o \
	src/resolve.o src/helpers.o src/fdw.o src/http.o src/wire.o src/listing.o $(CORE_OBJS)

DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC = "comms_resolve - sender resolution in SQL"

REGRESS = setup inventory input_errors ranking seed_example functions resolve_many remote_config privileges reference_selftest differential
REGRESS_OPTS = --inputdir=test --load-extension=plpgsql
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CPPFLAGS = -I$(srcdir)/src -DCOMMS_RESOLVE_VERSION=\"$(EXTVERSION)\"
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK = $(shell curl-config --libs) $(shell pkg-config --libs json-c)

EXTRA_CLEAN = src/core/cr_callcode_data.h results regression.diffs regression.out tmp_check

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies here: spell them out
$(OBJS): src/core/cr_core.h
$(filter-out $(CORE_OBJS),$(OBJS)): src/comms_resolve.h
src/core/cr_validate.o: src/core/cr_callcode_data.h

src/core/cr_callcode_data.h: data/calling-codes.tsv src/core/gen_callcodes.awk
	awk -f src/core/gen_callcodes.awk $< > $@.tmp && mv $@.tmp $@

# A warning-free build is part of the test suite: make WERROR=1
ifdef WERROR
override CFLAGS += -Werror
endif

# pg_regress alone against a running server, and TAP alone (which starts
# its own servers, so it must not run as root); installcheck runs both.
.PHONY: regresscheck tapcheck unitcheck
regresscheck:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

tapcheck:
	rm -rf '$(CURDIR)'/tmp_check
	$(prove_installcheck)

unitcheck:
	$(MAKE) -C test/unit check
