/*
 * ec2_form.c - EC2 Query API request bodies (application/x-www-form-urlencoded).
 *
 * Keys and values are percent-encoded per RFC 3986: the unreserved characters
 * A-Z a-z 0-9 - _ . ~ stay as they are, every other byte becomes %XX
 * (uppercase hex, space as %20, never '+').  That is the encoding SigV4 uses,
 * so the body means the same to every reader.
 *
 * The form carries a sticky rc: after one failed add every further add is a
 * no-op returning that rc, and ec2ha_ec2_call refuses to send the form.
 */
#include <stdio.h>
#include <string.h>

#include "ec2ha/ec2.h"

/* A request body of EC2's is a few KiB; 1 MiB leaves room for long filter lists. */
#define FORM_MAX_BYTES ((size_t)1024 * 1024)
/* "Filter.NNNNNNNNNN.Value.NNNNNNNNNN" and friends */
#define FORM_KEY_MAX 256

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static ec2ha_rc append_encoded(ec2ha_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    ec2ha_rc rc = EC2HA_OK;

    while (*p != '\0' && rc == EC2HA_OK) {
        const unsigned char *run = p;

        while (*p != '\0' && is_unreserved(*p)) {
            p++;
        }
        if (p > run) {
            rc = ec2ha_buf_append(b, run, (size_t)(p - run));
        }
        if (rc == EC2HA_OK && *p != '\0') {
            char esc[3] = { '%', hex[*p >> 4], hex[*p & 0x0f] };

            rc = ec2ha_buf_append(b, esc, sizeof(esc));
            p++;
        }
    }
    return rc;
}

/* Record the first failure; the buffer is already freed by ec2ha_buf on its errors. */
static ec2ha_rc form_fail(ec2ha_form *f, ec2ha_rc rc)
{
    if (f->rc == EC2HA_OK) {
        f->rc = rc;
    }
    ec2ha_buf_free(&f->body);
    return f->rc;
}

ec2ha_rc ec2ha_form_init(ec2ha_form *f, const char *action)
{
    ec2ha_rc rc;

    if (f == NULL) {
        return EC2HA_ERR_INVALID;
    }
    memset(f, 0, sizeof(*f));
    ec2ha_buf_init(&f->body, FORM_MAX_BYTES);
    if (action == NULL || action[0] == '\0') {
        return form_fail(f, EC2HA_ERR_INVALID);
    }
    rc = ec2ha_buf_append_str(&f->body, "Action=");
    if (rc == EC2HA_OK) {
        rc = append_encoded(&f->body, action);
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_buf_append_str(&f->body, "&Version=" EC2HA_EC2_API_VERSION);
    }
    if (rc != EC2HA_OK) {
        return form_fail(f, rc);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_form_add(ec2ha_form *f, const char *key, const char *value)
{
    ec2ha_rc rc;

    if (f == NULL) {
        return EC2HA_ERR_INVALID;
    }
    if (f->rc != EC2HA_OK) {
        return f->rc;
    }
    if (key == NULL || key[0] == '\0' || value == NULL || f->body.data == NULL) {
        return form_fail(f, EC2HA_ERR_INVALID);
    }
    rc = ec2ha_buf_append(&f->body, "&", 1);
    if (rc == EC2HA_OK) {
        rc = append_encoded(&f->body, key);
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_buf_append(&f->body, "=", 1);
    }
    if (rc == EC2HA_OK) {
        rc = append_encoded(&f->body, value);
    }
    if (rc != EC2HA_OK) {
        return form_fail(f, rc);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_form_add_bool(ec2ha_form *f, const char *key, bool value)
{
    return ec2ha_form_add(f, key, value ? "true" : "false");
}

ec2ha_rc ec2ha_form_add_list(ec2ha_form *f, const char *prefix, const char *const *values, size_t n)
{
    char key[FORM_KEY_MAX];
    size_t i;
    int len;

    if (f == NULL) {
        return EC2HA_ERR_INVALID;
    }
    if (prefix == NULL || prefix[0] == '\0' || (n > 0 && values == NULL)) {
        return form_fail(f, EC2HA_ERR_INVALID);
    }
    for (i = 0; i < n && f->rc == EC2HA_OK; i++) {
        len = snprintf(key, sizeof(key), "%s.%zu", prefix, i + 1);
        if (len < 0 || (size_t)len >= sizeof(key)) {
            return form_fail(f, EC2HA_ERR_INVALID);
        }
        ec2ha_form_add(f, key, values[i]);
    }
    return f->rc;
}

ec2ha_rc ec2ha_form_add_filters(ec2ha_form *f, const ec2ha_filter *filters, size_t n)
{
    char key[FORM_KEY_MAX];
    size_t i;
    size_t j;
    int len;

    if (f == NULL) {
        return EC2HA_ERR_INVALID;
    }
    if (n > 0 && filters == NULL) {
        return form_fail(f, EC2HA_ERR_INVALID);
    }
    for (i = 0; i < n && f->rc == EC2HA_OK; i++) {
        const ec2ha_filter *flt = &filters[i];

        if (flt->name == NULL || flt->name[0] == '\0' || flt->n_values == 0 ||
            flt->values == NULL) {
            /* EC2 rejects a filter without values; catch it before signing anything */
            return form_fail(f, EC2HA_ERR_INVALID);
        }
        len = snprintf(key, sizeof(key), "Filter.%zu.Name", i + 1);
        if (len < 0 || (size_t)len >= sizeof(key)) {
            return form_fail(f, EC2HA_ERR_INVALID);
        }
        ec2ha_form_add(f, key, flt->name);
        for (j = 0; j < flt->n_values && f->rc == EC2HA_OK; j++) {
            len = snprintf(key, sizeof(key), "Filter.%zu.Value.%zu", i + 1, j + 1);
            if (len < 0 || (size_t)len >= sizeof(key)) {
                return form_fail(f, EC2HA_ERR_INVALID);
            }
            ec2ha_form_add(f, key, flt->values[j]);
        }
    }
    return f->rc;
}

void ec2ha_form_free(ec2ha_form *f)
{
    if (f != NULL) {
        ec2ha_buf_free(&f->body);
        f->rc = EC2HA_OK;
    }
}
