/*
 * fence/fence.h - private to fence_ec2 (not part of libec2ha).
 *
 * main.c      parses the options, sets up logging, maps results to exit codes
 * options.c   the option table (the single source of truth) and typed settings
 * target.c    plug -> instance id (instance id, CIB attribute, tag)
 * race.c      this node's own instance: the race guard, never fence ourselves
 * actions.c   on / off / reboot / status / list / list-status / monitor
 *
 * Every function returns an ec2ha_rc and fills the caller's ec2ha_error; only
 * main() turns results into fence-agents exit codes (0, 1, 2 for status OFF).
 * Actions print the fence-agents stdout lines ("Success: Powered OFF" ...).
 */
#ifndef EC2HA_FENCE_H
#define EC2HA_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ec2ha/cluster.h"
#include "ec2ha/creds.h"
#include "ec2ha/ec2.h"
#include "ec2ha/error.h"
#include "ec2ha/imds.h"
#include "ec2ha/opts.h"
#include "ec2ha/retry.h"

#define FENCE_PROGRAM_NAME "fence_ec2"

/* fence-agents exit codes. */
enum fence_exit {
    FENCE_EXIT_OK = 0,
    FENCE_EXIT_FAIL = 1,
    FENCE_EXIT_STATUS_OFF = 2
};

typedef enum fence_action {
    FENCE_ACTION_NONE = 0,
    FENCE_ACTION_ON,
    FENCE_ACTION_OFF,
    FENCE_ACTION_REBOOT,
    FENCE_ACTION_STATUS,
    FENCE_ACTION_LIST,
    FENCE_ACTION_LIST_STATUS,
    FENCE_ACTION_MONITOR,
    FENCE_ACTION_METADATA,
    FENCE_ACTION_MANPAGE,
    FENCE_ACTION_VALIDATE_ALL
} fence_action;

typedef enum fence_identity {
    FENCE_IDENTITY_AUTO = 0,      /* instance id, else CIB attribute, else tag */
    FENCE_IDENTITY_INSTANCE_ID,   /* plug must be an instance id */
    FENCE_IDENTITY_TAG,           /* plug is a tag_key value */
    FENCE_IDENTITY_CIB            /* plug is a node name with ec2-instance-id in the CIB */
} fence_identity;

/* Parsed `filter` (name=value[,name=value]); names repeated become one filter with several values. */
typedef struct fence_filter_set {
    ec2ha_filter *filters;
    size_t n;
    char *buf;                    /* the text, split in place */
    const char **values;          /* all values, grouped by filter */
} fence_filter_set;

/* Typed, validated view of the options.  Strings point into the ec2ha_opt_values. */
typedef struct fence_settings {
    fence_action action;
    const char *action_name;      /* as given, lower-cased copy in action_buf */
    char action_buf[32];

    char **plugs;                 /* plug split on plug_separator (owned) */
    size_t n_plugs;

    const char *region;
    const char *access_key;
    const char *secret_key;
    const char *session_token;
    const char *profile;
    const char *endpoint_url;
    const char *ca_bundle;
    const char *proxy;
    const char *tag_key;
    const char *separator;
    fence_filter_set filter;
    fence_identity identity;

    bool skip_race_check;
    bool skip_os_shutdown;
    bool quiet;
    long verbose_level;
    const char *debug_file;

    int64_t delay_ms;
    int64_t login_timeout_ms;
    int64_t power_timeout_ms;
    int64_t power_wait_ms;
    int64_t shell_timeout_ms;
    int64_t status_sleep_ms;
    int64_t connect_timeout_ms;
    long retry_on;
} fence_settings;

/* Everything an action needs. */
typedef struct fence_ctx {
    const fence_settings *s;
    ec2ha_deadline deadline;      /* the whole run ends before this */
    ec2ha_imds *imds;
    ec2ha_aws_config aws;
    ec2ha_ec2_client *ec2;
    FILE *out;                    /* stdout: the fence-agents result lines */

    ec2ha_cluster *cib;           /* connected lazily; NULL when unreachable */
    bool cib_tried;

    char *own_instance_id;        /* from IMDS, looked up once */
    bool own_tried;
    ec2ha_error own_err;          /* why own_instance_id is NULL */

    bool skip_os_shutdown_rejected;   /* EC2 refused SkipOsShutdown once: stop without it */
} fence_ctx;

/* ---- options.c ----------------------------------------------------------- */

extern const ec2ha_option fence_options[];
extern const size_t fence_n_options;
extern const ec2ha_program_info fence_program;

/* "off" -> FENCE_ACTION_OFF; "meta-data" is metadata (OCF habit).  NONE when unknown. */
fence_action fence_action_from_name(const char *name);
const char *fence_action_name(fence_action a);
bool fence_action_needs_plug(fence_action a);

/* Read and validate every option; messages name the option, the value and what is valid. */
ec2ha_rc fence_settings_load(const ec2ha_opt_values *v, fence_settings *s, ec2ha_error *err);
void fence_settings_free(fence_settings *s);

ec2ha_rc fence_filter_parse(const char *text, fence_filter_set *out, ec2ha_error *err);
void fence_filter_free(fence_filter_set *f);

/* ---- target.c ------------------------------------------------------------ */

/* "i-" followed by 8 or 17 lower-case hex digits. */
bool fence_is_instance_id(const char *s);

/* plug -> instance id (heap string), following settings.identity.  *from_cib_out:
 * the id is the node's ec2-instance-id attribute (check it with fence_target_check_record). */
ec2ha_rc fence_target_resolve(fence_ctx *ctx, const char *plug, char **instance_id_out,
                              bool *from_cib_out, ec2ha_error *err);

/*
 * Cross-check a CIB record plug -> id against `inst` (DescribeInstances of id,
 * NULL when EC2 does not know it).  EC2HA_ERR_REFUSED, naming both instances,
 * when the record contradicts the cluster or EC2:
 *  - another node of the CIB has the same ec2-instance-id, or the instance's
 *    tag_key value or private DNS host name is another node's name;
 *  - the instance is stopped, terminated, unknown, or carries another tag_key
 *    value, and a non-terminated instance tagged tag_key=plug that is not
 *    stopped exists (the node was rebuilt: the record names its old instance).
 * The second check costs one DescribeInstances, only in those cases.
 */
ec2ha_rc fence_target_check_record(fence_ctx *ctx, const char *plug, const char *id,
                                   const ec2ha_instance *inst, ec2ha_error *err);

/* The CIB, connected once; NULL (with a debug line) when unreachable. */
ec2ha_cluster *fence_cib(fence_ctx *ctx);

/* ---- race.c -------------------------------------------------------------- */

/* This node's instance id from IMDS (cached in ctx).  Error when it cannot be determined. */
ec2ha_rc fence_own_instance(fence_ctx *ctx, const char **id_out, ec2ha_error *err);

/*
 * Before stopping `target_id`: refuse when it is this node's own instance
 * (known from IMDS, else from this node's ec2-instance-id in the CIB), and,
 * unless skip_race_check, confirm this node's own instance is `running`
 * (IMDS unreachable or own state unknown: refuse).
 */
ec2ha_rc fence_race_guard(fence_ctx *ctx, const char *target_id, ec2ha_error *err);

/* ---- actions.c ----------------------------------------------------------- */

/* Runs s->action.  *status_off_out is set when `status` found the target OFF. */
ec2ha_rc fence_run_action(fence_ctx *ctx, bool *status_off_out, ec2ha_error *err);

/* err->message plus the AWS code and request id when present, into buf. */
const char *fence_error_detail(const ec2ha_error *err, char *buf, size_t len);

#endif
