/*
 * fence/options.c - fence_ec2's one option table and its typed settings.
 *
 * Every option is described once, here.  Stdin parsing, getopt, --help, the
 * fence-agents metadata and the man page are generated from this table by
 * ec2ha/opts.h.  Names and getopt letters are fence_aws's (fence-agents
 * 4.12 plus upstream's skip_race_check / skip_os_shutdown), so switching from
 * fence_aws is a change of agent name only.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fence.h"

#ifndef EC2HA_VERSION
#define EC2HA_VERSION "0.0.0"
#endif

static const char *const identity_choices[] = { "auto", "instance-id", "tag", "cib", NULL };

#define SECRET EC2HA_OPT_SECRET
#define REQUIRED EC2HA_OPT_REQUIRED

const ec2ha_option fence_options[] = {
    { "action", 'o', "action", NULL, EC2HA_OPT_STRING, "reboot", REQUIRED, "action",
      "Fencing action",
      "Action: on, off, reboot (default), status, list, list-status, monitor, metadata, "
      "manpage or validate-all", NULL },
    { "plug", 'n', "plug", NULL, EC2HA_OPT_STRING, NULL, REQUIRED, "id",
      "Instance to fence: an instance id, a cluster node name or a tag value",
      "The target: an EC2 instance id (i-...) is used as is; otherwise the node's "
      "ec2-instance-id attribute in the CIB; otherwise the one non-terminated instance whose "
      "tag tag_key (default Name) equals the plug exactly. Several plugs are separated by "
      "plug_separator.", NULL },
    { "port", 0, NULL, "plug", EC2HA_OPT_STRING, NULL, REQUIRED | EC2HA_OPT_DEPRECATED, "id",
      "Instance to fence", NULL, NULL },
    { "nodename", 0, NULL, NULL, EC2HA_OPT_STRING, NULL, EC2HA_OPT_HIDDEN, "node",
      "Name of the node to fence, as Pacemaker's fencer sends it; used when plug is missing",
      NULL, NULL },
    { "region", 'r', "region", NULL, EC2HA_OPT_STRING, NULL, 0, "region",
      "Region",
      "AWS region, e.g. us-east-1. Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's "
      "region, then this instance's region from the instance metadata service.", NULL },
    { "access_key", 'a', "access-key", NULL, EC2HA_OPT_STRING, NULL, 0, "key",
      "Access Key",
      "AWS access key id. Default: the credential chain (environment, shared credentials and "
      "config files with credential_process, then the instance role).", NULL },
    { "secret_key", 's', "secret-key", NULL, EC2HA_OPT_STRING, NULL, SECRET, "key",
      "Secret Key", "AWS secret access key (used together with access_key).", NULL },
    { "session_token", 0, "session-token", NULL, EC2HA_OPT_STRING, NULL, SECRET, "token",
      "Session token for temporary access_key/secret_key credentials", NULL, NULL },
    { "profile", 0, "profile", NULL, EC2HA_OPT_STRING, NULL, 0, "name",
      "AWS profile in the shared credentials/config files",
      "Profile of ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, "
      "AWS_CONFIG_FILE); default AWS_PROFILE, else \"default\". A named profile that exists "
      "in neither file is an error.", NULL },
    { "endpoint_url", 0, "endpoint-url", NULL, EC2HA_OPT_STRING, NULL, 0, "url",
      "EC2 endpoint URL",
      "EC2 API endpoint, e.g. a VPC interface endpoint. Default: AWS_ENDPOINT_URL_EC2, "
      "AWS_ENDPOINT_URL, the profile's endpoint_url, else https://ec2.<region>.amazonaws.com.",
      NULL },
    { "ca_bundle", 0, "ca-bundle", NULL, EC2HA_OPT_STRING, NULL, 0, "file",
      "CA bundle (PEM) to verify the EC2 endpoint",
      "PEM file of certificate authorities for the EC2 endpoint. Default: AWS_CA_BUNDLE, the "
      "profile's ca_bundle, else the system store. Verification is never switched off.", NULL },
    /* SECRET: a proxy URL may hold user:password; main.c logs it with the password masked */
    { "proxy", 0, "proxy", NULL, EC2HA_OPT_STRING, NULL, SECRET, "url",
      "HTTPS proxy for the EC2 API (never used for the instance metadata service)",
      "Proxy for EC2 API calls, e.g. http://proxy:3128. Default: https_proxy/no_proxy from the "
      "environment. Instance metadata requests never go through a proxy.", NULL },
    { "connect_timeout", 0, "connect-timeout", NULL, EC2HA_OPT_SECONDS, "5", 0, "seconds",
      "Wait X seconds for a connection to the EC2 endpoint", NULL, NULL },
    { "filter", 0, "filter", NULL, EC2HA_OPT_STRING, NULL, 0, "key=value",
      "Filter for list-action",
      "EC2 filters for list and list-status: name=value[,name=value], e.g. "
      "vpc-id=vpc-0abc,instance-state-name=running. A name given twice matches either value.",
      NULL },
    { "tag_key", 0, "tag-key", NULL, EC2HA_OPT_STRING, "Name", 0, "key",
      "Tag whose value names the instance (plug lookup and list aliases)",
      "Tag key for plug lookup and for the alias printed by list: a plug that is not an "
      "instance id matches the instance whose tag tag_key equals it exactly.", NULL },
    { "identity", 0, "identity", NULL, EC2HA_OPT_SELECT, "auto", 0, "method",
      "How plug names an instance",
      "auto: an instance id as is, else the CIB node attribute ec2-instance-id, else the tag "
      "tag_key. instance-id, tag and cib use that one method only.", identity_choices },
    { "skip_race_check", 0, "skip-race-check", NULL, EC2HA_OPT_BOOL, NULL, 0, NULL,
      "Skip race condition check",
      "Do not require this node's own instance to be running before stopping another one "
      "(needed only when fencing from outside EC2). This node's own instance is never stopped.",
      NULL },
    { "skip_os_shutdown", 0, "skip-os-shutdown", NULL, EC2HA_OPT_STRING, "true", 0,
      "true|false",
      "Use SkipOsShutdown flag to stop the EC2 instance",
      "Stop with SkipOsShutdown=true (no OS shutdown, fastest). When EC2 rejects the parameter "
      "the stop is retried without it. Force=true is always sent.", NULL },
    { "boto3_debug", 'b', "boto3_debug", NULL, EC2HA_OPT_STRING, "False", EC2HA_OPT_IGNORED,
      "option", "Boto Lib debug", NULL, NULL },
    { "quiet", 'q', "quiet", NULL, EC2HA_OPT_BOOL, NULL, 0, NULL,
      "Disable logging to stderr. Does not affect --verbose or --debug-file or logging to "
      "syslog.", NULL, NULL },
    { "verbose", 'v', "verbose", NULL, EC2HA_OPT_BOOL, NULL, EC2HA_OPT_REPEATABLE, NULL,
      "Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to "
      "increase verbosity.", NULL, NULL },
    { "verbose_level", 0, "verbose-level", NULL, EC2HA_OPT_INT, NULL, 0, "level",
      "Level of debugging detail in output. Defaults to the number of --verbose flags "
      "specified on the command line, or to 1 if verbose=1 in a stonith device configuration "
      "(i.e., on stdin).", NULL, NULL },
    { "debug_file", 'D', "debug-file", NULL, EC2HA_OPT_STRING, NULL, 0, "debugfile",
      "Write debug information to given file", NULL, NULL },
    { "debug", 0, NULL, "debug_file", EC2HA_OPT_STRING, NULL, EC2HA_OPT_DEPRECATED,
      "debugfile", "Write debug information to given file", NULL, NULL },
    { "version", 'V', "version", NULL, EC2HA_OPT_BOOL, NULL, EC2HA_OPT_NO_STDIN, NULL,
      "Display version information and exit", NULL, NULL },
    { "help", 'h', "help", NULL, EC2HA_OPT_BOOL, NULL, EC2HA_OPT_NO_STDIN, NULL,
      "Display help and exit", NULL, NULL },
    { "plug_separator", 0, "plug-separator", NULL, EC2HA_OPT_STRING, ",", 0, "char",
      "Separator for plug parameter when specifying more than 1 plug", NULL, NULL },
    { "separator", 'C', "separator", NULL, EC2HA_OPT_STRING, ",", 0, "char",
      "Separator for CSV created by 'list' operation", NULL, NULL },
    { "delay", 0, "delay", NULL, EC2HA_OPT_SECONDS, "0", 0, "seconds",
      "Wait X seconds before fencing is started", NULL, NULL },
    { "disable_timeout", 0, "disable-timeout", NULL, EC2HA_OPT_STRING, NULL, 0, "true/false",
      "Disable timeout (true/false); fence_ec2 always ends within its deadline",
      "Accepted for fence_aws compatibility. fence_ec2 never waits without bound: the run "
      "ends within delay + login_timeout + power_timeout + power_wait + shell_timeout "
      "(power_timeout and power_wait twice for reboot).", NULL },
    { "login_timeout", 0, "login-timeout", NULL, EC2HA_OPT_SECONDS, "5", 0, "seconds",
      "Wait X seconds for cmd prompt after login",
      "Time for the set-up calls (credentials, instance metadata, target lookup).", NULL },
    { "power_timeout", 0, "power-timeout", NULL, EC2HA_OPT_SECONDS, "120", 0, "seconds",
      "Test X seconds for status change after ON/OFF",
      "Time EC2 gets to report the target stopped (off) or running (on) after the call. "
      "Default 120 (fence_aws: 60): a forced stop can take more than a minute. Set "
      "pcmk_off_timeout / pcmk_reboot_timeout above the whole run time.", NULL },
    { "power_wait", 0, "power-wait", NULL, EC2HA_OPT_SECONDS, "0", 0, "seconds",
      "Wait X seconds after issuing ON/OFF", NULL, NULL },
    { "shell_timeout", 0, "shell-timeout", NULL, EC2HA_OPT_SECONDS, "3", 0, "seconds",
      "Wait X seconds for cmd prompt after issuing command",
      "Extra time for the calls around the power change.", NULL },
    { "stonith_status_sleep", 0, "stonith-status-sleep", NULL, EC2HA_OPT_SECONDS, "0.25", 0,
      "seconds", "Sleep X seconds between status calls during a STONITH action",
      "Sleep X seconds between status calls during a STONITH action. The default, 0.25 s "
      "(fence_aws: 1 s), notices the stop sooner; four DescribeInstances calls a second "
      "stay far below EC2's request rate limits.", NULL },
    { "retry_on", 0, "retry-on", NULL, EC2HA_OPT_INT, "1", 0, "attempts",
      "Count of attempts to retry power on", NULL, NULL },
};

