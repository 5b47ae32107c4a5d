/*
 * fence/actions.c - on, off, reboot, status, list, list-status, monitor.
 *
 * The safety contract (DESIGN.md section 3) lives here:
 *  1. off succeeds only once DescribeInstances shows every target stopped or
 *     terminated; a timeout, an error or an unclear state is a failure.
 *  2. StopInstances is sent with Force=true and SkipOsShutdown=true (unless
 *     skip_os_shutdown=false); when EC2 rejects SkipOsShutdown the stop is
 *     repeated without it.  A target already stopping is stopped again.
 *  3. the race guard (race.c) runs before any stop.
 *  5. reboot is off then on, each confirmed; never RebootInstances.
 *  6. monitor makes one small authenticated call.
 * Polling ends at min(the run's deadline, power_timeout after the call).
 */
#include <stdlib.h>
#include <string.h>

#include "ec2ha/log.h"
#include "fence.h"

/* A target still running this long after our stop gets the forced stop again. */
#define FENCE_REISSUE_MS 10000

typedef struct fence_target {
    const char *plug;
    char *id;
    ec2ha_instance_state state;
    bool known;                   /* state read at least once */
    bool done;                    /* reached the wanted state */
    int calls;                    /* StopInstances / StartInstances sent */
    bool call_failed;             /* the last StartInstances was refused: retry soon */
    int64_t last_call_ms;
    ec2ha_error last_err;         /* last failure to read or change it */
    bool from_cib;                /* id is the node's ec2-instance-id attribute */
    bool record_checked;          /* ... and fence_target_check_record found it sound */
} fence_target;

typedef enum fence_power {
    FENCE_POWER_ON,               /* running, pending */
    FENCE_POWER_OFF,              /* stopped, terminated */
    FENCE_POWER_TRANSITION,       /* stopping, shutting-down */
    FENCE_POWER_UNKNOWN
} fence_power;

static fence_power power_of(ec2ha_instance_state s)
{
    switch (s) {
    case EC2HA_STATE_RUNNING:
    case EC2HA_STATE_PENDING:
        return FENCE_POWER_ON;
    case EC2HA_STATE_STOPPED:
    case EC2HA_STATE_TERMINATED:
        return FENCE_POWER_OFF;
    case EC2HA_STATE_STOPPING:
    case EC2HA_STATE_SHUTTING_DOWN:
        return FENCE_POWER_TRANSITION;
    case EC2HA_STATE_UNKNOWN:
    default:
        return FENCE_POWER_UNKNOWN;
    }
}

static bool is_off(ec2ha_instance_state s)
{
    return s == EC2HA_STATE_STOPPED || s == EC2HA_STATE_TERMINATED;
}

const char *fence_error_detail(const ec2ha_error *err, char *buf, size_t len)
{
    size_t n;

    if (len == 0)
        return "";
    snprintf(buf, len, "%s", err->message[0] ? err->message : ec2ha_rc_str(err->rc));
    n = strlen(buf);
    if (err->code[0] != '\0' && strstr(buf, err->code) == NULL && n < len)
        n += (size_t)snprintf(buf + n, len - n, " [%s]", err->code);
    if (err->request_id[0] != '\0' && strstr(buf, err->request_id) == NULL && n < len)
        snprintf(buf + n, len - n, " (request id %s)", err->request_id);
    return buf;
}

#define DETAIL_LEN (EC2HA_ERROR_MESSAGE_MAX + 2 * EC2HA_ERROR_FIELD_MAX + 64)

static ec2ha_deadline earliest(ec2ha_deadline a, ec2ha_deadline b)
{
    return a.at_ms < b.at_ms ? a : b;
}

static ec2ha_deadline power_deadline(const fence_ctx *ctx)
{
    return earliest(ctx->deadline, ec2ha_deadline_in_ms(ctx->s->power_timeout_ms));
}

