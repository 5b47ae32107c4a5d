/*
 * test_sigv4.c - every case of the AWS SigV4 test suite through each stage of
 * the public API, plus the EC2-shaped cases generated with botocore
 * (tests/data/sigv4-ec2/generate.py), plus the helpers and error paths.
 *
 * Cases are found at run time by walking $EC2HA_TEST_DATA/aws-sigv4-testsuite
 * and $EC2HA_TEST_DATA/sigv4-ec2 recursively: a directory D holding D.req is a
 * case.  The test fails when a leaf directory is not a case, or when fewer
 * cases than expected ran (a runner that silently finds nothing is a defect).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "ec2ha/sigv4.h"

#define SUITE_DIR "aws-sigv4-testsuite"
#define EC2_DIR "sigv4-ec2"
#define SUITE_MIN_CASES 34      /* the suite as shipped: 24 top-level, 8 normalize-path, 2 sts */
#define EC2_MIN_CASES 4
#define MAX_REQ_HEADERS 64

/* ---- small file helpers ------------------------------------------------------ */

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)size + 1);
        if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        }
        if (data != NULL) {
            data[size] = '\0';
            if (len_out != NULL) {
                *len_out = (size_t)size;
            }
        }
    }
    fclose(f);
    return data;
}

static char *read_case_file(const char *dir, const char *name, const char *ext)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
    return read_file(path, NULL);
}

static const char *test_data_dir(void)
{
    const char *d = getenv("EC2HA_TEST_DATA");

    return d != NULL && d[0] != '\0' ? d : "tests/data";
}

/* ---- .req parser --------------------------------------------------------------- */

typedef struct parsed_req {
    char *method;
    char *path;
    char *query;
    char *names[MAX_REQ_HEADERS];
    char *values[MAX_REQ_HEADERS];
    ec2ha_sigv4_header headers[MAX_REQ_HEADERS];
    size_t n_headers;
    char *body;
    size_t body_len;
} parsed_req;

static void parsed_req_free(parsed_req *r)
{
    size_t i;

    free(r->method);
    free(r->path);
    free(r->query);
    for (i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static void add_header(parsed_req *r, const char *name, size_t name_len, const char *value,
                       size_t value_len)
{
    assert_true(r->n_headers < MAX_REQ_HEADERS);
    r->names[r->n_headers] = strndup(name, name_len);
    r->values[r->n_headers] = strndup(value, value_len);
    assert_non_null(r->names[r->n_headers]);
    assert_non_null(r->values[r->n_headers]);
    r->n_headers++;
}

static void finish_headers(parsed_req *r)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++) {
        r->headers[i].name = r->names[i];
        r->headers[i].value = r->values[i];
    }
}

/*
 * "METHOD PATH?QUERY HTTP/1.1" (the path may hold spaces), header lines
 * "Name:value", continuation lines (leading space or tab) appended to the
 * previous value after a '\n' (the signer must fold them), a blank line, body.
 */
static void parse_req(const char *text, parsed_req *r)
{
    const char *line = text;
    const char *eol = strchr(line, '\n');
    const char *sp;
    const char *ver;
    const char *target;
    const char *q;
    size_t line_len = eol != NULL ? (size_t)(eol - line) : strlen(line);

    memset(r, 0, sizeof(*r));
    sp = memchr(line, ' ', line_len);
    assert_non_null(sp);
    r->method = strndup(line, (size_t)(sp - line));
    target = sp + 1;
    for (ver = line + line_len; ver > target && *ver != ' '; ver--) {
    }
    assert_true(ver > target);
    assert_memory_equal(ver, " HTTP/1.1", 9);
    q = memchr(target, '?', (size_t)(ver - target));
    r->path = strndup(target, (size_t)((q != NULL ? q : ver) - target));
    r->query = q != NULL ? strndup(q + 1, (size_t)(ver - q - 1)) : strdup("");

    while (eol != NULL) {
        const char *colon;

        line = eol + 1;
        eol = strchr(line, '\n');
        line_len = eol != NULL ? (size_t)(eol - line) : strlen(line);
        if (line_len == 0) {
            break;  /* blank line: body follows */
        }
        if (line[0] == ' ' || line[0] == '\t') {
            char *prev;
            size_t plen;

            assert_true(r->n_headers > 0);
            prev = r->values[r->n_headers - 1];
            plen = strlen(prev);
            prev = realloc(prev, plen + 1 + line_len + 1);
            assert_non_null(prev);
            prev[plen] = '\n';
            memcpy(prev + plen + 1, line, line_len);
            prev[plen + 1 + line_len] = '\0';
            r->values[r->n_headers - 1] = prev;
            continue;
        }
        colon = memchr(line, ':', line_len);
        assert_non_null(colon);
        add_header(r, line, (size_t)(colon - line), colon + 1,
                   line_len - (size_t)(colon + 1 - line));
    }
    if (eol != NULL) {
        r->body = strdup(eol + 1);
        r->body_len = strlen(r->body);
    } else {
        r->body = strdup("");
    }
    assert_non_null(r->method);
    assert_non_null(r->path);
    assert_non_null(r->query);
    assert_non_null(r->body);
    finish_headers(r);
}

