/*
 * log.c - stderr, syslog and HA_LOGFILE sinks, with redaction before any sink.
 *
 * Process-wide by design (like openlog(3)): the logger configuration and the
 * list of registered secrets.  Not thread-safe; the agents are single-threaded.
 *
 * Line formats:
 *   stderr  "<ident>: <LEVEL>: <message>"
 *   syslog  "<LEVEL>: <message>" with ident, LOG_PID and $HA_LOGFACILITY
 *   file    "<ISO-8601 local time> <host> <ident>[<pid>]: <LEVEL>: <message>"
 * A message with several lines becomes several log lines; other control
 * characters are replaced by '?' so a value cannot forge a log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ec2ha/buf.h"
#include "ec2ha/log.h"

#define IDENT_MAX 64
#define HOST_MAX 64
#define SMALL_MSG 1024
#define MASK "****"
#define MASK_LEN 4

typedef struct logger {
    bool initialised;
    char ident[IDENT_MAX];
    char host[HOST_MAX];
    ec2ha_log_level level;
    unsigned sinks;
    int fd;
    bool syslog_open;
    char **secrets;
    size_t n_secrets;
    size_t cap_secrets;
} logger;

static logger g_log = {
    .initialised = false,
    .ident = "ec2ha",
    .host = "",
    .level = EC2HA_LOG_NOTICE,
    .sinks = EC2HA_LOG_TO_STDERR,
    .fd = -1,
};

static const char *level_name(ec2ha_log_level level)
{
    switch (level) {
    case EC2HA_LOG_ERR:
        return "ERROR";
    case EC2HA_LOG_WARNING:
        return "WARNING";
    case EC2HA_LOG_NOTICE:
        return "NOTICE";
    case EC2HA_LOG_INFO:
        return "INFO";
    case EC2HA_LOG_DEBUG:
        return "DEBUG";
    case EC2HA_LOG_TRACE:
        return "TRACE";
    }
    return "LOG";
}

static int level_priority(ec2ha_log_level level)
{
    switch (level) {
    case EC2HA_LOG_ERR:
        return LOG_ERR;
    case EC2HA_LOG_WARNING:
        return LOG_WARNING;
    case EC2HA_LOG_NOTICE:
        return LOG_NOTICE;
    case EC2HA_LOG_INFO:
        return LOG_INFO;
    case EC2HA_LOG_DEBUG:
    case EC2HA_LOG_TRACE:
        return LOG_DEBUG;
    }
    return LOG_NOTICE;
}

static ec2ha_log_level clamp_level(ec2ha_log_level level)
{
    if (level < EC2HA_LOG_ERR) {
        return EC2HA_LOG_ERR;
    }
    if (level > EC2HA_LOG_TRACE) {
        return EC2HA_LOG_TRACE;
    }
    return level;
}

/* $HA_LOGFACILITY: a facility name ("daemon", "local0".."local7", ...); "none" = no syslog. */
static int parse_facility(const char *name, bool *none)
{
    static const struct {
        const char *name;
        int facility;
    } table[] = {
        { "daemon", LOG_DAEMON }, { "user", LOG_USER }, { "auth", LOG_AUTH },
        { "authpriv", LOG_AUTHPRIV }, { "syslog", LOG_SYSLOG }, { "local0", LOG_LOCAL0 },
        { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
        { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
        { "local7", LOG_LOCAL7 },
    };
    size_t i;

    *none = false;
    if (name == NULL || name[0] == '\0') {
        return LOG_DAEMON;
    }
    if (strcasecmp(name, "none") == 0) {
        *none = true;
        return LOG_DAEMON;
    }
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcasecmp(name, table[i].name) == 0) {
            return table[i].facility;
        }
    }
    return LOG_DAEMON;
}

static void close_sinks(void)
{
    if (g_log.fd >= 0) {
        close(g_log.fd);
        g_log.fd = -1;
    }
    if (g_log.syslog_open) {
        closelog();
        g_log.syslog_open = false;
    }
}