/* DescribeInstances for one id.  Unknown ids are EC2HA_ERR_NOT_FOUND with a clear message. */
static ec2ha_rc read_state(fence_ctx *ctx, fence_target *t, ec2ha_deadline d, ec2ha_error *err)
{
    ec2ha_instance inst = { 0 };
    ec2ha_rc rc = ec2ha_ec2_describe_instance(ctx->ec2, t->id, d, &inst, err);

    /* A CIB record is checked before its first answer is believed (stale records). */
    if (t->from_cib && !t->record_checked && (rc == EC2HA_OK || rc == EC2HA_ERR_NOT_FOUND)) {
        ec2ha_rc crc = fence_target_check_record(ctx, t->plug, t->id,
                                                 rc == EC2HA_OK ? &inst : NULL, err);
        if (crc != EC2HA_OK) {
            ec2ha_instance_free(&inst);
            return crc;
        }
        t->record_checked = true;
    }
    if (rc == EC2HA_ERR_NOT_FOUND) {
        ec2ha_error_set(err, rc, "instance %s (plug '%s'%s) does not exist at %s (region %s)%s",
                        t->id, t->plug, t->from_cib ? ", from the CIB's ec2-instance-id" : "",
                        ctx->aws.endpoint, ctx->aws.region,
                        t->from_cib ? "; if the node was rebuilt, run 'ec2ha register' on it"
                                    : "");
        return rc;
    }
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "DescribeInstances %s", t->id);
        return rc;
    }
    if (inst.state == EC2HA_STATE_UNKNOWN) {
        rc = ec2ha_error_set(err, EC2HA_ERR_STATE,
                             "instance %s reports an unknown state '%s' (code %ld)", t->id,
                             inst.state_name ? inst.state_name : "", inst.state_code);
        ec2ha_instance_free(&inst);
        return rc;
    }
    if (!t->known || t->state != inst.state)
        ec2ha_info("instance %s (plug '%s') is %s", t->id, t->plug,
                   ec2ha_instance_state_str(inst.state));
    t->state = inst.state;
    t->known = true;
    ec2ha_instance_free(&inst);
    return EC2HA_OK;
}

static ec2ha_rc resolve_targets(fence_ctx *ctx, fence_target **out, size_t *n_out,
                                ec2ha_error *err)
{
    const fence_settings *s = ctx->s;
    fence_target *t = calloc(s->n_plugs ? s->n_plugs : 1, sizeof *t);

    *out = NULL;
    *n_out = 0;
    if (t == NULL)
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n_plugs; i++) {
        t[i].plug = s->plugs[i];
        t[i].state = EC2HA_STATE_UNKNOWN;
        ec2ha_error_clear(&t[i].last_err);
        ec2ha_rc rc = fence_target_resolve(ctx, s->plugs[i], &t[i].id, &t[i].from_cib, err);
        if (rc != EC2HA_OK) {
            for (size_t j = 0; j < i; j++)
                free(t[j].id);
            free(t);
            return rc;
        }
    }
    *out = t;
    *n_out = s->n_plugs;
    return EC2HA_OK;
}

static void free_targets(fence_target *t, size_t n)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(t[i].id);
    free(t);
}

static ec2ha_rc read_all(fence_ctx *ctx, fence_target *t, size_t n, ec2ha_error *err)
{
    for (size_t i = 0; i < n; i++) {
        ec2ha_rc rc = read_state(ctx, &t[i], ctx->deadline, err);
        if (rc != EC2HA_OK)
            return rc;
    }
    return EC2HA_OK;
}

/* ---- stop / start calls ------------------------------------------------------ */

/* EC2 (or an older endpoint) does not know SkipOsShutdown. */
static bool skip_os_shutdown_rejected(const ec2ha_error *e)
{
    if (e->rc != EC2HA_ERR_AWS)
        return false;
    if (strcmp(e->code, "InvalidParameter") != 0 && strcmp(e->code, "UnknownParameter") != 0 &&
        strcmp(e->code, "InvalidParameterCombination") != 0 &&
        strcmp(e->code, "InvalidParameterValue") != 0)
        return false;
    return strcasestr(e->message, "SkipOsShutdown") != NULL;
}

static bool instance_not_found(const ec2ha_error *e)
{
    return e->rc == EC2HA_ERR_NOT_FOUND || strncmp(e->code, "InvalidInstanceID", 17) == 0;
}

/* One StopInstances Force=true [SkipOsShutdown=true]; repeated without SkipOsShutdown
 * when EC2 rejects that parameter.  On success *ch holds EC2's own state change. */