static const char *find_header(const parsed_req *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->names[i], name) == 0) {
            return r->values[i];
        }
    }
    return NULL;
}

/* Value of "Name:value" line in a raw .sreq text, malloc'd; NULL when absent. */
static char *sreq_header(const char *sreq, const char *name)
{
    size_t nlen = strlen(name);
    const char *line = sreq;

    while (line != NULL && *line != '\0') {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);

        if (len > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            return strndup(line + nlen + 1, len - nlen - 1);
        }
        line = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}

/* ---- case context ---------------------------------------------------------------- */

typedef struct case_ctx {
    char access_key[128];
    char secret_key[128];
    char region[64];
    char service[64];
    time_t now;
} case_ctx;

static time_t parse_amz_date(const char *s)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
    assert_non_null(end);
    return timegm(&tm);
}

/* The suite's readme: AKIDEXAMPLE, us-east-1, "service", 2015-08-30T12:36:00Z. */
static void suite_context(case_ctx *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->access_key, "AKIDEXAMPLE");
    strcpy(c->secret_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    strcpy(c->region, "us-east-1");
    strcpy(c->service, "service");
    c->now = parse_amz_date("20150830T123600Z");
}

/* NAME.ctx overrides: key=value lines (access_key, secret_key, region, service, date). */
static void load_ctx_overrides(const char *dir, const char *name, case_ctx *c)
{
    char *text = read_case_file(dir, name, ".ctx");
    char *save = NULL;
    char *line;

    if (text == NULL) {
        return;
    }
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');

        assert_non_null(eq);
        *eq = '\0';
        if (strcmp(line, "access_key") == 0) {
            snprintf(c->access_key, sizeof(c->access_key), "%s", eq + 1);
        } else if (strcmp(line, "secret_key") == 0) {
            snprintf(c->secret_key, sizeof(c->secret_key), "%s", eq + 1);
        } else if (strcmp(line, "region") == 0) {
            snprintf(c->region, sizeof(c->region), "%s", eq + 1);
        } else if (strcmp(line, "service") == 0) {
            snprintf(c->service, sizeof(c->service), "%s", eq + 1);
        } else if (strcmp(line, "date") == 0) {
            c->now = parse_amz_date(eq + 1);
        } else {
            fail_msg("%s/%s.ctx: unknown key %s", dir, name, line);
        }
    }
    free(text);
}

static void expect_equal(const char *casename, const char *what, const char *expected,
                         const char *actual)
{
    if (expected == NULL || actual == NULL || strcmp(expected, actual) != 0) {
        print_error("case %s: %s differs\n--- expected ---\n%s\n--- actual ---\n%s\n---\n",
                    casename, what, expected != NULL ? expected : "(null)",
                    actual != NULL ? actual : "(null)");
        fail_msg("case %s: %s mismatch", casename, what);
    }
}

/* ---- one case --------------------------------------------------------------------- */

