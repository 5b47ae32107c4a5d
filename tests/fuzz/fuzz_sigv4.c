/*
 * libFuzzer harness: SigV4 canonicalisation of arbitrary paths, queries and headers.
 * Input layout: method '\n' path '\n' query '\n' then "name:value" lines, a blank
 * line, then the payload.  Anything missing is empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/sigv4.h"

#define MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *next_line(char **cursor)
{
    char *line = *cursor;
    char *nl;

    if (line == NULL) {
        return NULL;
    }
    nl = strchr(line, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = NULL;
    }
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec2ha_sigv4_header headers[MAX_HEADERS];
    ec2ha_sigv4_request req = {0};
    ec2ha_sigv4_params params = {0};
    ec2ha_sigv4_result result = {0};
    ec2ha_error err;
    char *copy = NULL;
    char *cursor;
    char *line;
    size_t n = 0;

    copy = malloc(size + 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    cursor = copy;
    req.method = next_line(&cursor);
    req.path = next_line(&cursor);
    req.query = next_line(&cursor);
    while ((line = next_line(&cursor)) != NULL && line[0] != '\0' && n < MAX_HEADERS) {
        char *colon = strchr(line, ':');

        if (colon == NULL) {
            continue;
        }
        *colon = '\0';
        headers[n].name = line;
        headers[n].value = colon + 1;
        n++;
    }
    if (req.method == NULL || req.path == NULL) {
        goto done;
    }
    req.headers = headers;
    req.n_headers = n;
    req.payload = cursor;
    req.payload_len = cursor != NULL ? strlen(cursor) : 0;
    params.access_key_id = "AKIDEXAMPLE";
    params.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    params.region = "us-east-1";
    params.service = "ec2";
    params.now = 1440938160;
    params.normalize_path = (size & 1) == 0;
    ec2ha_error_clear(&err);
    (void)ec2ha_sigv4_sign(&req, &params, &result, &err);
    ec2ha_sigv4_result_free(&result);
done:
    free(copy);
    return 0;
}