static ec2ha_rc send_stop(fence_ctx *ctx, fence_target *t, ec2ha_deadline d,
                          ec2ha_state_change *ch, ec2ha_error *err)
{
    char detail[DETAIL_LEN];

    for (;;) {
        ec2ha_stop_params p = { 0 };
        ec2ha_rc rc;

        ec2ha_error_clear(err);
        p.instance_id = t->id;
        p.force = true;
        p.skip_os_shutdown = ctx->s->skip_os_shutdown && !ctx->skip_os_shutdown_rejected;
        p.dry_run = false;
        rc = ec2ha_ec2_stop_instances(ctx->ec2, &p, d, ch, err);
        if (rc == EC2HA_OK) {
            t->calls++;
            t->last_call_ms = ec2ha_monotonic_ms();
            ec2ha_notice("StopInstances %s (plug '%s', Force=true%s): %s -> %s", t->id, t->plug,
                         p.skip_os_shutdown ? ", SkipOsShutdown=true" : "",
                         ec2ha_instance_state_str(ch->previous),
                         ec2ha_instance_state_str(ch->current));
            return EC2HA_OK;
        }
        if (p.skip_os_shutdown && skip_os_shutdown_rejected(err)) {
            ec2ha_warn("EC2 rejected SkipOsShutdown (%s): stopping %s with Force=true only",
                       fence_error_detail(err, detail, sizeof detail), t->id);
            ctx->skip_os_shutdown_rejected = true;
            continue;
        }
        if (instance_not_found(err)) {
            char why[DETAIL_LEN];
            fence_error_detail(err, why, sizeof why);
            return ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                                   "StopInstances: instance %s (plug '%s') does not exist (%s)",
                                   t->id, t->plug, why);
        }
        return rc;
    }
}

static bool incorrect_state(ec2ha_rc rc, const ec2ha_error *e)
{
    return rc == EC2HA_ERR_AWS && strcmp(e->code, "IncorrectInstanceState") == 0;
}

/*
 * Stop a target that is running, pending or stopping, until EC2 accepts the
 * stop, the instance turns out not to need it, or the deadline passes.
 * *state_out: EC2's own view after the call (StopInstances' currentState),
 * EC2HA_STATE_UNKNOWN when the stop was not accepted but needs no retry.
 */
static ec2ha_rc stop_call(fence_ctx *ctx, fence_target *t, ec2ha_deadline d,
                          ec2ha_instance_state *state_out, ec2ha_error *err)
{
    *state_out = EC2HA_STATE_UNKNOWN;
    for (;;) {
        ec2ha_state_change ch = { 0 };
        ec2ha_error e;
        ec2ha_rc rc = send_stop(ctx, t, d, &ch, &e);

        if (rc == EC2HA_OK) {
            *state_out = ch.current;
            ec2ha_state_change_free(&ch);
            return EC2HA_OK;
        }
        if (incorrect_state(rc, &e)) {
            /* pending cannot be stopped yet; shutting-down/terminated need no stop. */
            ec2ha_error re;
            ec2ha_error_clear(&re);
            if (read_state(ctx, t, d, &re) == EC2HA_OK) {
                if (t->state == EC2HA_STATE_TERMINATED ||
                    t->state == EC2HA_STATE_SHUTTING_DOWN) {
                    ec2ha_info("StopInstances %s: %s; it is %s, waiting for terminated", t->id,
                               e.message, ec2ha_instance_state_str(t->state));
                    t->last_call_ms = ec2ha_monotonic_ms();
                    return EC2HA_OK;
                }
                ec2ha_info("StopInstances %s: %s while DescribeInstances says %s; trying again",
                           t->id, e.message, ec2ha_instance_state_str(t->state));
            }
            if (ec2ha_deadline_remaining_ms(d) <= ctx->s->status_sleep_ms ||
                !ec2ha_deadline_sleep_ms(d, ctx->s->status_sleep_ms)) {
                *err = e;
                ec2ha_error_prefix(err, "StopInstances %s kept failing until the deadline", t->id);
                return EC2HA_ERR_TIMEOUT;
            }
            continue;
        }
        *err = e;
        ec2ha_error_prefix(err, "StopInstances %s (plug '%s')", t->id, t->plug);
        return rc;
    }
}

/*
 * DescribeInstances may answer from a stale view (eventual consistency), and a
 * stale view can be an OLD "stopped" (an instance started again seconds ago).
 * StopInstances answers from EC2's state machine itself and is harmless on a
 * stopped instance, so a "stopped" is believed once a forced StopInstances
 * agrees.  *agrees is false when EC2 contradicts it (the stop just went out,
 * or the instance is pending); an error leaves the DescribeInstances answer
 * standing (the contract's condition is met; nothing contradicts it).
 */
