/*
 * testdata.c - reading files in the unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "testdata.h"

char *test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long size;

    if (f == NULL) {
        fail_msg("cannot open %s (set EC2HA_TEST_DATA to the tests/data directory)", path);
    }
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    data[size] = '\0';
    fclose(f);
    if (len_out != NULL) {
        *len_out = (size_t)size;
    }
    return data;
}

char *test_read_data(const char *rel, size_t *len_out)
{
    const char *top = getenv("EC2HA_TEST_DATA");
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : "tests/data", rel);
    return test_read_file(path, len_out);
}
