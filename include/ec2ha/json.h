/*
 * ec2ha/json.h - a small strict JSON reader for the flat objects AWS hands us
 * (IMDS role credentials, credential_process output, the instance identity
 * document).  It validates the whole document (RFC 8259, nesting bounded)
 * and extracts top-level members; nested values are skipped.
 * Returned strings are heap copies, unescaped (\uXXXX to UTF-8), owned by the caller.
 */
#ifndef EC2HA_JSON_H
#define EC2HA_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/error.h"

/* EC2HA_OK, EC2HA_ERR_NOT_FOUND when absent, EC2HA_ERR_PARSE on bad JSON or a non-string. */
ec2ha_rc ec2ha_json_get_string(const char *json, size_t len, const char *key, char **out,
                               ec2ha_error *err);
/* Integer member (e.g. "Version": 1). */
ec2ha_rc ec2ha_json_get_long(const char *json, size_t len, const char *key, long *out,
                             ec2ha_error *err);
/* Whole-document validity (a top-level object). */
ec2ha_rc ec2ha_json_validate_object(const char *json, size_t len, ec2ha_error *err);

#endif