static void confirm_stopped(fence_ctx *ctx, fence_target *t, ec2ha_deadline d, bool *agrees)
{
    ec2ha_state_change ch = { 0 };
    ec2ha_error e;
    char detail[DETAIL_LEN];
    ec2ha_rc rc = send_stop(ctx, t, d, &ch, &e);

    *agrees = true;
    if (rc == EC2HA_OK) {
        if (ch.current != EC2HA_STATE_STOPPED) {
            *agrees = false;
            ec2ha_error_set(&t->last_err, EC2HA_ERR_STATE,
                            "DescribeInstances says stopped (stale), StopInstances says %s",
                            ec2ha_instance_state_str(ch.current));
            ec2ha_warn("DescribeInstances says %s is stopped but StopInstances says %s -> %s: "
                       "a stale answer (eventual consistency); still waiting", t->id,
                       ec2ha_instance_state_str(ch.previous),
                       ec2ha_instance_state_str(ch.current));
        }
        ec2ha_state_change_free(&ch);
        return;
    }
    if (incorrect_state(rc, &e)) {
        *agrees = false;
        t->last_call_ms = ec2ha_monotonic_ms();
        ec2ha_error_set(&t->last_err, EC2HA_ERR_STATE,
                        "DescribeInstances says stopped (stale), StopInstances answers %s",
                        e.message);
        ec2ha_warn("DescribeInstances says %s is stopped but StopInstances answers %s: a stale "
                   "answer (eventual consistency); still waiting", t->id,
                   fence_error_detail(&e, detail, sizeof detail));
        return;
    }
    ec2ha_warn("could not cross-check the stopped state of %s with StopInstances (%s): "
               "relying on DescribeInstances", t->id,
               fence_error_detail(&e, detail, sizeof detail));
}

/* StartInstances once.  IncorrectInstanceState (still stopping) is not an attempt. */
static ec2ha_rc start_call(fence_ctx *ctx, fence_target *t, ec2ha_deadline d, ec2ha_error *err)
{
    ec2ha_state_change ch = { 0 };
    ec2ha_rc rc = ec2ha_ec2_start_instances(ctx->ec2, t->id, false, d, &ch, err);

    if (rc == EC2HA_OK) {
        t->calls++;
        t->last_call_ms = ec2ha_monotonic_ms();
        ec2ha_notice("StartInstances %s (plug '%s'): %s -> %s", t->id, t->plug,
                     ec2ha_instance_state_str(ch.previous), ec2ha_instance_state_str(ch.current));
        ec2ha_state_change_free(&ch);
        return EC2HA_OK;
    }
    if (rc == EC2HA_ERR_AWS && strcmp(err->code, "IncorrectInstanceState") == 0)
        return EC2HA_ERR_STATE;
    t->calls++;
    t->last_call_ms = ec2ha_monotonic_ms();
    ec2ha_error_prefix(err, "StartInstances %s (plug '%s')", t->id, t->plug);
    return rc;
}

/* ---- waiting ------------------------------------------------------------------ */

/* Sleep between polls; false when the deadline leaves no time for another look. */
static bool poll_sleep(const fence_ctx *ctx, ec2ha_deadline d)
{
    int64_t left = ec2ha_deadline_remaining_ms(d);
    if (left <= 0)
        return false;
    int64_t ms = ctx->s->status_sleep_ms;
    if (ms > left)
        ms = left;
    ec2ha_deadline_sleep_ms(d, ms);
    return !ec2ha_deadline_passed(d);
}

static const char *pending_summary(const fence_target *t, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        if (t[i].done)
            continue;
        char detail[DETAIL_LEN];
        used += (size_t)snprintf(buf + used, len - used, "%s%s is %s%s%s", used ? "; " : "",
                                 t[i].id,
                                 t[i].known ? ec2ha_instance_state_str(t[i].state) : "unknown",
                                 t[i].last_err.rc != EC2HA_OK ? ", last error: " : "",
                                 t[i].last_err.rc != EC2HA_OK
                                     ? fence_error_detail(&t[i].last_err, detail, sizeof detail)
                                     : "");
    }
    return buf;
}