const size_t fence_n_options = sizeof fence_options / sizeof fence_options[0];

static const ec2ha_action_info fence_actions[] = {
    { "on", NULL, NULL, NULL, false, false,
      "Start the instance and wait until EC2 reports it running" },
    { "off", NULL, NULL, NULL, false, true,
      "Force-stop the instance; success only once EC2 reports it stopped or terminated" },
    { "reboot", NULL, NULL, NULL, false, true,
      "off, then on, each confirmed by EC2 (never RebootInstances)" },
    { "status", NULL, NULL, NULL, false, true,
      "Status: ON (running, pending, exit 0) or Status: OFF (stopped, terminated, exit 2)" },
    { "list", NULL, NULL, NULL, false, true, "Print instance-id,alias for each instance" },
    { "list-status", NULL, NULL, NULL, false, true,
      "Print instance-id,alias,on|off|UNKNOWN for each instance" },
    { "monitor", NULL, NULL, NULL, false, true,
      "One small authenticated call (and this node's own instance when on EC2)" },
    { "metadata", NULL, NULL, NULL, false, true, "Print the fence-agents metadata XML" },
    { "manpage", NULL, NULL, NULL, false, true, "Print the man page" },
    { "validate-all", NULL, NULL, NULL, false, true, "Check the options and exit" },
};

