/*
 * ec2ha/ini.h - the AWS shared config/credentials file format.
 *
 * Sections "[name]"; "key = value" pairs; '#' and ';' comment lines; an
 * indented line after "key =" with an empty value is a sub-property, stored as
 * "key.sub" (as the AWS CLI nests s3/sso settings); keys are case-sensitive as
 * in botocore.  Later duplicates win.  Section names are stored as written
 * ("profile prod" stays "profile prod"): mapping profiles to sections is the
 * creds module's job.  The ini object owns all strings.
 */
#ifndef EC2HA_INI_H
#define EC2HA_INI_H

#include <stddef.h>

#include "ec2ha/error.h"

typedef struct ec2ha_ini ec2ha_ini;

ec2ha_rc ec2ha_ini_parse(const char *text, size_t len, ec2ha_ini **out, ec2ha_error *err);
/* A missing file gives EC2HA_ERR_NOT_FOUND (the chain moves on); others EC2HA_ERR_IO. */
ec2ha_rc ec2ha_ini_load(const char *path, ec2ha_ini **out, ec2ha_error *err);
/* NULL when absent. */
const char *ec2ha_ini_get(const ec2ha_ini *ini, const char *section, const char *key);
int ec2ha_ini_has_section(const ec2ha_ini *ini, const char *section);
void ec2ha_ini_free(ec2ha_ini *ini);   /* wipes values (they may be secrets); accepts NULL */

#endif