void ec2ha_log_init(const char *ident, ec2ha_log_level level, unsigned sinks,
                    const char *logfile)
{
    const char *facility_name = getenv("HA_LOGFACILITY");
    bool facility_none = false;
    int facility = parse_facility(facility_name, &facility_none);
    int open_errno = 0;
    const char *path = NULL;

    close_sinks();
    snprintf(g_log.ident, sizeof(g_log.ident), "%s",
             ident != NULL && ident[0] != '\0' ? ident : "ec2ha");
    if (gethostname(g_log.host, sizeof(g_log.host)) != 0) {
        snprintf(g_log.host, sizeof(g_log.host), "localhost");
    }
    g_log.host[sizeof(g_log.host) - 1] = '\0';
    g_log.level = clamp_level(level);
    g_log.sinks = sinks;
    g_log.initialised = true;

    if ((sinks & EC2HA_LOG_TO_SYSLOG) != 0) {
        if (facility_none) {
            g_log.sinks &= ~(unsigned)EC2HA_LOG_TO_SYSLOG;
        } else {
            openlog(g_log.ident, LOG_PID, facility);
            g_log.syslog_open = true;
        }
    }
    if ((sinks & EC2HA_LOG_TO_FILE) != 0) {
        path = logfile != NULL ? logfile : getenv("HA_LOGFILE");
        if (path != NULL && path[0] != '\0') {
            g_log.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
            if (g_log.fd < 0) {
                open_errno = errno;
            }
        }
        if (g_log.fd < 0) {
            g_log.sinks &= ~(unsigned)EC2HA_LOG_TO_FILE;
        }
    }
    if (open_errno != 0) {
        ec2ha_log(EC2HA_LOG_WARNING,
                  "cannot open log file %s: %s; logging to the other sinks only", path,
                  strerror(open_errno));
    }
    if (facility_name != NULL && facility_name[0] != '\0' && !facility_none &&
        (sinks & EC2HA_LOG_TO_SYSLOG) != 0 && facility == LOG_DAEMON &&
        strcasecmp(facility_name, "daemon") != 0) {
        ec2ha_log(EC2HA_LOG_WARNING, "HA_LOGFACILITY=%s is not a syslog facility; using daemon",
                  facility_name);
    }
}

void ec2ha_log_set_level(ec2ha_log_level level)
{
    g_log.level = clamp_level(level);
}

ec2ha_log_level ec2ha_log_get_level(void)
{
    return g_log.level;
}

bool ec2ha_log_enabled(ec2ha_log_level level)
{
    return level <= g_log.level;
}

void ec2ha_log_close(void)
{
    size_t i;

    close_sinks();
    for (i = 0; i < g_log.n_secrets; i++) {
        ec2ha_free_secret(g_log.secrets[i]);
    }
    free(g_log.secrets);
    g_log.secrets = NULL;
    g_log.n_secrets = 0;
    g_log.cap_secrets = 0;
    snprintf(g_log.ident, sizeof(g_log.ident), "ec2ha");
    g_log.level = EC2HA_LOG_NOTICE;
    g_log.sinks = EC2HA_LOG_TO_STDERR;
    g_log.initialised = false;
}

/* ---- secrets ----------------------------------------------------------------- */