static const char fence_longdesc[] =
    "fence_ec2 is a power fencing agent for AWS EC2 instances. It force-stops the target "
    "instance through the EC2 API (StopInstances with Force=true and SkipOsShutdown=true) and "
    "reports success only once DescribeInstances shows the instance stopped or terminated. "
    "Before stopping another instance it confirms that its own instance is running (race "
    "guard), and it never stops its own instance. Credentials, region and endpoint follow the "
    "AWS CLI's chain (options, environment, shared files with credential_process, instance "
    "role). It accepts every fence_aws parameter with the same name and letter.";

static const char fence_man_extra[] =
    ".SH EXIT STATUS\n"
    ".TP\n0\nSuccess; for status: the instance is ON (running or pending).\n"
    ".TP\n1\nFailure: the action could not be confirmed (timeout, unknown or ambiguous "
    "target, refused by the race guard, API error), or status found the instance stopping "
    "or shutting-down.\n"
    ".TP\n2\nstatus: the instance is OFF (stopped or terminated).\n"
    ".SH SAFETY\n"
    "off never reports success before EC2 reports the target stopped or terminated; a "
    "timeout, throttling beyond the deadline, an unknown instance or an unclear state is a "
    "failure. DescribeInstances can answer from a stale view (eventual consistency), even an "
    "old stopped, so a stopped answer is believed once a forced StopInstances (harmless on a "
    "stopped instance) reports stopped as well; terminated is final. A target already "
    "stopping is stopped again with Force=true. reboot is off then "
    "on, never RebootInstances; as in fence-agents, reboot succeeds once off is confirmed and "
    "logs an error when the instance does not come back.\n"
    ".SH TIMEOUTS\n"
    "Pacemaker passes no timeout to fence agents. fence_ec2 ends within delay + login_timeout "
    "+ power_timeout + power_wait + shell_timeout seconds (power_timeout and power_wait count "
    "twice for reboot); with the defaults 128 s for off. Configure pcmk_off_timeout and "
    "pcmk_reboot_timeout above that (plain seconds, e.g. 150 and 280).\n"
    ".SH EXAMPLES\n"
    ".nf\n"
    "crm configure primitive fence-ec2 stonith:fence_ec2 \\\\\n"
    "    params region=eu-west-1 pcmk_off_timeout=150 pcmk_reboot_timeout=280 \\\\\n"
    "    op monitor interval=120s\n"
    "fence_ec2 -o status -n i-0123456789abcdef0\n"
    "fence_ec2 -o list --filter=tag:cluster=prod\n"
    ".fi\n";