/* Poll until every target is stopped/terminated.  Never returns OK otherwise. */
static ec2ha_rc wait_off(fence_ctx *ctx, fence_target *t, size_t n, ec2ha_error *err)
{
    ec2ha_deadline d = power_deadline(ctx);
    int64_t started = ec2ha_monotonic_ms();
    char summary[2048];

    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            if (t[i].done)
                continue;
            ec2ha_error e;
            ec2ha_error_clear(&e);
            if (read_state(ctx, &t[i], d, &e) != EC2HA_OK) {
                char detail[DETAIL_LEN];
                t[i].last_err = e;
                ec2ha_warn("waiting for %s to stop: %s", t[i].id,
                           fence_error_detail(&e, detail, sizeof detail));
                all = false;
                continue;
            }
            ec2ha_error_clear(&t[i].last_err);
            if (is_off(t[i].state)) {
                bool agrees = true;
                if (t[i].state == EC2HA_STATE_STOPPED)
                    confirm_stopped(ctx, &t[i], d, &agrees);
                if (agrees) {
                    t[i].done = true;
                    ec2ha_notice("instance %s (plug '%s') is %s", t[i].id, t[i].plug,
                                 ec2ha_instance_state_str(t[i].state));
                    continue;
                }
            }
            all = false;
            if ((t[i].state == EC2HA_STATE_RUNNING || t[i].state == EC2HA_STATE_PENDING) &&
                ec2ha_monotonic_ms() - t[i].last_call_ms >= FENCE_REISSUE_MS) {
                ec2ha_warn("instance %s is still %s %lld s after the stop: stopping it again",
                           t[i].id, ec2ha_instance_state_str(t[i].state),
                           (long long)((ec2ha_monotonic_ms() - t[i].last_call_ms) / 1000));
                ec2ha_instance_state now;
                if (stop_call(ctx, &t[i], d, &now, &e) != EC2HA_OK) {
                    char detail[DETAIL_LEN];
                    t[i].last_err = e;
                    ec2ha_warn("%s", fence_error_detail(&e, detail, sizeof detail));
                }
            }
        }
        if (all)
            return EC2HA_OK;
        if (!poll_sleep(ctx, d))
            break;
    }
    return ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                           "Timed out waiting to power OFF: %s after %.1f s (power_timeout %.1f s)",
                           pending_summary(t, n, summary, sizeof summary),
                           (double)(ec2ha_monotonic_ms() - started) / 1000.0,
                           (double)ctx->s->power_timeout_ms / 1000.0);
}

/* Start (up to `attempts` StartInstances each) and poll until every target is running. */
static ec2ha_rc wait_on(fence_ctx *ctx, fence_target *t, size_t n, long attempts,
                        ec2ha_error *err)
{
    ec2ha_deadline d = power_deadline(ctx);
    int64_t started = ec2ha_monotonic_ms();
    char summary[2048];
    char detail[DETAIL_LEN];

    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            if (t[i].done)
                continue;
            ec2ha_error e;
            ec2ha_error_clear(&e);
            switch (t[i].state) {
            case EC2HA_STATE_RUNNING:
                t[i].done = true;
                ec2ha_notice("instance %s (plug '%s') is running", t[i].id, t[i].plug);
                continue;
            case EC2HA_STATE_TERMINATED:
            case EC2HA_STATE_SHUTTING_DOWN:
                return ec2ha_error_set(err, EC2HA_ERR_STATE,
                                       "instance %s (plug '%s') is %s: it cannot be powered on",
                                       t[i].id, t[i].plug, ec2ha_instance_state_str(t[i].state));
            case EC2HA_STATE_STOPPED: {
                /* After an accepted start, a stale "stopped" is eventual consistency:
                 * give it FENCE_REISSUE_MS.  After a refused one, try again now. */
                bool may_call = t[i].calls == 0 || t[i].call_failed ||
                                ec2ha_monotonic_ms() - t[i].last_call_ms >= FENCE_REISSUE_MS;
                if (!may_call)
                    break;
                if (t[i].calls >= attempts)
                    return ec2ha_error_set(err, EC2HA_ERR_STATE,
                                           "instance %s (plug '%s') is still stopped after "
                                           "%d StartInstances (retry_on=%ld)%s%s",
                                           t[i].id, t[i].plug, t[i].calls, ctx->s->retry_on,
                                           t[i].call_failed ? ": " : "",
                                           t[i].call_failed
                                               ? fence_error_detail(&t[i].last_err, detail,
                                                                    sizeof detail)
                                               : "");
                ec2ha_rc rc = start_call(ctx, &t[i], d, &e);
                t[i].call_failed = rc != EC2HA_OK && rc != EC2HA_ERR_STATE;
                if (t[i].call_failed) {
                    t[i].last_err = e;
                    ec2ha_warn("%s", fence_error_detail(&e, detail, sizeof detail));
                }
                break;
            }
            case EC2HA_STATE_PENDING:
            case EC2HA_STATE_STOPPING:
            case EC2HA_STATE_UNKNOWN:
            default:
                break;
            }
            all = false;
        }
        if (all)
            return EC2HA_OK;
        if (!poll_sleep(ctx, d))
            break;
        for (size_t i = 0; i < n; i++) {
            if (t[i].done)
                continue;
            ec2ha_error e;
            ec2ha_error_clear(&e);
            if (read_state(ctx, &t[i], d, &e) != EC2HA_OK) {
                t[i].last_err = e;
                t[i].state = EC2HA_STATE_UNKNOWN;
                ec2ha_warn("waiting for %s to start: %s", t[i].id,
                           fence_error_detail(&e, detail, sizeof detail));
            }
        }
    }
    return ec2ha_error_set(err, EC2HA_ERR_TIMEOUT,
                           "Timed out waiting to power ON: %s after %.1f s (power_timeout %.1f s)",
                           pending_summary(t, n, summary, sizeof summary),
                           (double)(ec2ha_monotonic_ms() - started) / 1000.0,
                           (double)ctx->s->power_timeout_ms / 1000.0);
}

