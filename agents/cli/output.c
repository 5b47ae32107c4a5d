/*
 * output.c - the --json writer (RFC 8259, UTF-8 passed through, control
 * characters escaped) and small helpers for the human output.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CLI_JSON_CAP ((size_t)4 * 1024 * 1024)

const char *cli_dash(const char *s)
{
    return (s != NULL && s[0] != '\0') ? s : "-";
}

void cli_out_init(cli_out *o, bool json)
{
    memset(o, 0, sizeof(*o));
    o->json = json;
    ec2ha_buf_init(&o->buf, CLI_JSON_CAP);
}

void cli_out_free(cli_out *o)
{
    if (o != NULL) {
        ec2ha_buf_free(&o->buf);
    }
}

ec2ha_rc cli_json_escape(ec2ha_buf *b, const char *s)
{
    ec2ha_rc rc = ec2ha_buf_append(b, "\"", 1);

    for (const unsigned char *p = (const unsigned char *)s; rc == EC2HA_OK && *p != '\0'; p++) {
        switch (*p) {
        case '"':
            rc = ec2ha_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            rc = ec2ha_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            rc = ec2ha_buf_append(b, "\\n", 2);
            break;
        case '\r':
            rc = ec2ha_buf_append(b, "\\r", 2);
            break;
        case '\t':
            rc = ec2ha_buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                rc = ec2ha_buf_printf(b, "\\u%04x", (unsigned)*p);
            } else {
                rc = ec2ha_buf_append(b, p, 1);
            }
            break;
        }
    }
    if (rc == EC2HA_OK) {
        rc = ec2ha_buf_append(b, "\"", 1);
    }
    return rc;
}

/* Comma and "key": before a value at the current depth. */
static void prefix(cli_out *o, const char *key)
{
    if (o->failed) {
        return;
    }
    if (o->need_comma[o->depth] && ec2ha_buf_append(&o->buf, ",", 1) != EC2HA_OK) {
        o->failed = true;
        return;
    }
    o->need_comma[o->depth] = true;
    if (key != NULL &&
        (cli_json_escape(&o->buf, key) != EC2HA_OK || ec2ha_buf_append(&o->buf, ":", 1) != EC2HA_OK)) {
        o->failed = true;
    }
}

static void raw(cli_out *o, const char *s)
{
    if (!o->failed && ec2ha_buf_append_str(&o->buf, s) != EC2HA_OK) {
        o->failed = true;
    }
}

static void open_container(cli_out *o, const char *key, const char *bracket)
{
    prefix(o, key);
    raw(o, bracket);
    if (o->depth + 1 >= CLI_JSON_MAX_DEPTH) {
        o->failed = true;
        return;
    }
    o->depth++;
    o->need_comma[o->depth] = false;
}

static void close_container(cli_out *o, const char *bracket)
{
    raw(o, bracket);
    if (o->depth > 0) {
        o->depth--;
    }
}

void cli_json_begin_object(cli_out *o, const char *key)
{
    open_container(o, key, "{");
}

void cli_json_end_object(cli_out *o)
{
    close_container(o, "}");
}

void cli_json_begin_array(cli_out *o, const char *key)
{
    open_container(o, key, "[");
}

void cli_json_end_array(cli_out *o)
{
    close_container(o, "]");
}

void cli_json_string(cli_out *o, const char *key, const char *value)
{
    if (value == NULL) {
        cli_json_null(o, key);
        return;
    }
    prefix(o, key);
    if (!o->failed && cli_json_escape(&o->buf, value) != EC2HA_OK) {
        o->failed = true;
    }
}

void cli_json_bool(cli_out *o, const char *key, bool value)
{
    prefix(o, key);
    raw(o, value ? "true" : "false");
}

void cli_json_int(cli_out *o, const char *key, long long value)
{
    char num[32];

    snprintf(num, sizeof(num), "%lld", value);
    prefix(o, key);
    raw(o, num);
}

void cli_json_null(cli_out *o, const char *key)
{
    prefix(o, key);
    raw(o, "null");
}

ec2ha_rc cli_json_print(cli_out *o)
{
    if (o->failed || o->depth != 0) {
        return EC2HA_ERR_NOMEM;
    }
    o->printed = true;
    if (fputs(ec2ha_buf_str(&o->buf), stdout) == EOF || fputc('\n', stdout) == EOF ||
        fflush(stdout) != 0) {
        return EC2HA_ERR_IO;
    }
    return EC2HA_OK;
}
