/*
 * logging.c - where ocf:ec2ha:eip logs and how much: HA_debug, and tracing the
 * way resource-agents' ocf-shellfuncs does it for shell agents.
 *
 * Levels: NOTICE for the frequent monitor (and LSB status), INFO otherwise,
 * DEBUG when HA_debug is set and not 0, TRACE when tracing is on: every EC2
 * and instance metadata request and response body, with secret keys, session
 * tokens and IMDS tokens masked by the logger and credential or token bodies
 * not logged at all (lib/http.c).
 *
 * Tracing is on when $OCF_TRACE_RA is true (yes/true/1/on/ja, as ocf_is_true)
 * or, when it is unset, the trace_ra parameter is: `crm resource trace eip
 * start` sets it on the operation, `crm_resource --force-check -VV` exports
 * OCF_TRACE_RA=1, the LSB settings file takes TRACE_RA=1.  The trace goes to
 *   - $OCF_TRACE_FILE, else the trace_file parameter: an absolute path, or a
 *     descriptor 3-9 open for writing; /dev/stderr (crm_resource's default)
 *     means the usual sinks;
 *   - else, when stdin is not a terminal and Pacemaker named the resource,
 *     <trace_dir>/<type>/<resource>.<action>.<YYYY-MM-DD.HH:MM:SS>, trace_dir
 *     defaulting to $HA_VARLIB/trace_ra (/var/lib/heartbeat/trace_ra): where
 *     crm resource trace says the trace is and where crm report collects it;
 *   - else (run by hand, LSB mode) the usual sinks: stderr, plus syslog and
 *     HA_LOGFILE when those are configured.
 * A trace file (created 0600) gets the whole log of the run; the usual sinks
 * get one notice naming it, and a failure's ocf-exit-reason line on stderr as
 * always, so a traced recurring monitor does not pour response bodies into the
 * cluster log through the executor's copy of stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ec2ha/log.h"

#include "eip.h"

#define EIP_ENV_TRACE_RA "OCF_TRACE_RA"
#define EIP_ENV_TRACE_FILE "OCF_TRACE_FILE"
#define EIP_ENV_HA_VARLIB "HA_VARLIB"
#define EIP_HA_VARLIB_DEFAULT "/var/lib/heartbeat"
#define EIP_TRACE_SUBDIR "trace_ra"
#define EIP_TRACE_DIR_MODE 0755     /* as the shell's mkdir -p under umask 022 */

static char g_ident[128] = "eip";
static bool g_tracing = false;

static const char *nonempty(const char *s)
{
    return (s != NULL && s[0] != '\0') ? s : NULL;
}

void eip_log_start(bool lsb, bool quiet)
{
    const char *instance = getenv("OCF_RESOURCE_INSTANCE");
    const char *debug = getenv("HA_debug");
    const char *facility = getenv("HA_LOGFACILITY");
    const char *logfile = getenv("HA_LOGFILE");
    unsigned sinks = EC2HA_LOG_TO_STDERR;
    ec2ha_log_level level = EC2HA_LOG_INFO;

    if (!lsb && instance != NULL && instance[0] != '\0') {
        snprintf(g_ident, sizeof(g_ident), "eip(%s)", instance);
    } else {
        snprintf(g_ident, sizeof(g_ident), "eip");
    }
    if (debug != NULL && strcmp(debug, "0") != 0 && debug[0] != '\0') {
        level = EC2HA_LOG_DEBUG;
    } else if (quiet) {
        level = EC2HA_LOG_NOTICE;   /* a monitor every 30 s: only what matters */
    }
    if (facility != NULL && facility[0] != '\0' && strcmp(facility, "none") != 0) {
        sinks |= EC2HA_LOG_TO_SYSLOG;
    }
    if (logfile != NULL && logfile[0] != '\0') {
        sinks |= EC2HA_LOG_TO_FILE;
    }
    ec2ha_log_init(g_ident, level, sinks, NULL);
}