/* ---- off / on / reboot ---------------------------------------------------------- */

/*
 * States must have been read.  *was_off: every target was already off.
 * terminated is final and trusted as read; a "stopped" is cross-checked by
 * a forced StopInstances (after the race guard, since a stale view may hide
 * a running instance, which that call then stops).
 */
static ec2ha_rc power_off(fence_ctx *ctx, fence_target *t, size_t n, bool *was_off,
                          ec2ha_error *err)
{
    ec2ha_rc rc;
    bool all_off = true;

    *was_off = false;
    for (size_t i = 0; i < n; i++) {
        t[i].done = t[i].state == EC2HA_STATE_TERMINATED;
        if (!t[i].done)
            all_off = false;
    }
    if (all_off) {
        *was_off = true;
        return EC2HA_OK;
    }

    for (size_t i = 0; i < n; i++) {
        if (t[i].done)
            continue;
        if ((rc = fence_race_guard(ctx, t[i].id, err)) != EC2HA_OK)
            return rc;
    }

    all_off = true;
    for (size_t i = 0; i < n; i++) {
        ec2ha_instance_state now = EC2HA_STATE_UNKNOWN;
        if (t[i].done)
            continue;
        switch (t[i].state) {
        case EC2HA_STATE_SHUTTING_DOWN:
            ec2ha_notice("instance %s (plug '%s') is shutting-down: waiting for terminated",
                         t[i].id, t[i].plug);
            t[i].last_call_ms = ec2ha_monotonic_ms();
            all_off = false;
            break;
        case EC2HA_STATE_STOPPING:
            ec2ha_notice("instance %s (plug '%s') is already stopping: forcing the stop",
                         t[i].id, t[i].plug);
            /* fall through */
        case EC2HA_STATE_STOPPED:
        case EC2HA_STATE_RUNNING:
        case EC2HA_STATE_PENDING:
            if ((rc = stop_call(ctx, &t[i], ctx->deadline, &now, err)) != EC2HA_OK)
                return rc;
            if (t[i].state == EC2HA_STATE_STOPPED && now == EC2HA_STATE_STOPPED) {
                t[i].done = true;     /* EC2 itself says it was and is stopped */
                ec2ha_notice("instance %s (plug '%s') is stopped", t[i].id, t[i].plug);
            } else {
                if (t[i].state == EC2HA_STATE_STOPPED)
                    ec2ha_warn("DescribeInstances said %s is stopped but StopInstances found it "
                               "%s: a stale answer (eventual consistency)", t[i].id,
                               ec2ha_instance_state_str(now));
                all_off = false;
            }
            break;
        default:
            return ec2ha_error_set(err, EC2HA_ERR_STATE, "instance %s is in state %s",
                                   t[i].id, ec2ha_instance_state_str(t[i].state));
        }
    }
    if (all_off) {
        *was_off = true;
        return EC2HA_OK;
    }
    if (ctx->s->power_wait_ms > 0)
        ec2ha_deadline_sleep_ms(ctx->deadline, ctx->s->power_wait_ms);
    return wait_off(ctx, t, n, err);
}

static ec2ha_rc power_on(fence_ctx *ctx, fence_target *t, size_t n, long attempts,
                         bool *was_on, ec2ha_error *err)
{
    bool all_on = true;

    for (size_t i = 0; i < n; i++) {
        t[i].done = false;
        t[i].calls = 0;
        t[i].call_failed = false;
        t[i].last_call_ms = 0;
        ec2ha_error_clear(&t[i].last_err);
        if (t[i].state != EC2HA_STATE_RUNNING)
            all_on = false;
    }
    *was_on = all_on;
    if (all_on)
        return EC2HA_OK;
    ec2ha_rc rc = wait_on(ctx, t, n, attempts, err);
    if (rc == EC2HA_OK && ctx->s->power_wait_ms > 0)
        ec2ha_deadline_sleep_ms(ctx->deadline, ctx->s->power_wait_ms);
    return rc;
}