static void store_secret(const char *s)
{
    size_t i;
    char *copy;

    for (i = 0; i < g_log.n_secrets; i++) {
        if (strcmp(g_log.secrets[i], s) == 0) {
            return;
        }
    }
    if (g_log.n_secrets == g_log.cap_secrets) {
        size_t cap = g_log.cap_secrets > 0 ? g_log.cap_secrets * 2 : 8;
        char **p = realloc(g_log.secrets, cap * sizeof(*p));

        if (p == NULL) {
            return;   /* the key patterns still mask the usual places */
        }
        g_log.secrets = p;
        g_log.cap_secrets = cap;
    }
    copy = strdup(s);
    if (copy != NULL) {
        g_log.secrets[g_log.n_secrets++] = copy;
    }
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void ec2ha_log_add_secret(const char *secret)
{
    static const char hex[] = "0123456789ABCDEF";
    ec2ha_buf enc;
    const unsigned char *p;
    bool differs = false;

    /*
     * Too short to mask as a bare substring without garbling every line (a one-letter
     * "secret" would star out that letter everywhere).  Real AWS secrets and tokens are
     * far longer; short values are still masked by the key-based patterns.
     */
    if (secret == NULL || strlen(secret) < EC2HA_LOG_MIN_SECRET_LEN) {
        return;
    }
    store_secret(secret);
    /* Also the percent-encoded form, as it appears in a query string or form body. */
    ec2ha_buf_init_secret(&enc, 64 * 1024);
    for (p = (const unsigned char *)secret; *p != '\0'; p++) {
        char e[3] = { '%', hex[*p >> 4], hex[*p & 0x0f] };

        if (is_unreserved(*p)) {
            if (ec2ha_buf_append(&enc, p, 1) != EC2HA_OK) {
                break;
            }
        } else {
            differs = true;
            if (ec2ha_buf_append(&enc, e, 3) != EC2HA_OK) {
                break;
            }
        }
    }
    if (differs && enc.data != NULL && *p == '\0') {
        store_secret(enc.data);
    }
    ec2ha_buf_free(&enc);
}

/* ---- redaction ----------------------------------------------------------------- */

/* Replace line[start, end) by the mask (shorter values by as many '*'). */
static size_t mask_range(char *line, size_t start, size_t end)
{
    size_t len = end - start;
    size_t m = len < MASK_LEN ? len : MASK_LEN;

    memset(line + start, '*', m);
    if (m < len) {
        memmove(line + start + m, line + end, strlen(line + end) + 1);
    }
    return start + m;
}

static void redact_registered(char *line)
{
    size_t i;

    for (i = 0; i < g_log.n_secrets; i++) {
        const char *s = g_log.secrets[i];
        size_t slen = strlen(s);
        char *hit = strstr(line, s);

        while (hit != NULL) {
            size_t next = mask_range(line, (size_t)(hit - line), (size_t)(hit - line) + slen);

            hit = strstr(line + next, s);
        }
    }
}

typedef struct secret_key {
    const char *key;
    bool to_end_of_line;    /* unquoted value runs to the end of the line */
} secret_key;

/* Longest first where one contains another, so the more specific key decides. */
static const secret_key secret_keys[] = {
    { "authorization", true },
    { "x-amz-security-token", false },
    { "x-aws-ec2-metadata-token", false },
    { "aws_secret_access_key", false },
    { "secret_access_key", false },
    { "secretaccesskey", false },
    { "aws_session_token", false },
    { "secret_key", false },
    { "secret-key", false },      /* --secret-key=... echoed back */
    { "signature", false },
    { "token", false },
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_value_end(char c)
{
    return c == '\0' || c == '\n' || c == '\r' || c == ' ' || c == '\t' || c == '&' ||
           c == ',' || c == ';' || c == '"' || c == '\'' || c == '<' || c == '>';
}

/*
 * If a key/value separator follows position j (after the key), mask the value
 * and return the position after the mask; else return 0.
 *   key: value | key=value | "key": "value" | key = 'value' | <key>value</key>
 */
static size_t redact_value_at(char *line, size_t j, bool to_eol)
{
    size_t vs;
    size_t ve;
    char quote = '\0';

    if (line[j] == '"' || line[j] == '\'') {
        j++;    /* closing quote of a JSON/quoted key */
    }
    if (line[j] == '>') {
        vs = j + 1;
        for (ve = vs; line[ve] != '\0' && line[ve] != '<' && line[ve] != '\n'; ve++) {
        }
        return ve > vs ? mask_range(line, vs, ve) : 0;
    }
    while (is_blank(line[j])) {
        j++;
    }
    if (line[j] != ':' && line[j] != '=') {
        return 0;
    }
    j++;
    while (is_blank(line[j])) {
        j++;
    }
    if (line[j] == '"' || line[j] == '\'') {
        quote = line[j++];
    }
    vs = j;
    for (ve = vs; line[ve] != '\0' && line[ve] != '\n'; ve++) {
        if (quote != '\0' ? line[ve] == quote : (!to_eol && is_value_end(line[ve]))) {
            break;
        }
        if (quote == '\0' && to_eol && line[ve] == '\r') {
            break;
        }
    }
    return ve > vs ? mask_range(line, vs, ve) : 0;
}

static void redact_keys(char *line)
{
    size_t i = 0;

    while (line[i] != '\0') {
        size_t k;
        size_t next = 0;

        for (k = 0; k < sizeof(secret_keys) / sizeof(secret_keys[0]); k++) {
            size_t klen = strlen(secret_keys[k].key);

            if (strncasecmp(line + i, secret_keys[k].key, klen) == 0) {
                next = redact_value_at(line, i + klen, secret_keys[k].to_end_of_line);
                if (next != 0) {
                    break;
                }
            }
        }
        i = next != 0 ? next : i + 1;
    }
}

void ec2ha_log_redact(char *line)
{
    if (line == NULL) {
        return;
    }
    redact_registered(line);
    redact_keys(line);
}

/* ---- output ---------------------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

static void file_timestamp(char *out, size_t size)
{
    struct timeval tv;
    struct tm tm;
    char base[32];
    char zone[8];

    gettimeofday(&tv, NULL);
    if (localtime_r(&tv.tv_sec, &tm) == NULL) {
        snprintf(out, size, "-");
        return;
    }
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    snprintf(out, size, "%.24s.%03u%.6s", base, (unsigned)(tv.tv_usec / 1000) % 1000u, zone);
}

static void emit_line(ec2ha_log_level level, const char *text, size_t len)
{
    const char *lv = level_name(level);
    size_t need = len + IDENT_MAX + HOST_MAX + 96;
    char *out = malloc(need);
    int n;

    if (out == NULL) {
        return;
    }
    if ((g_log.sinks & EC2HA_LOG_TO_STDERR) != 0) {
        n = snprintf(out, need, "%s: %s: %.*s\n", g_log.ident, lv, (int)len, text);
        if (n > 0) {
            write_all(STDERR_FILENO, out, (size_t)n < need ? (size_t)n : need - 1);
        }
    }
    if ((g_log.sinks & EC2HA_LOG_TO_SYSLOG) != 0 && g_log.syslog_open) {
        syslog(level_priority(level), "%s: %.*s", lv, (int)len, text);
    }
    if ((g_log.sinks & EC2HA_LOG_TO_FILE) != 0 && g_log.fd >= 0) {
        char ts[64];

        file_timestamp(ts, sizeof(ts));
        n = snprintf(out, need, "%s %s %s[%ld]: %s: %.*s\n", ts, g_log.host, g_log.ident,
                     (long)getpid(), lv, (int)len, text);
        if (n > 0) {
            write_all(g_log.fd, out, (size_t)n < need ? (size_t)n : need - 1);
        }
    }
    free(out);
}

void ec2ha_log(ec2ha_log_level level, const char *fmt, ...)
{
    char small[SMALL_MSG];
    char *msg = small;
    char *heap = NULL;
    char *p;
    size_t total = 0;
    va_list ap;
    int n;
    int saved_errno = errno;

    if (!ec2ha_log_enabled(level) || fmt == NULL) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        goto done;
    }
    if ((size_t)n >= sizeof(small)) {
        heap = malloc((size_t)n + 1);
        if (heap != NULL) {
            va_start(ap, fmt);
            vsnprintf(heap, (size_t)n + 1, fmt, ap);
            va_end(ap);
            msg = heap;
        } /* else: log the truncated message rather than nothing */
    }
    total = strlen(msg);

    /* Redact the whole message first: a secret can never reach a sink. */
    ec2ha_log_redact(msg);

    /* One log line per message line; other control characters become '?'. */
    for (p = msg; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') {
            *p = '?';
        }
    }
    p = msg;
    for (;;) {
        char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

        if (len > 0 || (eol == NULL && p == msg)) {
            emit_line(level, p, len);
        }
        if (eol == NULL) {
            break;
        }
        p = eol + 1;
        if (*p == '\0') {
            break;
        }
    }

done:
    /* The unredacted text may have held a secret the patterns did not know. */
    ec2ha_secure_zero(small, sizeof(small));
    if (heap != NULL) {
        ec2ha_secure_zero(heap, total);
        free(heap);
    }
    errno = saved_errno;
}