static void run_case(const char *dir, const char *name)
{
    char *req_text = read_case_file(dir, name, ".req");
    char *creq = read_case_file(dir, name, ".creq");
    char *sts = read_case_file(dir, name, ".sts");
    char *authz = read_case_file(dir, name, ".authz");
    char *sreq = read_case_file(dir, name, ".sreq");
    char *sreq_token = NULL;
    char *got_creq = NULL;
    char *got_signed = NULL;
    char *got_sts = NULL;
    bool token_after = false;
    parsed_req r;
    case_ctx ctx;
    ec2ha_sigv4_request req;
    ec2ha_sigv4_params params;
    ec2ha_sigv4_result res;
    ec2ha_error err;

    if (req_text == NULL || creq == NULL || sts == NULL || authz == NULL) {
        fail_msg("case %s in %s: missing .req, .creq, .sts or .authz", name, dir);
    }
    suite_context(&ctx);
    load_ctx_overrides(dir, name, &ctx);
    parse_req(req_text, &r);

    /*
     * Session token cases: the .sreq carries X-Amz-Security-Token that the .req
     * lacks.  When the .creq signs it (get-vanilla-with-session-token) the
     * caller adds it before signing, as ec2ha does; otherwise it is the
     * post-sts-header-after case: sign without it, add it afterwards.
     */
    if (sreq != NULL) {
        sreq_token = sreq_header(sreq, EC2HA_HEADER_SECURITY_TOKEN);
    }
    if (sreq_token != NULL && find_header(&r, EC2HA_HEADER_SECURITY_TOKEN) == NULL) {
        if (strstr(creq, "\nx-amz-security-token:") != NULL) {
            add_header(&r, EC2HA_HEADER_SECURITY_TOKEN, strlen(EC2HA_HEADER_SECURITY_TOKEN),
                       sreq_token, strlen(sreq_token));
            finish_headers(&r);
        } else {
            token_after = true;
        }
    }

    memset(&req, 0, sizeof(req));
    req.method = r.method;
    req.path = r.path;
    req.query = r.query;
    req.headers = r.headers;
    req.n_headers = r.n_headers;
    req.payload = r.body;
    req.payload_len = r.body_len;

    /* Stage by stage. */
    ec2ha_error_clear(&err);
    assert_int_equal(ec2ha_sigv4_canonical_request(&req, true, &got_creq, &got_signed, &err),
                     EC2HA_OK);
    expect_equal(name, "canonical request", creq, got_creq);
    assert_int_equal(ec2ha_sigv4_string_to_sign(ctx.now, ctx.region, ctx.service, got_creq,
                                                &got_sts, &err), EC2HA_OK);
    expect_equal(name, "string to sign", sts, got_sts);

    /* All stages at once. */
    memset(&params, 0, sizeof(params));
    params.access_key_id = ctx.access_key;
    params.secret_access_key = ctx.secret_key;
    params.region = ctx.region;
    params.service = ctx.service;
    params.now = ctx.now;
    params.normalize_path = true;
    memset(&res, 0xA5, sizeof(res));
    if (ec2ha_sigv4_sign(&req, &params, &res, &err) != EC2HA_OK) {
        fail_msg("case %s: sign failed: %s", name, err.message);
    }
    expect_equal(name, "canonical request (sign)", creq, res.canonical_request);
    expect_equal(name, "string to sign (sign)", sts, res.string_to_sign);
    expect_equal(name, "signed headers", got_signed, res.signed_headers);
    expect_equal(name, "Authorization", authz, res.authorization);
    assert_non_null(strstr(authz, res.signature));
    assert_int_equal(strlen(res.signature), 64);

    if (token_after) {
        char *sreq_auth = sreq_header(sreq, "Authorization");

        /* The token was not signed, and the request as sent carries both. */
        assert_null(strstr(res.signed_headers, "x-amz-security-token"));
        assert_non_null(sreq_auth);
        expect_equal(name, ".sreq Authorization", sreq_auth[0] == ' ' ? sreq_auth + 1 : sreq_auth,
                     res.authorization);
        free(sreq_auth);
    }

    ec2ha_sigv4_result_free(&res);
    free(got_creq);
    free(got_signed);
    free(got_sts);
    free(sreq_token);
    parsed_req_free(&r);
    free(req_text);
    free(creq);
    free(sts);
    free(authz);
    free(sreq);
}

/* ---- directory walk --------------------------------------------------------------- */

