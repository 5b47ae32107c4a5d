/*
 * testdata.h - reading files in the unit tests (linked into every tests/unit/test_*).
 *
 * Both return the whole file, NUL-terminated, in memory the caller frees, and
 * fail the running test (cmocka) when the file cannot be read.
 */
#ifndef EC2HA_TESTDATA_H
#define EC2HA_TESTDATA_H

#include <stddef.h>

/* The file at path; len_out (may be NULL) gets its length. */
char *test_read_file(const char *path, size_t *len_out);

/* rel under $EC2HA_TEST_DATA (default tests/data), e.g. "creds/role_ok.json". */
char *test_read_data(const char *rel, size_t *len_out);

#endif
