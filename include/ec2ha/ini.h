/*
 * ec2ha/ini.h - the AWS shared config/credentials file format, read as
 * botocore reads it (Python's configparser.RawConfigParser defaults plus
 * botocore.configloader's nesting), so a file the AWS CLI accepts means the
 * same here and a file it rejects is rejected here too.
 *
 * Sections "[name]" (kept as written: "profile prod" stays "profile prod";
 * mapping profiles to sections is the creds module's job); "key = value" or
 * "key: value" pairs split at the first '=' or ':'; '#' and ';' comment lines,
 * and NO inline comments ("k = v # x" has the value "v # x"); keys are
 * lowercased (configparser's optionxform), values trimmed; lines indented
 * deeper than their key continue its value, and a value that starts on the
 * next line is a block of sub-properties stored as "key.sub" (as the AWS CLI
 * nests s3/sso settings).  A key before any section, a line that is neither a
 * header nor "key = value", and a section or key given twice in one file are
 * errors (as in botocore, strict mode).  "[DEFAULT]" holds fallbacks for every
 * section and is not a section itself.  Files are capped at 1 MiB.
 * The ini object owns all strings and wipes the values when freed.
 */
#ifndef EC2HA_INI_H
#define EC2HA_INI_H

#include <stddef.h>

#include "ec2ha/error.h"

typedef struct ec2ha_ini ec2ha_ini;

ec2ha_rc ec2ha_ini_parse(const char *text, size_t len, ec2ha_ini **out, ec2ha_error *err);
/*
 * A missing file (or a path that is not a regular file, which botocore skips
 * alike) gives EC2HA_ERR_NOT_FOUND (the chain moves on); others EC2HA_ERR_IO,
 * EC2HA_ERR_TOO_LARGE or EC2HA_ERR_PARSE with the path and line in the message.
 */
ec2ha_rc ec2ha_ini_load(const char *path, ec2ha_ini **out, ec2ha_error *err);
/* key lowercase; NULL when absent.  Falls back to [DEFAULT] for an existing section. */
const char *ec2ha_ini_get(const ec2ha_ini *ini, const char *section, const char *key);
int ec2ha_ini_has_section(const ec2ha_ini *ini, const char *section);
/* Sections in file order ([DEFAULT] excluded); name NULL past the end. */
size_t ec2ha_ini_section_count(const ec2ha_ini *ini);
const char *ec2ha_ini_section_name(const ec2ha_ini *ini, size_t index);
void ec2ha_ini_free(ec2ha_ini *ini);   /* wipes values (they may be secrets); accepts NULL */

#endif