const ec2ha_program_info fence_program = {
    FENCE_PROGRAM_NAME,
    EC2HA_VERSION,
    "Fence agent for AWS EC2 (force-stop, confirmed by DescribeInstances)",
    fence_longdesc,
    "https://aws.amazon.com/ec2/",
    FENCE_PROGRAM_NAME " [options]",
    fence_actions,
    sizeof fence_actions / sizeof fence_actions[0],
    "8",
    NULL,                       /* the page is named fence_ec2 */
    fence_man_extra,
    EC2HA_PROGRAM_FENCE,
};

/* ---- actions ---------------------------------------------------------------- */

static const struct {
    const char *name;
    fence_action action;
} action_names[] = {
    { "on", FENCE_ACTION_ON },
    { "off", FENCE_ACTION_OFF },
    { "reboot", FENCE_ACTION_REBOOT },
    { "status", FENCE_ACTION_STATUS },
    { "list", FENCE_ACTION_LIST },
    { "list-status", FENCE_ACTION_LIST_STATUS },
    { "monitor", FENCE_ACTION_MONITOR },
    { "metadata", FENCE_ACTION_METADATA },
    { "meta-data", FENCE_ACTION_METADATA },
    { "manpage", FENCE_ACTION_MANPAGE },
    { "validate-all", FENCE_ACTION_VALIDATE_ALL },
};

fence_action fence_action_from_name(const char *name)
{
    if (name == NULL)
        return FENCE_ACTION_NONE;
    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
        if (strcasecmp(name, action_names[i].name) == 0)
            return action_names[i].action;
    return FENCE_ACTION_NONE;
}

const char *fence_action_name(fence_action a)
{
    for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
        if (action_names[i].action == a)
            return action_names[i].name;
    return "none";
}

