/*
 * sigv4_private.h - what the SigV4 stages share inside libec2ha.
 */
#ifndef EC2HA_SIGV4_PRIVATE_H
#define EC2HA_SIGV4_PRIVATE_H

#include <stdbool.h>

#include "ec2ha/buf.h"
#include "ec2ha/error.h"

#define SIGV4_CANON_CAP ((size_t)1024 * 1024)   /* any one canonical part */

/* CanonicalURI of a request-line path (normalised unless normalize is false). */
ec2ha_rc ec2ha_sigv4_canonical_uri(const char *path, bool normalize, ec2ha_buf *out);

/* CanonicalQueryString of a raw query (without '?'); NULL or "" appends nothing. */
ec2ha_rc ec2ha_sigv4_canonical_query(const char *query, ec2ha_buf *out, ec2ha_error *err);

#endif