/* ocf-shellfuncs' ocf_is_true: yes, true, 1, ja, on (any case). */
static bool ocf_is_true(const char *s)
{
    static const char *const words[] = { "yes", "true", "1", "ja", "on" };

    for (size_t i = 0; s != NULL && i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(s, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* One path component from a name Pacemaker gave (a clone instance "eip:0" stays as is). */
static void path_component(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '/') {
            *s = '_';
        }
    }
}

/* mkdir -p of the directory that holds path; 0, or -1 with errno. */
static int make_parents(const char *path)
{
    char dir[PATH_MAX];
    char *slash = NULL;
    int n = snprintf(dir, sizeof(dir), "%s", path);

    if (n < 0 || (size_t)n >= sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;

            *p = '\0';
            if (mkdir(dir, EIP_TRACE_DIR_MODE) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = c;
            if (c == '\0') {
                return 0;
            }
        }
    }
}

/*
 * The trace file for this run in path, or false: trace to the usual sinks.
 * Same choice as ocf-shellfuncs' ocf_start_trace and ocf_default_trace_dest.
 */
static bool trace_file_path(const ec2ha_opt_values *v, const char *action, bool lsb,
                            char *path, size_t path_len)
{
    const char *file = nonempty(getenv(EIP_ENV_TRACE_FILE));
    const char *instance = nonempty(getenv("OCF_RESOURCE_INSTANCE"));
    const char *type = nonempty(getenv("OCF_RESOURCE_TYPE"));
    const char *dir = nonempty(ec2ha_opts_get(v, EIP_OPT_TRACE_DIR));
    const char *varlib = nonempty(getenv(EIP_ENV_HA_VARLIB));
    char name[256];
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);
    int n = 0;

    if (file == NULL) {
        file = nonempty(ec2ha_opts_get(v, EIP_OPT_TRACE_FILE));
    }
    if (file != NULL) {
        if (strcmp(file, "/dev/stderr") == 0 || strcmp(file, "/dev/fd/2") == 0 ||
            strcmp(file, "/proc/self/fd/2") == 0) {
            return false;               /* stderr is one of the usual sinks */
        }
        if (file[0] >= '3' && file[0] <= '9' && file[1] == '\0') {
            snprintf(path, path_len, "/dev/fd/%c", file[0]);
            return true;
        }
        if (file[0] == '/') {
            n = snprintf(path, path_len, "%s", file);
            return n > 0 && (size_t)n < path_len;
        }
        ec2ha_warn("trace file '%s' (%s or trace_file) is neither a descriptor 3-9 nor an "
                   "absolute path; using the default place", file, EIP_ENV_TRACE_FILE);
    }
    if (lsb || instance == NULL || isatty(STDIN_FILENO)) {
        return false;                   /* run by hand or as an init script: stderr */
    }
    if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof(stamp), "%F.%T", &tm) == 0) {
        snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    }
    n = snprintf(name, sizeof(name), "%s.%s.%s", instance, action, stamp);
    if (n < 0 || (size_t)n >= sizeof(name)) {
        ec2ha_warn("resource name too long for a trace file name; tracing to the usual log");
        return false;
    }
    path_component(name);
    if (dir != NULL) {
        n = snprintf(path, path_len, "%s/%s/%s", dir, type != NULL ? type : "eip", name);
    } else {
        n = snprintf(path, path_len, "%s/%s/%s/%s", varlib != NULL ? varlib
                     : EIP_HA_VARLIB_DEFAULT, EIP_TRACE_SUBDIR, type != NULL ? type : "eip",
                     name);
    }
    return n > 0 && (size_t)n < path_len;
}

bool eip_trace_start(const ec2ha_opt_values *v, const char *action, bool lsb)
{
    const char *flag = nonempty(getenv(EIP_ENV_TRACE_RA));
    char path[PATH_MAX];
    int fd = -1;

    if (g_tracing) {
        return true;
    }
    /* as ocf-shellfuncs: : ${OCF_TRACE_RA:=$OCF_RESKEY_trace_ra} */
    if (flag == NULL && v != NULL && v->table != NULL) {
        flag = nonempty(ec2ha_opts_get(v, EIP_OPT_TRACE_RA));
    }
    if (!ocf_is_true(flag)) {
        return false;
    }
    g_tracing = true;
    if (v != NULL && v->table != NULL && trace_file_path(v, action, lsb, path, sizeof(path))) {
        if (make_parents(path) == 0) {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
        }
        if (fd < 0) {
            ec2ha_warn("cannot write the trace of %s to %s: %s; tracing to the usual log "
                       "instead", action, path, strerror(errno));
        } else {
            close(fd);
            ec2ha_notice("tracing %s to %s", action, path);
            ec2ha_log_init(g_ident, EC2HA_LOG_TRACE, EC2HA_LOG_TO_FILE, path);
            ec2ha_trace("trace of %s %s (pid %ld); secrets are masked, credential and "
                        "token bodies not logged", g_ident, action, (long)getpid());
            return true;
        }
    }
    ec2ha_log_set_level(EC2HA_LOG_TRACE);
    ec2ha_trace("tracing %s; secrets are masked, credential and token bodies not logged",
                action);
    return true;
}