static ec2ha_rc do_off(fence_ctx *ctx, ec2ha_error *err)
{
    fence_target *t = NULL;
    size_t n = 0;
    bool was_off = false;
    ec2ha_rc rc = resolve_targets(ctx, &t, &n, err);

    if (rc == EC2HA_OK)
        rc = read_all(ctx, t, n, err);
    if (rc == EC2HA_OK)
        rc = power_off(ctx, t, n, &was_off, err);
    if (rc == EC2HA_OK)
        fprintf(ctx->out, was_off ? "Success: Already OFF\n" : "Success: Powered OFF\n");
    free_targets(t, n);
    return rc;
}

static ec2ha_rc do_on(fence_ctx *ctx, ec2ha_error *err)
{
    fence_target *t = NULL;
    size_t n = 0;
    bool was_on = false;
    ec2ha_rc rc = resolve_targets(ctx, &t, &n, err);

    if (rc == EC2HA_OK)
        rc = read_all(ctx, t, n, err);
    if (rc == EC2HA_OK)
        rc = power_on(ctx, t, n, 1 + ctx->s->retry_on, &was_on, err);
    if (rc == EC2HA_OK)
        fprintf(ctx->out, was_on ? "Success: Already ON\n" : "Success: Powered ON\n");
    free_targets(t, n);
    return rc;
}

static ec2ha_rc do_reboot(fence_ctx *ctx, ec2ha_error *err)
{
    fence_target *t = NULL;
    size_t n = 0;
    bool was = false;
    ec2ha_rc rc = resolve_targets(ctx, &t, &n, err);

    if (rc == EC2HA_OK)
        rc = read_all(ctx, t, n, err);
    if (rc == EC2HA_OK)
        rc = power_off(ctx, t, n, &was, err);
    if (rc == EC2HA_OK) {
        /* Off is confirmed: the node is fenced.  As fence-agents, a failed power-on is
         * logged as an error but the reboot (the fencing) still succeeded. */
        ec2ha_error e;
        char detail[DETAIL_LEN];
        long attempts = ctx->s->retry_on > 0 ? ctx->s->retry_on : 1;
        ec2ha_error_clear(&e);
        if (power_on(ctx, t, n, attempts, &was, &e) != EC2HA_OK)
            ec2ha_err("Timed out waiting to power ON: %s",
                      fence_error_detail(&e, detail, sizeof detail));
        fprintf(ctx->out, "Success: Rebooted\n");
    }
    free_targets(t, n);
    return rc;
}

/* ---- status / list / monitor ------------------------------------------------------ */

static ec2ha_rc do_status(fence_ctx *ctx, bool *off_out, ec2ha_error *err)
{
    fence_target *t = NULL;
    size_t n = 0;
    bool any_on = false;
    ec2ha_rc rc = resolve_targets(ctx, &t, &n, err);

    if (rc == EC2HA_OK)
        rc = read_all(ctx, t, n, err);
    for (size_t i = 0; rc == EC2HA_OK && i < n; i++) {
        switch (power_of(t[i].state)) {
        case FENCE_POWER_ON:
            any_on = true;
            break;
        case FENCE_POWER_OFF:
            break;
        case FENCE_POWER_TRANSITION:
        case FENCE_POWER_UNKNOWN:
        default:
            rc = ec2ha_error_set(err, EC2HA_ERR_STATE,
                                 "Unable to obtain correct plug status: instance %s (plug '%s') "
                                 "is %s, neither ON nor OFF", t[i].id, t[i].plug,
                                 ec2ha_instance_state_str(t[i].state));
            break;
        }
    }
    if (rc == EC2HA_OK) {
        fprintf(ctx->out, "Status: %s\n", any_on ? "ON" : "OFF");
        *off_out = !any_on;
    }
    free_targets(t, n);
    return rc;
}

static const char *list_status_word(ec2ha_instance_state s)
{
    switch (power_of(s)) {
    case FENCE_POWER_ON:
        return "on";
    case FENCE_POWER_OFF:
        return "off";
    default:
        return "UNKNOWN";
    }
}