typedef struct walk_stats {
    unsigned cases;
    unsigned leaf_dirs;
} walk_stats;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(const char *dir, walk_stats *st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *subdirs[256];
    size_t n_sub = 0;
    size_t i;
    const char *base = strrchr(dir, '/');
    char req_path[4096];
    struct stat sb;

    if (d == NULL) {
        fail_msg("cannot open test data directory %s: %s (set EC2HA_TEST_DATA)", dir,
                 strerror(errno));
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];

        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && strcmp(e->d_name, "__pycache__") != 0) {
            assert_true(n_sub < sizeof(subdirs) / sizeof(subdirs[0]));
            subdirs[n_sub] = strdup(path);
            assert_non_null(subdirs[n_sub]);
            n_sub++;
        }
    }
    closedir(d);
    qsort(subdirs, n_sub, sizeof(subdirs[0]), cmp_str);

    base = base != NULL ? base + 1 : dir;
    snprintf(req_path, sizeof(req_path), "%s/%s.req", dir, base);
    if (stat(req_path, &sb) == 0) {
        print_message("[ CASE     ] %s\n", dir);
        run_case(dir, base);
        st->cases++;
    }
    if (n_sub == 0) {
        st->leaf_dirs++;
    }
    for (i = 0; i < n_sub; i++) {
        walk(subdirs[i], st);
        free(subdirs[i]);
    }
}

static void run_tree(const char *sub, unsigned min_cases)
{
    char root[4096];
    walk_stats st = { 0, 0 };

    snprintf(root, sizeof(root), "%s/%s", test_data_dir(), sub);
    walk(root, &st);
    print_message("[ INFO     ] %s: %u cases, %u leaf directories\n", sub, st.cases,
                  st.leaf_dirs);
    if (st.cases < st.leaf_dirs) {
        fail_msg("%s: only %u cases ran for %u leaf directories", sub, st.cases, st.leaf_dirs);
    }
    if (st.cases < min_cases) {
        fail_msg("%s: %u cases ran, expected at least %u", sub, st.cases, min_cases);
    }
}

static void test_aws_suite(void **state)
{
    (void)state;
    run_tree(SUITE_DIR, SUITE_MIN_CASES);
}

static void test_ec2_cases(void **state)
{
    (void)state;
    run_tree(EC2_DIR, EC2_MIN_CASES);
}

/* ---- helpers and error paths -------------------------------------------------------- */

static void test_signing_key_known_vector(void **state)
{
    /* AWS documentation example: 20120215 / us-east-1 / iam. */
    static const char expected[] =
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d";
    unsigned char key[32];
    char hex[65];
    size_t i;
    ec2ha_error err;

    (void)state;
    assert_int_equal(ec2ha_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                             parse_amz_date("20120215T000000Z"), "us-east-1",
                                             "iam", key, &err), EC2HA_OK);
    for (i = 0; i < sizeof(key); i++) {
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    }
    assert_string_equal(hex, expected);

    ec2ha_error_clear(&err);
    assert_int_equal(ec2ha_sigv4_signing_key("", 0, "us-east-1", "iam", key, &err),
                     EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "secret access key"));
    assert_int_equal(ec2ha_sigv4_signing_key("x", 0, "us/east", "iam", key, &err),
                     EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "region"));
}