bool fence_action_needs_plug(fence_action a)
{
    return a == FENCE_ACTION_ON || a == FENCE_ACTION_OFF || a == FENCE_ACTION_REBOOT ||
           a == FENCE_ACTION_STATUS;
}

/* ---- filter ------------------------------------------------------------------ */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

void fence_filter_free(fence_filter_set *f)
{
    if (f == NULL)
        return;
    free(f->filters);
    free(f->buf);
    free(f->values);
    memset(f, 0, sizeof *f);
}

ec2ha_rc fence_filter_parse(const char *text, fence_filter_set *out, ec2ha_error *err)
{
    ec2ha_rc rc = EC2HA_ERR_NOMEM;
    fence_filter_set f = { 0 };
    const char **names = NULL;
    const char **vals = NULL;
    size_t n_pairs = 0;

    memset(out, 0, sizeof *out);
    if (text == NULL || *text == '\0')
        return EC2HA_OK;

    f.buf = strdup(text);
    if (f.buf == NULL)
        goto fail;
    size_t max_pairs = 1;
    for (const char *p = text; *p; p++)
        if (*p == ',')
            max_pairs++;
    names = calloc(max_pairs, sizeof *names);
    vals = calloc(max_pairs, sizeof *vals);
    f.values = calloc(max_pairs, sizeof *f.values);
    f.filters = calloc(max_pairs, sizeof *f.filters);
    if (names == NULL || vals == NULL || f.values == NULL || f.filters == NULL)
        goto fail;

    char *save = NULL;
    for (char *tok = strtok_r(f.buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "filter: '%s' is not name=value; expected name=value[,name=value] "
                                 "(e.g. tag:Name=node1,instance-state-name=running)", trim(tok));
            goto fail;
        }
        *eq = '\0';
        char *name = trim(tok);
        char *value = trim(eq + 1);
        if (*name == '\0' || *value == '\0') {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "filter: empty name or value in '%s'; expected "
                                 "name=value[,name=value]", text);
            goto fail;
        }
        names[n_pairs] = name;
        vals[n_pairs] = value;
        n_pairs++;
    }
    if (n_pairs == 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                             "filter: '%s' has no name=value pair", text);
        goto fail;
    }

    /* Group by name, keeping first-seen order of names and values. */
    size_t used = 0;
    for (size_t i = 0; i < n_pairs; i++) {
        if (names[i] == NULL)
            continue;
        ec2ha_filter *flt = &f.filters[f.n++];
        flt->name = names[i];
        flt->values = &f.values[used];
        for (size_t j = i; j < n_pairs; j++) {
            if (names[j] != NULL && strcmp(names[j], flt->name) == 0) {
                f.values[used++] = vals[j];
                flt->n_values++;
                if (j != i)
                    names[j] = NULL;
            }
        }
    }
    *out = f;
    memset(&f, 0, sizeof f);
    rc = EC2HA_OK;

fail:
    if (rc == EC2HA_ERR_NOMEM)
        ec2ha_error_set(err, rc, "filter: out of memory");
    free(names);
    free(vals);
    fence_filter_free(&f);
    return rc;
}

/* ---- settings ---------------------------------------------------------------- */

static ec2ha_rc get_ms(const ec2ha_opt_values *v, const char *name, int64_t *out,
                       ec2ha_error *err)
{
    double s = 0;
    /* One day is far beyond any sensible fence timeout and keeps ms in range. */
    ec2ha_rc rc = ec2ha_opts_get_seconds(v, name, 86400.0, &s, err);
    if (rc != EC2HA_OK)
        return rc;
    *out = (int64_t)(s * 1000.0 + 0.5);
    return EC2HA_OK;
}

static ec2ha_rc get_flag(const ec2ha_opt_values *v, const char *name, bool *out,
                         ec2ha_error *err)
{
    *out = false;
    if (ec2ha_opts_get(v, name) == NULL)
        return EC2HA_OK;
    return ec2ha_opts_get_bool(v, name, out, err);
}

