/*
 * libFuzzer harness: everything the IMDS client reads from outside - the
 * answers of the metadata service (session token, instance id, region, the
 * interface listing and each interface's values, the role name and role
 * credentials JSON, the identity document) and the cache file it keeps in the
 * runtime directory.
 *
 * Input: chunks separated by "\n--\n".  Chunk 0 is the cache file (empty: no
 * file).  Every further chunk is the next HTTP answer, in request order; a
 * chunk starting with three digits and a newline sets the status (else 200).
 * When the chunks run out, requests fail as if IMDS were unreachable.  The
 * transport seam (lib/imds_private.h) replaces HTTP, the clock is fixed, and
 * the deadline is short enough that 429/5xx answers are never retried with a
 * sleep.
 *
 * Property: interfaces read from IMDS and then from the cache (a second
 * handle with no answers left) are the same, for well-formed values (interface
 * ids "eni-<hex>", dotted-quad addresses).  Malformed values are not checked:
 * today lib/imds.c stores them unvalidated and the cache cannot carry them
 * (see tests/fuzz/README.md, "findings").
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "ec2ha/buf.h"
#include "ec2ha/http.h"
#include "ec2ha/imds.h"
#include "ec2ha/log.h"
#include "ec2ha/retry.h"
#include "imds_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW ((time_t)1700000000)
#define SEP "\n--\n"

typedef struct answers {
    const char *next;       /* NULL when used up */
    const char *end;
} answers;

static time_t fixed_clock(void)
{
    return FUZZ_NOW;
}

static ec2ha_rc transport(void *ctx, const ec2ha_http_options *opts,
                          const ec2ha_http_request *req, ec2ha_deadline deadline,
                          ec2ha_http_response *out, ec2ha_error *err)
{
    answers *a = ctx;
    const char *start = a->next;
    const char *stop;
    size_t len;

    (void)opts;
    (void)req;
    (void)deadline;
    if (start == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_TRANSPORT, "connection refused (fuzz)");
    }
    stop = memmem(start, (size_t)(a->end - start), SEP, strlen(SEP));
    if (stop == NULL) {
        stop = a->end;
        a->next = NULL;
    } else {
        a->next = stop + strlen(SEP);
    }
    len = (size_t)(stop - start);
    out->status = 200;
    if (len >= 4 && start[0] >= '1' && start[0] <= '5' && start[1] >= '0' && start[1] <= '9'
        && start[2] >= '0' && start[2] <= '9' && start[3] == '\n') {
        out->status = (start[0] - '0') * 100 + (start[1] - '0') * 10 + (start[2] - '0');
        start += 4;
        len -= 4;
    }
    ec2ha_buf_init(&out->body, (size_t)64 * 1024);
    if (len > 0 && ec2ha_buf_append(&out->body, start, len) != EC2HA_OK) {
        return ec2ha_error_set(err, EC2HA_ERR_TOO_LARGE, "answer too large (fuzz)");
    }
    return EC2HA_OK;
}

static bool well_formed(const ec2ha_imds_interface *ifs, size_t n)
{
    struct in_addr a;

    for (size_t i = 0; i < n; i++) {
        const char *id = ifs[i].interface_id;

        if (id == NULL || strncmp(id, "eni-", 4) != 0 || id[4] == '\0') {
            return false;
        }
        for (const char *p = id + 4; *p != '\0'; p++) {
            if (!isxdigit((unsigned char)*p)) {
                return false;
            }
        }
        for (size_t k = 0; k < ifs[i].n_private_ips; k++) {
            if (inet_pton(AF_INET, ifs[i].private_ips[k], &a) != 1) {
                return false;
            }
        }
    }
    return true;
}

static bool same_interfaces(const ec2ha_imds_interface *a, size_t na,
                            const ec2ha_imds_interface *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i].mac, b[i].mac) != 0 || strcmp(a[i].interface_id, b[i].interface_id) != 0
            || a[i].device_number != b[i].device_number
            || a[i].n_private_ips != b[i].n_private_ips) {
            return false;
        }
        for (size_t k = 0; k < a[i].n_private_ips; k++) {
            if (strcmp(a[i].private_ips[k], b[i].private_ips[k]) != 0) {
                return false;
            }
        }
    }
    return true;
}