static void test_amz_date_and_hash(void **state)
{
    char date[EC2HA_SIGV4_AMZ_DATE_LEN + 1];
    char hex[65];

    (void)state;
    ec2ha_sigv4_format_amz_date(parse_amz_date("20150830T123600Z"), date);
    assert_string_equal(date, "20150830T123600Z");
    ec2ha_sigv4_format_amz_date(0, date);
    assert_string_equal(date, "19700101T000000Z");
    ec2ha_sigv4_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ec2ha_sigv4_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_uri_encode(void **state)
{
    ec2ha_buf b;

    (void)state;
    ec2ha_buf_init(&b, 0);
    assert_int_equal(ec2ha_sigv4_uri_encode("a b/c~-._$+=&\xe1\x88\xb4", 16, true, &b),
                     EC2HA_OK);
    assert_string_equal(ec2ha_buf_str(&b), "a%20b/c~-._%24%2B%3D%26%E1%88%B4");
    ec2ha_buf_reset(&b);
    assert_int_equal(ec2ha_sigv4_uri_encode("a/b", 3, false, &b), EC2HA_OK);
    assert_string_equal(ec2ha_buf_str(&b), "a%2Fb");
    ec2ha_buf_free(&b);
}

static void canonical_of(const char *path, const char *query, bool normalize,
                         const char *expect_uri, const char *expect_query)
{
    ec2ha_sigv4_header h[] = { { "Host", "example.com" } };
    ec2ha_sigv4_request req = { "GET", path, query, h, 1, NULL, 0 };
    char *creq = NULL;
    char *signed_headers = NULL;
    char expect[1024];
    ec2ha_error err;

    snprintf(expect, sizeof(expect), "GET\n%s\n%s\nhost:example.com\n\nhost\n", expect_uri,
             expect_query);
    assert_int_equal(ec2ha_sigv4_canonical_request(&req, normalize, &creq, &signed_headers,
                                                   &err), EC2HA_OK);
    assert_memory_equal(creq, expect, strlen(expect));
    free(creq);
    free(signed_headers);
}

static void test_paths_and_queries(void **state)
{
    (void)state;
    canonical_of("//example//", NULL, false, "//example//", "");       /* S3: no normalising */
    canonical_of("//example//", NULL, true, "/example/", "");
    canonical_of("/a/./b/../../..", NULL, true, "/", "");
    canonical_of("/a/b/..", NULL, true, "/a/", "");
    canonical_of("/a/b/.", NULL, true, "/a/b/", "");
    canonical_of("/a%2Fb", NULL, true, "/a%252Fb", "");                 /* encoded again */
    canonical_of("", "", true, "/", "");
    canonical_of("/", "b&a=2&a=1&c=%e1%88%b4&d=x+y", true, "/",
                 "a=1&a=2&b=&c=%E1%88%B4&d=x%2By");
    canonical_of("/", "&&k=%zz", true, "/", "k=%25zz");
}

static void test_errors_leave_output_empty(void **state)
{
    ec2ha_sigv4_header ok[] = { { "Host", "h" }, { "X-Amz-Date", "20150830T123600Z" } };
    ec2ha_sigv4_header wrong_date[] = { { "Host", "h" }, { "X-Amz-Date", "20150830T123601Z" } };
    ec2ha_sigv4_header no_host[] = { { "X-Amz-Date", "20150830T123600Z" } };
    ec2ha_sigv4_header bad_name[] = { { "Host", "h" }, { "Bad Name", "v" },
                                      { "X-Amz-Date", "20150830T123600Z" } };
    ec2ha_sigv4_request req = { "GET", "/", NULL, ok, 2, NULL, 0 };
    ec2ha_sigv4_params p = { "AKIDEXAMPLE", "secret", "us-east-1", "ec2",
                             parse_amz_date("20150830T123600Z"), true };
    ec2ha_sigv4_result res;
    ec2ha_error err;

    (void)state;
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_OK);
    ec2ha_sigv4_result_free(&res);
    ec2ha_sigv4_result_free(NULL);

    req.headers = wrong_date;
    memset(&res, 0xA5, sizeof(res));
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "X-Amz-Date"));
    assert_null(res.authorization);
    assert_null(res.canonical_request);
    assert_int_equal(res.signature[0], '\0');

    req.headers = no_host;
    req.n_headers = 1;
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "Host"));

    req.headers = bad_name;
    req.n_headers = 3;
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "name"));

    req.headers = ok;
    req.n_headers = 2;
    p.secret_access_key = "";
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
    assert_null(res.authorization);
    p.secret_access_key = "secret";
    p.access_key_id = "";
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
    p.access_key_id = "AKIDEXAMPLE";
    p.service = "";
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "service"));
    req.method = "get";
    p.service = "ec2";
    assert_int_equal(ec2ha_sigv4_sign(&req, &p, &res, &err), EC2HA_ERR_INVALID);
}

static void test_equal(void **state)
{
    (void)state;
    assert_true(ec2ha_sigv4_equal("abcdef", "abcdef"));
    assert_false(ec2ha_sigv4_equal("abcdef", "abcdeg"));
    assert_false(ec2ha_sigv4_equal("abcdef", "abcde"));
    assert_false(ec2ha_sigv4_equal(NULL, "a"));
    assert_true(ec2ha_sigv4_equal("", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_suite),
        cmocka_unit_test(test_ec2_cases),
        cmocka_unit_test(test_signing_key_known_vector),
        cmocka_unit_test(test_amz_date_and_hash),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_paths_and_queries),
        cmocka_unit_test(test_errors_leave_output_empty),
        cmocka_unit_test(test_equal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