/* Booleans that take a value on the command line (fence_aws: --skip-os-shutdown=false). */
static ec2ha_rc get_word_bool(const ec2ha_opt_values *v, const char *name, bool dflt, bool *out,
                              ec2ha_error *err)
{
    const char *s = ec2ha_opts_get(v, name);
    *out = dflt;
    if (s == NULL || *s == '\0')
        return EC2HA_OK;
    ec2ha_rc rc = ec2ha_parse_bool(s, out, err);
    if (rc != EC2HA_OK)
        ec2ha_error_prefix(err, "%s", name);
    return rc;
}

static ec2ha_rc split_plugs(const char *plug, const char *sep, fence_settings *s,
                            ec2ha_error *err)
{
    char *copy = strdup(plug);
    size_t max = 1;
    if (copy == NULL)
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "plug: out of memory");
    if (sep != NULL && *sep != '\0')
        for (const char *p = plug; *p; p++)
            if (strchr(sep, *p) != NULL)
                max++;
    s->plugs = calloc(max, sizeof *s->plugs);
    if (s->plugs == NULL) {
        free(copy);
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "plug: out of memory");
    }
    char *save = NULL;
    char *tok = (sep != NULL && *sep != '\0') ? strtok_r(copy, sep, &save) : copy;
    while (tok != NULL) {
        char *t = trim(tok);
        if (*t != '\0') {
            s->plugs[s->n_plugs] = strdup(t);
            if (s->plugs[s->n_plugs] == NULL) {
                free(copy);
                return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "plug: out of memory");
            }
            s->n_plugs++;
        }
        tok = (sep != NULL && *sep != '\0') ? strtok_r(NULL, sep, &save) : NULL;
    }
    free(copy);
    if (s->n_plugs == 0)
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "plug: '%s' names no instance; give an instance id, node name "
                               "or tag value", plug);
    return EC2HA_OK;
}