static char runtime_dir[4096];
static char cache_file[sizeof(runtime_dir) + 32];

static void remove_runtime_dir(void)
{
    unlink(cache_file);
    rmdir(runtime_dir);
}

/* The runtime directory: a fresh one under $TMPDIR, removed at exit. */
static bool setup(void)
{
    static bool ready;
    const char *tmp = getenv("TMPDIR");

    if (ready) {
        return true;
    }
    snprintf(runtime_dir, sizeof(runtime_dir), "%s/ec2ha-fuzz-imds-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(runtime_dir) == NULL) {
        return false;
    }
    snprintf(cache_file, sizeof(cache_file), "%s/%s", runtime_dir, EC2HA_IMDS_CACHE_NAME);
    atexit(remove_runtime_dir);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    ec2ha_log_init("fuzz", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, "/dev/null");
    ready = true;
    return true;
}

static void write_cache(const char *text, size_t len)
{
    int fd;

    unlink(cache_file);
    if (len == 0) {
        return;
    }
    fd = open(cache_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        /* a short cache file is just another input */
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep;
    answers a;
    ec2ha_imds *m = NULL;
    ec2ha_imds_interface *ifs = NULL;
    size_t n_ifs = 0;
    ec2ha_imds_interface *first = NULL;
    size_t n_first = 0;
    bool check_cache = false;
    ec2ha_imds_role_credentials role;
    ec2ha_error err;
    char *s = NULL;

    if (!setup()) {
        return 0;
    }
    sep = memmem(text, size, SEP, strlen(SEP));
    write_cache(text, sep != NULL ? (size_t)(sep - text) : size);
    a.next = sep != NULL ? sep + strlen(SEP) : NULL;
    a.end = text + size;

    ec2ha_error_clear(&err);
    if (ec2ha_imds_new(runtime_dir, &m, &err) != EC2HA_OK) {
        goto done;
    }
    ec2ha_imds_set_clock(m, fixed_clock);
    ec2ha_imds_set_transport(m, transport, &a);

    /* 500 ms: below the 1 s connect timeout + backoff, so 429/5xx are not retried. */
    if (ec2ha_imds_get_instance_id(m, ec2ha_deadline_in_ms(500), &s, &err) == EC2HA_OK) {
        free(s);
        s = NULL;
    }
    if (ec2ha_imds_get_region(m, ec2ha_deadline_in_ms(500), &s, &err) == EC2HA_OK) {
        free(s);
        s = NULL;
    }
    if (ec2ha_imds_get_interfaces(m, ec2ha_deadline_in_ms(500), &first, &n_first, &err)
        == EC2HA_OK) {
        check_cache = well_formed(first, n_first);
    }
    memset(&role, 0, sizeof(role));
    if (ec2ha_imds_get_role_credentials(m, ec2ha_deadline_in_ms(500), &role, &err) == EC2HA_OK) {
        ec2ha_imds_role_credentials_free(&role);
    }
    ec2ha_imds_free(m);

    /* A second handle reads the cache the first one wrote. */
    m = NULL;
    a.next = NULL;
    if (ec2ha_imds_new(runtime_dir, &m, &err) == EC2HA_OK) {
        ec2ha_imds_set_clock(m, fixed_clock);
        ec2ha_imds_set_transport(m, transport, &a);
        if (ec2ha_imds_get_interfaces(m, ec2ha_deadline_in_ms(500), &ifs, &n_ifs, &err)
            == EC2HA_OK) {
            if (check_cache && !same_interfaces(first, n_first, ifs, n_ifs)) {
                fprintf(stderr, "interfaces read back from the cache differ\n");
                abort();
            }
            ec2ha_imds_interfaces_free(ifs, n_ifs);
        } else if (check_cache) {
            fprintf(stderr, "the cache lost the interfaces: %s\n", err.message);
            abort();
        }
    }
done:
    ec2ha_imds_interfaces_free(first, n_first);
    ec2ha_imds_free(m);
    ec2ha_log_close();
    ec2ha_log_init("fuzz", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, "/dev/null");
    return 0;
}
