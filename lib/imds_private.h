/* imds_private.h - test seams of the IMDS module (clock, cache state); library-internal. */
#ifndef EC2HA_IMDS_PRIVATE_H
#define EC2HA_IMDS_PRIVATE_H

#include <stddef.h>
#include <time.h>

#include "ec2ha/error.h"
#include "ec2ha/http.h"
#include "ec2ha/imds.h"

#define EC2HA_IMDS_TOKEN_TTL_S 21600
#define EC2HA_IMDS_TOKEN_MIN_LEFT_S 60
#define EC2HA_IMDS_IDENTITY_MAX_AGE_S 3600
#define EC2HA_IMDS_CACHE_NAME "imds-cache"

/* Replace the wall clock (seconds since the epoch) used for cache ages; NULL: time(). */
void ec2ha_imds_set_clock(ec2ha_imds *m, time_t (*now_fn)(void));

/* Put values in the in-memory cache as if fetched at the clock's now, and write the file. */
ec2ha_rc ec2ha_imds_cache_put(ec2ha_imds *m, const char *token, const char *instance_id,
                              const char *region, const ec2ha_imds_interface *ifs, size_t n_ifs,
                              ec2ha_error *err);

/* The HTTP layer, replaceable for unit tests (default: ec2ha_http_perform). */
typedef ec2ha_rc (*ec2ha_imds_transport_fn)(void *ctx, const ec2ha_http_options *opts,
                                            const ec2ha_http_request *req,
                                            ec2ha_deadline deadline, ec2ha_http_response *out,
                                            ec2ha_error *err);
void ec2ha_imds_set_transport(ec2ha_imds *m, ec2ha_imds_transport_fn fn, void *ctx);

/* Path of the cache file of this handle. */
const char *ec2ha_imds_cache_path(const ec2ha_imds *m);

#endif
