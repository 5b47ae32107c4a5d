/* buf.c - bounded byte buffers and secret wiping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ec2ha/buf.h"

void ec2ha_secure_zero(void *p, size_t n)
{
    if (p != NULL && n > 0) {
        OPENSSL_cleanse(p, n);
    }
}

void ec2ha_free_secret(char *s)
{
    if (s != NULL) {
        ec2ha_secure_zero(s, strlen(s));
        free(s);
    }
}

void ec2ha_buf_init(ec2ha_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap > 0 ? cap : EC2HA_BUF_DEFAULT_CAP;
}

void ec2ha_buf_init_secret(ec2ha_buf *b, size_t cap)
{
    ec2ha_buf_init(b, cap);
    b->secret = true;
}

void ec2ha_buf_free(ec2ha_buf *b)
{
    size_t cap;
    bool secret;

    if (b == NULL) {
        return;
    }
    if (b->secret && b->data != NULL) {
        ec2ha_secure_zero(b->data, b->alloc);
    }
    free(b->data);
    cap = b->cap;
    secret = b->secret;
    memset(b, 0, sizeof(*b));
    b->cap = cap;
    b->secret = secret;
}

void ec2ha_buf_reset(ec2ha_buf *b)
{
    if (b->data != NULL) {
        if (b->secret) {
            ec2ha_secure_zero(b->data, b->len);
        }
        b->data[0] = '\0';
    }
    b->len = 0;
}

static ec2ha_rc grow(ec2ha_buf *b, size_t need)
{
    size_t want;
    char *p;

    if (need <= b->alloc) {
        return EC2HA_OK;
    }
    want = b->alloc > 0 ? b->alloc : 64;
    while (want < need) {
        want *= 2;
    }
    if (b->secret) {
        /* realloc could leave a copy of the secret behind: copy and wipe instead */
        p = malloc(want);
        if (p != NULL && b->data != NULL) {
            memcpy(p, b->data, b->len + 1);
            ec2ha_secure_zero(b->data, b->alloc);
            free(b->data);
        }
    } else {
        p = realloc(b->data, want);
    }
    if (p == NULL) {
        return EC2HA_ERR_NOMEM;
    }
    b->data = p;
    b->alloc = want;
    return EC2HA_OK;
}

ec2ha_rc ec2ha_buf_append(ec2ha_buf *b, const void *data, size_t len)
{
    if (len > b->cap || b->len > b->cap - len) {
        ec2ha_buf_free(b);
        return EC2HA_ERR_TOO_LARGE;
    }
    if (grow(b, b->len + len + 1) != EC2HA_OK) {
        ec2ha_buf_free(b);
        return EC2HA_ERR_NOMEM;
    }
    if (len > 0) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
    return EC2HA_OK;
}

ec2ha_rc ec2ha_buf_append_str(ec2ha_buf *b, const char *s)
{
    return ec2ha_buf_append(b, s, strlen(s));
}

ec2ha_rc ec2ha_buf_printf(ec2ha_buf *b, const char *fmt, ...)
{
    char small[256];
    char *big = NULL;
    va_list ap;
    int n;
    ec2ha_rc rc = EC2HA_ERR_NOMEM;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        goto done;
    }
    if ((size_t)n < sizeof(small)) {
        rc = ec2ha_buf_append(b, small, (size_t)n);
        goto done;
    }
    big = malloc((size_t)n + 1);
    if (big == NULL) {
        ec2ha_buf_free(b);
        goto done;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = ec2ha_buf_append(b, big, (size_t)n);
done:
    if (b->secret) {
        ec2ha_secure_zero(small, sizeof(small));
        if (big != NULL) {
            ec2ha_secure_zero(big, (size_t)n);
        }
    }
    free(big);
    return rc;
}

const char *ec2ha_buf_str(const ec2ha_buf *b)
{
    return b->data != NULL ? b->data : "";
}

char *ec2ha_buf_steal(ec2ha_buf *b)
{
    char *p = b->data;

    if (p == NULL) {
        p = strdup("");
    }
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return p;
}