ec2ha_rc fence_settings_load(const ec2ha_opt_values *v, fence_settings *s, ec2ha_error *err)
{
    ec2ha_rc rc;
    const char *a = ec2ha_opts_get(v, "action");

    memset(s, 0, sizeof *s);
    if (a == NULL)
        a = "reboot";
    snprintf(s->action_buf, sizeof s->action_buf, "%s", a);
    for (char *p = s->action_buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    s->action_name = s->action_buf;
    s->action = fence_action_from_name(a);
    if (s->action == FENCE_ACTION_NONE)
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "Unrecognised action '%s' (valid: on, off, reboot, status, "
                               "list, list-status, monitor, metadata, manpage, validate-all)", a);

    s->region = ec2ha_opts_get(v, "region");
    s->access_key = ec2ha_opts_get(v, "access_key");
    s->secret_key = ec2ha_opts_get(v, "secret_key");
    s->session_token = ec2ha_opts_get(v, "session_token");
    s->profile = ec2ha_opts_get(v, "profile");
    s->endpoint_url = ec2ha_opts_get(v, "endpoint_url");
    s->ca_bundle = ec2ha_opts_get(v, "ca_bundle");
    s->proxy = ec2ha_opts_get(v, "proxy");
    s->tag_key = ec2ha_opts_get(v, "tag_key");
    s->separator = ec2ha_opts_get(v, "separator");
    s->debug_file = ec2ha_opts_get(v, "debug_file");
    if (s->tag_key == NULL || *s->tag_key == '\0')
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "tag_key: empty; give the tag key that names instances "
                               "(default Name)");
    if (s->separator == NULL)
        s->separator = ",";

    if ((s->access_key != NULL) != (s->secret_key != NULL))
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s is set but %s is not; give both, or neither to use the "
                               "credential chain",
                               s->access_key ? "access_key" : "secret_key",
                               s->access_key ? "secret_key" : "access_key");
    if (s->session_token != NULL && s->access_key == NULL)
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "session_token is set without access_key and secret_key");

    const char *identity = ec2ha_opts_get(v, "identity");
    if (identity == NULL || strcmp(identity, "auto") == 0)
        s->identity = FENCE_IDENTITY_AUTO;
    else if (strcmp(identity, "instance-id") == 0)
        s->identity = FENCE_IDENTITY_INSTANCE_ID;
    else if (strcmp(identity, "tag") == 0)
        s->identity = FENCE_IDENTITY_TAG;
    else if (strcmp(identity, "cib") == 0)
        s->identity = FENCE_IDENTITY_CIB;
    else
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "identity: '%s' is not valid; use auto, instance-id, tag or cib",
                               identity);

    if ((rc = get_flag(v, "skip_race_check", &s->skip_race_check, err)) != EC2HA_OK ||
        (rc = get_flag(v, "quiet", &s->quiet, err)) != EC2HA_OK ||
        (rc = get_word_bool(v, "skip_os_shutdown", true, &s->skip_os_shutdown, err)) !=
            EC2HA_OK)
        return rc;

    bool disable_timeout = false;
    if ((rc = get_word_bool(v, "disable_timeout", false, &disable_timeout, err)) != EC2HA_OK)
        return rc;

    bool verbose = false;
    if ((rc = get_flag(v, "verbose", &verbose, err)) != EC2HA_OK)
        return rc;
    if (ec2ha_opts_get(v, "verbose_level") != NULL) {
        if ((rc = ec2ha_opts_get_long(v, "verbose_level", 0, 10, &s->verbose_level, err)) !=
            EC2HA_OK)
            return rc;
    } else if (verbose) {
        unsigned c = ec2ha_opts_count(v, "verbose");
        s->verbose_level = c > 0 ? (long)c : 1;
    }

    if ((rc = get_ms(v, "delay", &s->delay_ms, err)) != EC2HA_OK ||
        (rc = get_ms(v, "login_timeout", &s->login_timeout_ms, err)) != EC2HA_OK ||
        (rc = get_ms(v, "power_timeout", &s->power_timeout_ms, err)) != EC2HA_OK ||
        (rc = get_ms(v, "power_wait", &s->power_wait_ms, err)) != EC2HA_OK ||
        (rc = get_ms(v, "shell_timeout", &s->shell_timeout_ms, err)) != EC2HA_OK ||
        (rc = get_ms(v, "stonith_status_sleep", &s->status_sleep_ms, err)) != EC2HA_OK ||
        (rc = get_ms(v, "connect_timeout", &s->connect_timeout_ms, err)) != EC2HA_OK)
        return rc;
    if (s->power_timeout_ms <= 0)
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "power_timeout: must be more than 0 seconds (fence_ec2 never "
                               "waits without bound); default 120");
    if (s->connect_timeout_ms <= 0)
        s->connect_timeout_ms = EC2HA_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (s->status_sleep_ms < 100)
        s->status_sleep_ms = 100;   /* never hammer the API */
    if ((rc = ec2ha_opts_get_long(v, "retry_on", 0, 100, &s->retry_on, err)) != EC2HA_OK)
        return rc;

    if ((rc = fence_filter_parse(ec2ha_opts_get(v, "filter"), &s->filter, err)) != EC2HA_OK)
        return rc;

    const char *plug = ec2ha_opts_get(v, "plug");
    if (plug == NULL || *plug == '\0')
        plug = ec2ha_opts_get(v, "nodename");
    if (plug != NULL && *plug != '\0') {
        if ((rc = split_plugs(plug, ec2ha_opts_get(v, "plug_separator"), s, err)) != EC2HA_OK)
            return rc;
        if (s->identity == FENCE_IDENTITY_INSTANCE_ID)
            for (size_t i = 0; i < s->n_plugs; i++)
                if (!fence_is_instance_id(s->plugs[i]))
                    return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                           "plug: '%s' is not an instance id (i-xxxxxxxx or "
                                           "i-xxxxxxxxxxxxxxxxx) but identity=instance-id",
                                           s->plugs[i]);
    } else if (fence_action_needs_plug(s->action)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "You have to enter plug number or machine identification "
                               "(plug: an instance id, node name or tag value)");
    }
    return EC2HA_OK;
}

void fence_settings_free(fence_settings *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_plugs; i++)
        free(s->plugs[i]);
    free(s->plugs);
    fence_filter_free(&s->filter);
    memset(s, 0, sizeof *s);
}
