/*
 * libFuzzer harness: log redaction (ec2ha_log_redact), the last line of
 * defence between a secret and a log sink.  Trace-level logs carry response
 * bodies, so redaction reads outside text.
 *
 * Input: up to three secret lines, a line "--", then the log text (which may
 * span lines).  Without "--" the whole input is the log text.  Checked
 * properties, beyond memory safety:
 *   - the text never grows;
 *   - no registered secret (nor its percent-encoded form) survives, for
 *     secrets of at least EC2HA_LOG_MIN_SECRET_LEN bytes (shorter ones are
 *     ignored by design) without '*' (a mask next to text may form a
 *     '*'-bearing "secret" by construction; real keys, tokens and signatures
 *     are base64/hex).
 * The same text is then logged through ec2ha_log() at trace level into
 * /dev/null, which splits lines and replaces control characters.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SECRETS 3

static bool checkable(const char *s)
{
    return strlen(s) >= EC2HA_LOG_MIN_SECRET_LEN && strchr(s, '*') == NULL;
}

static char *percent_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1);
    char *w = out;
    const unsigned char *p;

    if (out == NULL) {
        return NULL;
    }
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
            || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 0x0f];
        }
    }
    *w = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = NULL;
    char *text;
    char *secrets[MAX_SECRETS];
    size_t n_secrets = 0;
    size_t before;
    size_t i;
    char *sep;

    copy = malloc(size + 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    text = copy;
    sep = strstr(copy, "\n--\n");
    if (sep != NULL) {
        char *p = copy;

        *sep = '\0';
        text = sep + 4;
        while (p != NULL && n_secrets < MAX_SECRETS) {
            char *nl = strchr(p, '\n');

            if (nl != NULL) {
                *nl = '\0';
            }
            if (p[0] != '\0') {
                secrets[n_secrets++] = p;
            }
            p = nl != NULL ? nl + 1 : NULL;
        }
    }

    ec2ha_log_init("fuzz", EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, "/dev/null");
    for (i = 0; i < n_secrets; i++) {
        ec2ha_log_add_secret(secrets[i]);
    }
    /* Through the logger first: it redacts a copy. */
    ec2ha_log(EC2HA_LOG_TRACE, "%s", text);

    before = strlen(text);
    ec2ha_log_redact(text);
    if (strlen(text) > before) {
        fprintf(stderr, "redaction grew the line from %zu to %zu bytes\n", before,
                strlen(text));
        abort();
    }
    for (i = 0; i < n_secrets; i++) {
        char *enc = NULL;

        if (!checkable(secrets[i])) {
            continue;
        }
        if (strstr(text, secrets[i]) != NULL) {
            fprintf(stderr, "secret %zu survived redaction\n", i);
            abort();
        }
        enc = percent_encode(secrets[i]);
        if (enc != NULL && strstr(text, enc) != NULL) {
            fprintf(stderr, "percent-encoded secret %zu survived redaction\n", i);
            abort();
        }
        free(enc);
    }
    ec2ha_log_close();   /* drops the registered secrets: each input starts clean */
    free(copy);
    return 0;
}
