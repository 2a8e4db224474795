# mojo-emulator: the helpdesk emulator used by the tests (non-recursive fragment,
# included from the top-level Makefile.am).
noinst_PROGRAMS += tests/emulator/mojo-emulator
tests_emulator_mojo_emulator_SOURCES = \
	tests/emulator/emu.h \
	tests/emulator/emu.c \
	tests/emulator/util.c \
	tests/emulator/data.c \
	tests/emulator/store.c \
	tests/emulator/render.c \
	tests/emulator/search.c \
	tests/emulator/api.h \
	tests/emulator/http.c \
	tests/emulator/writes.c \
	tests/emulator/faults.c \
	tests/emulator/ctl.c
tests_emulator_mojo_emulator_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JSONC_CFLAGS)
tests_emulator_mojo_emulator_LDADD = $(LIBEVENT_LIBS) $(LIBEVENT_EXTRA_LIBS) $(JSONC_LIBS) -lm

TESTS += tests/emulator/test-emulator.sh
EXTRA_DIST += tests/emulator/test-emulator.sh tests/emulator/README.md