static ec2ha_rc do_list(fence_ctx *ctx, bool with_status, ec2ha_error *err)
{
    const fence_settings *s = ctx->s;
    ec2ha_instance_list list = { 0 };
    ec2ha_describe_instances_query q = { 0 };

    q.filters = s->filter.filters;
    q.n_filters = s->filter.n;
    /* max_results 0: the core asks for EC2's maximum page (1000) and follows nextToken */
    ec2ha_rc rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, &list, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "DescribeInstances (list)");
        return rc;
    }
    for (size_t i = 0; i < list.count; i++) {
        const ec2ha_instance *inst = &list.items[i];
        const char *alias = ec2ha_instance_tag(inst, s->tag_key);
        if (with_status)
            fprintf(ctx->out, "%s%s%s%s%s\n", inst->instance_id, s->separator,
                    alias ? alias : "", s->separator, list_status_word(inst->state));
        else
            fprintf(ctx->out, "%s%s%s\n", inst->instance_id, s->separator, alias ? alias : "");
    }
    ec2ha_info("%s: %zu instances", with_status ? "list-status" : "list", list.count);
    ec2ha_instance_list_free(&list);
    return EC2HA_OK;
}

/*
 * One small authenticated call.  On EC2 (IMDS answers): DescribeInstances of
 * this node's own instance, which also proves region and account are right
 * and that the race guard would let this node fence.  When this node's own
 * instance cannot be determined, the race guard refuses every off, so the
 * device is not healthy: monitor fails, unless skip_race_check=true (fencing
 * from outside EC2), where a DescribeInstances DryRun proves the rest.
 */
static ec2ha_rc do_monitor(fence_ctx *ctx, ec2ha_error *err)
{
    const char *own = NULL;
    ec2ha_error e;
    ec2ha_rc rc;

    ec2ha_error_clear(&e);
    if (fence_own_instance(ctx, &own, &e) == EC2HA_OK) {
        ec2ha_instance me = { 0 };
        rc = ec2ha_ec2_describe_instance(ctx->ec2, own, ctx->deadline, &me, err);
        if (rc == EC2HA_ERR_NOT_FOUND)
            return ec2ha_error_set(err, rc,
                                   "this node's own instance %s is unknown to EC2 at %s "
                                   "(region %s): wrong region or account?", own,
                                   ctx->aws.endpoint, ctx->aws.region);
        if (rc != EC2HA_OK) {
            ec2ha_error_prefix(err, "monitor: DescribeInstances %s", own);
            return rc;
        }
        ec2ha_instance_state st = me.state;
        ec2ha_instance_free(&me);
        if (st != EC2HA_STATE_RUNNING && !ctx->s->skip_race_check)
            return ec2ha_error_set(err, EC2HA_ERR_STATE,
                                   "this node's own instance %s is %s: the race guard will not "
                                   "let it fence others", own, ec2ha_instance_state_str(st));
        ec2ha_info("monitor: EC2 at %s answers; own instance %s is %s", ctx->aws.endpoint, own,
                   ec2ha_instance_state_str(st));
        return EC2HA_OK;
    }
    if (!ctx->s->skip_race_check)
        return ec2ha_error_set(err, EC2HA_ERR_REFUSED,
                               "race guard: cannot determine this node's own instance (%s), so "
                               "every off and reboot from this node would be refused. Fix "
                               "instance metadata access (IMDSv2, hop limit), or set "
                               "skip_race_check=true only when this fence device runs outside "
                               "EC2", e.message);
    ec2ha_debug("monitor: skip_race_check=true and no instance metadata (%s): "
                "DescribeInstances DryRun", e.message);
    ec2ha_describe_instances_query q = { 0 };
    ec2ha_instance_list list = { 0 };
    q.dry_run = true;
    rc = ec2ha_ec2_describe_instances(ctx->ec2, &q, ctx->deadline, &list, err);
    ec2ha_instance_list_free(&list);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "monitor: DescribeInstances (DryRun)");
        return rc;
    }
    ec2ha_info("monitor: EC2 at %s answers and allows DescribeInstances", ctx->aws.endpoint);
    return EC2HA_OK;
}

ec2ha_rc fence_run_action(fence_ctx *ctx, bool *status_off_out, ec2ha_error *err)
{
    *status_off_out = false;
    switch (ctx->s->action) {
    case FENCE_ACTION_OFF:
        return do_off(ctx, err);
    case FENCE_ACTION_ON:
        return do_on(ctx, err);
    case FENCE_ACTION_REBOOT:
        return do_reboot(ctx, err);
    case FENCE_ACTION_STATUS:
        return do_status(ctx, status_off_out, err);
    case FENCE_ACTION_LIST:
        return do_list(ctx, false, err);
    case FENCE_ACTION_LIST_STATUS:
        return do_list(ctx, true, err);
    case FENCE_ACTION_MONITOR:
        return do_monitor(ctx, err);
    default:
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "action %s needs no EC2 call",
                               fence_action_name(ctx->s->action));
    }
}
