/*
 * creds_process.c - credential_process: run the command, bounded in time and
 * output, and read its JSON (Version 1) as the AWS CLI does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "creds_private.h"
#include "ec2ha/creds.h"
#include "ec2ha/json.h"
#include "ec2ha/log.h"

#define REAP_POLL_MS 20

/* ---- timestamps ------------------------------------------------------------ */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool ec2ha_parse_iso8601(const char *s, time_t *out)
{
    struct tm tm;
    int year;
    int mon;
    int day;
    int hour;
    int min;
    int sec;
    int off_h = 0;
    int off_m = 0;
    long offset = 0;
    time_t t;

    if (s == NULL || strlen(s) < 20) {
        return false;
    }
    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) || s[7] != '-' ||
        !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) ||
        s[16] != ':' || !digits(s + 17, 2, &sec)) {
        return false;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return false;
    }
    s += 19;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') {
            return false;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
    }
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        offset = 0;
    } else if (s[0] == '+' || s[0] == '-') {
        if (!digits(s + 1, 2, &off_h)) {
            return false;
        }
        if (s[3] == ':' && digits(s + 4, 2, &off_m) && s[6] == '\0') {
            /* +HH:MM */
        } else if (digits(s + 3, 2, &off_m) && s[5] == '\0') {
            /* +HHMM */
        } else {
            return false;
        }
        if (off_h > 23 || off_m > 59) {
            return false;
        }
        offset = (off_h * 3600L + off_m * 60L) * (s[0] == '-' ? -1 : 1);
    } else {
        return false;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return false;
    }
    *out = t - offset;
    return true;
}

/* ---- the JSON ------------------------------------------------------------- */

ec2ha_rc ec2ha_creds_parse_process_output(const char *json, size_t len, ec2ha_aws_config *out,
                                          ec2ha_error *err)
{
    char *access = NULL;
    char *secret = NULL;
    char *token = NULL;
    char *expiration = NULL;
    long version = 0;
    time_t exp_t;
    ec2ha_rc rc;

    rc = ec2ha_json_validate_object(json, len, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "credential_process output");
        goto done;
    }
    rc = ec2ha_json_get_long(json, len, "Version", &version, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "credential_process output");
        rc = err != NULL ? err->rc : rc;
        goto done;
    }
    if (version != 1) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                             "credential_process output has Version %ld; only Version 1 is "
                             "supported", version);
        goto done;
    }
    rc = ec2ha_json_get_string(json, len, "AccessKeyId", &access, err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_json_get_string(json, len, "SecretAccessKey", &secret, err);
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "credential_process output");
        goto done;
    }
    if (access[0] == '\0' || secret[0] == '\0') {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                             "credential_process output has an empty AccessKeyId or "
                             "SecretAccessKey");
        goto done;
    }
    ec2ha_log_add_secret(secret);
    rc = ec2ha_json_get_string(json, len, "SessionToken", &token, err);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        rc = EC2HA_OK;
    } else if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "credential_process output");
        goto done;
    } else if (token[0] == '\0') {
        ec2ha_free_secret(token);
        token = NULL;
    } else {
        ec2ha_log_add_secret(token);
    }
    rc = ec2ha_json_get_string(json, len, "Expiration", &expiration, err);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        rc = EC2HA_OK;
    } else if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "credential_process output");
        goto done;
    } else {
        if (!ec2ha_parse_iso8601(expiration, &exp_t)) {
            rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                 "credential_process output: Expiration \"%.64s\" is not an "
                                 "ISO 8601 time such as 2024-05-01T12:00:00Z", expiration);
            goto done;
        }
        if (exp_t <= time(NULL)) {
            rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                 "credential_process returned credentials that expired at %s; "
                                 "fix the process so it returns fresh ones", expiration);
            goto done;
        }
    }
    out->access_key_id = access;
    out->secret_access_key = secret;
    out->session_token = token;
    out->expiration = expiration;
    access = NULL;
    secret = NULL;
    token = NULL;
    expiration = NULL;
    rc = EC2HA_OK;
done:
    free(access);
    ec2ha_free_secret(secret);
    ec2ha_free_secret(token);
    free(expiration);
    return rc;
}

/* ---- running the command ---------------------------------------------------- */

void ec2ha_creds_log_process_stderr(const ec2ha_buf *err_out)
{
    const char *p = ec2ha_buf_str(err_out);

    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol != NULL ? (size_t)(eol - p) : strlen(p);

        while (n > 0 && p[n - 1] == '\r') {
            n--;
        }
        if (n > 0) {
            ec2ha_debug("credential_process stderr: %.*s", (int)n, p);
        }
        p += eol != NULL ? (size_t)(eol - p) + 1 : strlen(p);
    }
}

