/* opts_private.h - helpers shared by opts_parse.c and opts_print.c. */
#ifndef EC2HA_OPTS_PRIVATE_H
#define EC2HA_OPTS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/opts.h"

#define EC2HA_OPT_NAME_MAX 128

/* Row index of `name` in the table (exact, or with '-' and '_' equal, or the
 * long option name), aliases NOT resolved; -1 when unknown. */
int ec2ha_opts__lookup(const ec2ha_option *table, size_t n, const char *name);

/* Index of the row that holds the value for row i (its alias target, or i). */
int ec2ha_opts__target(const ec2ha_option *table, size_t n, size_t i);

/* Long option name of a row: long_opt, else name with '_' -> '-'.  Writes into
 * buf (EC2HA_OPT_NAME_MAX) and returns it. */
const char *ec2ha_opts__long_name(const ec2ha_option *o, char *buf, size_t size);

/* A bool whose default is true: the command line needs "=false" to turn it off. */
bool ec2ha_opts__bool_default_true(const ec2ha_option *o);

#endif