static void kill_and_reap(pid_t pid)
{
    int status;

    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

ec2ha_rc ec2ha_creds_run_process(const char *cmd, ec2ha_deadline deadline, ec2ha_buf *out,
                                 ec2ha_buf *err_out, ec2ha_error *err)
{
    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    int devnull = -1;
    pid_t pid = -1;
    bool reaped = false;
    int status = 0;
    char chunk[4096];
    bool err_full = false;
    int64_t start_ms = ec2ha_monotonic_ms();
    char *const argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
    ec2ha_rc rc = EC2HA_ERR_IO;

    if (ec2ha_deadline_passed(deadline)) {
        return ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                               "no time left to run credential_process");
    }
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot set up credential_process: %s",
                             strerror(errno));
        goto done;
    }
    pid = fork();
    if (pid < 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot start credential_process: %s",
                             strerror(errno));
        goto done;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls from here on */
        sigset_t none;

        setpgid(0, 0);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (dup2(devnull, STDIN_FILENO) < 0 || dup2(out_pipe[1], STDOUT_FILENO) < 0 ||
            dup2(err_pipe[1], STDERR_FILENO) < 0) {
            _exit(126);
        }
        close_range(STDERR_FILENO + 1, ~0U, 0);   /* fds others forgot to mark CLOEXEC */
        execv("/bin/sh", argv);
        _exit(127);
    }
    setpgid(pid, pid);   /* also from here: no race with the kill below */
    close(out_pipe[1]);
    out_pipe[1] = -1;
    close(err_pipe[1]);
    err_pipe[1] = -1;

    /* read both pipes until EOF, bounded by the deadline */
    while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
        struct pollfd pfd[2];
        int64_t left = ec2ha_deadline_remaining_ms(deadline);
        int r;

        if (left <= 0) {
            rc = ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                                 "credential_process did not finish within %lld ms; killed it",
                                 (long long)(ec2ha_monotonic_ms() - start_ms));
            goto done;
        }
        pfd[0].fd = out_pipe[0];
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        pfd[1].fd = err_pipe[0];
        pfd[1].events = POLLIN;
        pfd[1].revents = 0;
        r = poll(pfd, 2, left > 1000 ? 1000 : (int)left);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = ec2ha_error_set(err, EC2HA_ERR_IO, "waiting for credential_process: %s",
                                 strerror(errno));
            goto done;
        }
        for (int i = 0; i < 2; i++) {
            int *fd = i == 0 ? &out_pipe[0] : &err_pipe[0];
            ssize_t n;

            if (*fd < 0 || pfd[i].revents == 0) {
                continue;
            }
            n = read(*fd, chunk, sizeof(chunk));
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            if (n <= 0) {
                close(*fd);
                *fd = -1;
                continue;
            }
            if (i == 1) {
                /* kept (capped) for the caller to log once the secrets are registered */
                size_t room = err_out->cap - err_out->len;

                if (!err_full && ec2ha_buf_append(err_out, chunk, (size_t)n < room ? (size_t)n :
                                                  room) != EC2HA_OK) {
                    err_full = true;
                }
                err_full = err_full || err_out->len == err_out->cap;
                continue;
            }
            rc = ec2ha_buf_append(out, chunk, (size_t)n);
            if (rc != EC2HA_OK) {
                rc = ec2ha_error_set(err, rc,
                                     "credential_process wrote more than %zu bytes to stdout; "
                                     "killed it", out->cap);
                goto done;
            }
        }
    }
    /* both pipes closed: wait for the exit, still bounded by the deadline */
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid) {
            reaped = true;
            break;
        }
        if (w < 0 && errno != EINTR) {
            rc = ec2ha_error_set(err, EC2HA_ERR_IO, "waiting for credential_process: %s",
                                 strerror(errno));
            reaped = true;   /* nothing left to reap */
            goto done;
        }
        if (!ec2ha_deadline_sleep_ms(deadline, REAP_POLL_MS)) {
            rc = ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                                 "credential_process did not exit within %lld ms; killed it",
                                 (long long)(ec2ha_monotonic_ms() - start_ms));
            goto done;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO,
                             "credential_process exited with status %d (its stderr is in the "
                             "debug log)", WEXITSTATUS(status));
        goto done;
    }
    if (WIFSIGNALED(status)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "credential_process was killed by signal %d",
                             WTERMSIG(status));
        goto done;
    }
    ec2ha_debug("credential_process finished in %lld ms with %zu bytes of output",
                (long long)(ec2ha_monotonic_ms() - start_ms), out->len);
    rc = EC2HA_OK;
done:
    if (pid > 0 && !reaped) {
        kill_and_reap(pid);
    }
    if (rc != EC2HA_OK) {
        ec2ha_buf_free(out);
    }
    ec2ha_secure_zero(chunk, sizeof(chunk));
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0) {
            close(out_pipe[i]);
        }
        if (err_pipe[i] >= 0) {
            close(err_pipe[i]);
        }
    }
    if (devnull >= 0) {
        close(devnull);
    }
    return rc;
}
