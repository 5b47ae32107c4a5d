/*
 * creds.c - the credential chain and region / endpoint / CA bundle resolution
 * (see ec2ha/creds.h for the order).  The shared files are read the way the
 * AWS CLI reads them: the credentials file's [name] section and the config
 * file's [profile name] ([default]) section form one profile, the credentials
 * file winning key by key; static keys from the credentials file come first,
 * then credential_process, then static keys from the config file (botocore's
 * SharedCredentialProvider, ProcessProvider, ConfigProvider order).
 * Sources are recorded and logged; secrets never are.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "creds_private.h"
#include "ec2ha/buf.h"
#include "ec2ha/creds.h"
#include "ec2ha/imds.h"
#include "ec2ha/ini.h"
#include "ec2ha/log.h"

#define REGION_MAX_LEN 64

static const char *const source_strings[] = {
    [EC2HA_SOURCE_NONE] = "none",
    [EC2HA_SOURCE_OPTION] = "option",
    [EC2HA_SOURCE_ENV] = "environment",
    [EC2HA_SOURCE_CREDENTIALS_FILE] = "credentials file",
    [EC2HA_SOURCE_CONFIG_FILE] = "config file",
    [EC2HA_SOURCE_CREDENTIAL_PROCESS] = "credential_process",
    [EC2HA_SOURCE_IMDS] = "IMDS",
    [EC2HA_SOURCE_DEFAULT] = "default",
};

const char *ec2ha_source_str(ec2ha_source s)
{
    if ((int)s < 0 || (size_t)s >= sizeof(source_strings) / sizeof(source_strings[0]) ||
        source_strings[s] == NULL) {
        return "unknown";
    }
    return source_strings[s];
}

void ec2ha_aws_config_free(ec2ha_aws_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    free(cfg->access_key_id);
    ec2ha_free_secret(cfg->secret_access_key);
    ec2ha_free_secret(cfg->session_token);
    free(cfg->expiration);
    free(cfg->credentials_detail);
    free(cfg->profile);
    free(cfg->region);
    free(cfg->endpoint);
    free(cfg->ca_bundle);
    memset(cfg, 0, sizeof(*cfg));
}

/* NULL for unset or empty, as botocore treats an empty variable. */
static const char *env_get(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&p, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : p;
}

/* ---- region and endpoint ----------------------------------------------------- */

static bool region_valid(const char *r)
{
    size_t n = strlen(r);

    if (n == 0 || n > REGION_MAX_LEN || r[0] == '-' || r[n - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-')) {
            return false;
        }
    }
    return true;
}

ec2ha_rc ec2ha_default_ec2_endpoint(const char *region, char **out, ec2ha_error *err)
{
    const char *suffix = "amazonaws.com";
    char *url;

    if (region == NULL || !region_valid(region)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "region \"%.64s\" is not a valid AWS region name (lowercase "
                               "letters, digits and '-', such as us-east-1)",
                               region != NULL ? region : "");
    }
    if (strncmp(region, "cn-", 3) == 0) {
        suffix = "amazonaws.com.cn";
    } else if (strncmp(region, "us-isob-", 8) == 0) {
        suffix = "sc2s.sgov.gov";
    } else if (strncmp(region, "us-iso-", 7) == 0) {
        suffix = "c2s.ic.gov";
    }
    url = xasprintf("https://ec2.%s.%s", region, suffix);
    if (url == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    *out = url;
    return EC2HA_OK;
}

/* An endpoint URL as given, without trailing '/'; heap copy. */
static ec2ha_rc endpoint_check(const char *url, const char *where, char **out, ec2ha_error *err)
{
    size_t n = strlen(url);
    const char *host;

    if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "endpoint \"%.200s\" from %s must start with https:// (or "
                               "http:// for a local test endpoint)", url, where);
    }
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "endpoint from %s contains a space or control character",
                                   where);
        }
    }
    while (n > (size_t)(host - url) && url[n - 1] == '/') {
        n--;
    }
    if (n == (size_t)(host - url)) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "endpoint \"%.200s\" from %s has no host",
                               url, where);
    }
    *out = strndup(url, n);
    if (*out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    return EC2HA_OK;
}

/* ---- the shared files ---------------------------------------------------------- */

typedef struct profile_files {
    bool loaded;
    const char *name;           /* effective profile name */
    bool explicit_name;         /* from the option or AWS_PROFILE */
    char *cred_path;
    char *config_path;
    ec2ha_ini *cred;            /* NULL when the file is absent */
    ec2ha_ini *config;
    const char *config_section; /* the config section holding the profile, or NULL */
} profile_files;

static void profile_files_free(profile_files *pf)
{
    free(pf->cred_path);
    free(pf->config_path);
    ec2ha_ini_free(pf->cred);
    ec2ha_ini_free(pf->config);
    memset(pf, 0, sizeof(*pf));
}

static ec2ha_rc home_dir(char **out, ec2ha_error *err)
{
    const char *home = env_get("HOME");
    struct passwd pw;
    struct passwd *res = NULL;
    char buf[4096];

    if (home == NULL) {
        if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
            res->pw_dir == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "HOME is not set and the user has no home directory; set "
                                   "AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE");
        }
        home = res->pw_dir;
    }
    *out = strdup(home);
    return *out != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
}

/*
 * The path from env_name (botocore expands $VAR, ${VAR} and a leading ~), else
 * ~/.aws/<file>.
 */
static ec2ha_rc file_path(const char *env_name, const char *file, char **out, ec2ha_error *err)
{
    const char *v = env_get(env_name);
    ec2ha_buf b;
    char *home = NULL;
    ec2ha_rc rc;

    ec2ha_buf_init(&b, 8192);
    if (v == NULL) {
        rc = home_dir(&home, err);
        if (rc == EC2HA_OK) {
            rc = ec2ha_buf_printf(&b, "%s/.aws/%s", home, file);
        }
        goto finish;
    }
    rc = EC2HA_OK;
    if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
        rc = home_dir(&home, err);
        if (rc != EC2HA_OK) {
            goto finish;
        }
        rc = ec2ha_buf_append_str(&b, home);
        v++;
    }
    while (rc == EC2HA_OK && *v != '\0') {
        if (v[0] == '$' && (isalpha((unsigned char)v[1]) || v[1] == '_' || v[1] == '{')) {
            bool braced = v[1] == '{';
            const char *s = v + (braced ? 2 : 1);
            const char *e = s;
            char name[256];
            const char *val;

            while (isalnum((unsigned char)*e) || *e == '_') {
                e++;
            }
            if ((braced && *e != '}') || e == s || (size_t)(e - s) >= sizeof(name)) {
                rc = ec2ha_buf_append(&b, v, 1);   /* left as written, like os.path.expandvars */
                v++;
                continue;
            }
            memcpy(name, s, (size_t)(e - s));
            name[e - s] = '\0';
            val = getenv(name);
            if (val != NULL) {
                rc = ec2ha_buf_append_str(&b, val);
            } else {
                rc = ec2ha_buf_append(&b, v, (size_t)(e + (braced ? 1 : 0) - v));
            }
            v = e + (braced ? 1 : 0);
            continue;
        }
        rc = ec2ha_buf_append(&b, v, 1);
        v++;
    }
finish:
    free(home);
    if (rc == EC2HA_OK) {
        *out = ec2ha_buf_steal(&b);
        if (*out == NULL) {
            rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        }
    } else if (err != NULL && err->rc != rc) {
        ec2ha_error_set(err, rc, "the path in %s is too long", env_name);
    }
    ec2ha_buf_free(&b);
    return rc;
}

/* shlex.split(section) == ["profile", name] (POSIX rules, no comments). */
static bool config_section_is_profile(const char *section, const char *name)
{
    char words[2][512];
    size_t wlen[2] = {0, 0};
    int nwords = 0;
    bool in_word = false;
    const char *p = section;

    while (*p != '\0') {
        char c = *p;

        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            in_word = false;
            p++;
            continue;
        }
        if (!in_word) {
            if (nwords == 2) {
                return false;
            }
            nwords++;
            in_word = true;
        }
        char *w = words[nwords - 1];
        size_t *wl = &wlen[nwords - 1];

        if (c == '\'' || c == '"') {
            char q = c;

            p++;
            while (*p != '\0' && *p != q) {
                if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' ||
                                               p[1] == '`')) {
                    p++;
                }
                if (*wl + 1 >= sizeof(words[0])) {
                    return false;
                }
                w[(*wl)++] = *p++;
            }
            if (*p != q) {
                return false;   /* unbalanced quote: botocore skips the section */
            }
            p++;
            continue;
        }
        if (c == '\\') {
            p++;
            if (*p == '\0') {
                return false;
            }
            c = *p;
        }
        if (*wl + 1 >= sizeof(words[0])) {
            return false;
        }
        w[(*wl)++] = c;
        p++;
    }
    if (nwords != 2) {
        return false;
    }
    words[1][wlen[1]] = '\0';
    return strcmp(words[1], name) == 0;
}

static const char *find_config_section(const ec2ha_ini *config, const char *profile)
{
    const char *found = NULL;
    size_t n = ec2ha_ini_section_count(config);

    /* botocore builds a dict in file order: the last section naming the profile wins */
    for (size_t i = 0; i < n; i++) {
        const char *sec = ec2ha_ini_section_name(config, i);

        if (strncmp(sec, "profile", 7) == 0) {
            if (config_section_is_profile(sec, profile)) {
                found = sec;
            }
        } else if (strncmp(sec, "sso-session", 11) != 0 && strcmp(sec, "default") == 0 &&
                   strcmp(profile, "default") == 0) {
            found = sec;
        }
    }
    return found;
}

static ec2ha_rc load_one(const char *path, ec2ha_ini **out, ec2ha_error *err)
{
    ec2ha_rc rc = ec2ha_ini_load(path, out, err);

    if (rc == EC2HA_ERR_NOT_FOUND) {
        ec2ha_debug("%s", err != NULL ? err->message : path);
        ec2ha_error_clear(err);
        *out = NULL;
        return EC2HA_OK;
    }
    return rc;
}

static bool ini_holds_secret(const ec2ha_ini *ini)
{
    size_t i;
    size_t n = ec2ha_ini_section_count(ini);

    for (i = 0; i < n; i++) {
        if (nonempty(ec2ha_ini_get(ini, ec2ha_ini_section_name(ini, i),
                                   "aws_secret_access_key")) != NULL) {
            return true;
        }
    }
    return false;
}

/* Warn about a shared file other users can read, but only when it holds a secret key
 * (an empty or key-less file is no leak). */
static void warn_if_readable(const char *path, const ec2ha_ini *ini)
{
    struct stat st;

    if (ini == NULL || !ini_holds_secret(ini)) {
        return;
    }
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
        ec2ha_warn("%s holds AWS credentials and is accessible by group or others (mode %04o); "
                   "run chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
    }
}

/* Load both files once; an explicitly named profile must exist in one of them. */
static ec2ha_rc files_load(profile_files *pf, ec2ha_error *err)
{
    ec2ha_rc rc;

    if (pf->loaded) {
        return EC2HA_OK;
    }
    pf->loaded = true;
    rc = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", &pf->cred_path, err);
    if (rc == EC2HA_OK) {
        rc = file_path("AWS_CONFIG_FILE", "config", &pf->config_path, err);
    }
    if (rc == EC2HA_OK) {
        rc = load_one(pf->cred_path, &pf->cred, err);
    }
    if (rc == EC2HA_OK) {
        rc = load_one(pf->config_path, &pf->config, err);
    }
    if (rc != EC2HA_OK) {
        return rc;
    }
    if (pf->cred != NULL) {
        warn_if_readable(pf->cred_path, pf->cred);
    }
    if (pf->config != NULL) {
        pf->config_section = find_config_section(pf->config, pf->name);
    }
    if (pf->explicit_name && !ec2ha_ini_has_section(pf->cred, pf->name) &&
        pf->config_section == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "AWS profile \"%s\" was asked for but is in neither %s ([%s]) nor "
                               "%s ([profile %s])", pf->name, pf->cred_path, pf->name,
                               pf->config_path, pf->name);
    }
    return EC2HA_OK;
}

/* A key of the profile: the credentials file first, then the config file. */
static const char *profile_get(const profile_files *pf, const char *key, ec2ha_source *src)
{
    const char *v = nonempty(ec2ha_ini_get(pf->cred, pf->name, key));

    if (v != NULL) {
        *src = EC2HA_SOURCE_CREDENTIALS_FILE;
        return v;
    }
    if (pf->config_section != NULL) {
        v = nonempty(ec2ha_ini_get(pf->config, pf->config_section, key));
        if (v != NULL) {
            *src = EC2HA_SOURCE_CONFIG_FILE;
            return v;
        }
    }
    return NULL;
}

static const char *profile_file_path(const profile_files *pf, ec2ha_source src)
{
    return src == EC2HA_SOURCE_CREDENTIALS_FILE ? pf->cred_path : pf->config_path;
}

/* ---- credential providers --------------------------------------------------------- */

/* Take a key pair into cfg (copies). */
static ec2ha_rc set_keys(ec2ha_aws_config *cfg, const char *access, const char *secret,
                         const char *token, ec2ha_source src, char *detail, ec2ha_error *err)
{
    cfg->access_key_id = strdup(access);
    cfg->secret_access_key = strdup(secret);
    cfg->session_token = token != NULL ? strdup(token) : NULL;
    cfg->credentials_source = src;
    cfg->credentials_detail = detail;
    if (cfg->access_key_id == NULL || cfg->secret_access_key == NULL || detail == NULL ||
        (token != NULL && cfg->session_token == NULL)) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    ec2ha_log_add_secret(secret);
    if (token != NULL) {
        ec2ha_log_add_secret(token);
    }
    return EC2HA_OK;
}

/* Static keys from one file's section; *found false when the section has none. */
static ec2ha_rc keys_from_ini(const profile_files *pf, const ec2ha_ini *ini, const char *section,
                              const char *path, ec2ha_source src, ec2ha_aws_config *cfg,
                              bool *found, ec2ha_error *err)
{
    const char *access;
    const char *secret;
    const char *token;

    *found = false;
    if (ini == NULL || section == NULL) {
        return EC2HA_OK;
    }
    access = nonempty(ec2ha_ini_get(ini, section, "aws_access_key_id"));
    if (access == NULL) {
        return EC2HA_OK;
    }
    secret = nonempty(ec2ha_ini_get(ini, section, "aws_secret_access_key"));
    if (secret == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "%s [%s] has aws_access_key_id but no aws_secret_access_key; add "
                               "it or remove both", path, section);
    }
    token = nonempty(ec2ha_ini_get(ini, section, "aws_session_token"));
    if (token == NULL) {
        token = nonempty(ec2ha_ini_get(ini, section, "aws_security_token"));
    }
    *found = true;
    if (src == EC2HA_SOURCE_CONFIG_FILE) {
        warn_if_readable(path, ini);   /* the credentials file was checked when it was loaded */
    }
    return set_keys(cfg, access, secret, token, src,
                    xasprintf("profile %s in %s", pf->name, path), err);
}

static ec2ha_rc keys_from_process(const profile_files *pf, ec2ha_deadline deadline,
                                  ec2ha_aws_config *cfg, bool *found, ec2ha_error *err)
{
    ec2ha_source where = EC2HA_SOURCE_NONE;
    const char *cmd = profile_get(pf, "credential_process", &where);
    ec2ha_aws_config parsed;
    ec2ha_buf output;
    ec2ha_buf errors;
    ec2ha_rc rc;

    *found = false;
    if (cmd == NULL) {
        return EC2HA_OK;
    }
    memset(&parsed, 0, sizeof(parsed));
    ec2ha_buf_init_secret(&output, EC2HA_CREDS_PROCESS_MAX_OUTPUT);
    ec2ha_buf_init_secret(&errors, EC2HA_CREDS_PROCESS_MAX_STDERR);
    ec2ha_debug("running credential_process of profile %s (from %s): %s", pf->name,
                profile_file_path(pf, where), cmd);
    rc = ec2ha_creds_run_process(cmd, deadline, &output, &errors, err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_creds_parse_process_output(ec2ha_buf_str(&output), output.len, &parsed, err);
    }
    ec2ha_creds_log_process_stderr(&errors);   /* after parsing registered the secrets */
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "profile %s in %s", pf->name, profile_file_path(pf, where));
        goto done;
    }
    *found = true;
    cfg->access_key_id = parsed.access_key_id;
    cfg->secret_access_key = parsed.secret_access_key;
    cfg->session_token = parsed.session_token;
    cfg->expiration = parsed.expiration;
    memset(&parsed, 0, sizeof(parsed));
    cfg->credentials_source = EC2HA_SOURCE_CREDENTIAL_PROCESS;
    cfg->credentials_detail = xasprintf("credential_process of profile %s in %s", pf->name,
                                        profile_file_path(pf, where));
    if (cfg->credentials_detail == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
done:
    ec2ha_aws_config_free(&parsed);
    ec2ha_buf_free(&output);
    ec2ha_buf_free(&errors);
    return rc;
}

static ec2ha_rc keys_from_imds(const ec2ha_creds_options *opts, ec2ha_deadline deadline,
                               ec2ha_aws_config *cfg, bool *found, ec2ha_error *err)
{
    ec2ha_imds_role_credentials rc_creds;
    ec2ha_rc rc;

    *found = false;
    memset(&rc_creds, 0, sizeof(rc_creds));
    if (opts->imds == NULL || !ec2ha_imds_enabled(opts->imds)) {
        return EC2HA_OK;
    }
    rc = ec2ha_imds_get_role_credentials(opts->imds, deadline, &rc_creds, err);
    if (rc != EC2HA_OK) {
        goto done;
    }
    *found = true;
    cfg->access_key_id = rc_creds.access_key_id;
    cfg->secret_access_key = rc_creds.secret_access_key;
    cfg->session_token = rc_creds.token;
    cfg->expiration = rc_creds.expiration;
    rc_creds.access_key_id = NULL;
    rc_creds.secret_access_key = NULL;
    rc_creds.token = NULL;
    rc_creds.expiration = NULL;
    cfg->credentials_source = EC2HA_SOURCE_IMDS;
    cfg->credentials_detail = xasprintf("instance role %s via IMDS at %s", rc_creds.role_name,
                                        ec2ha_imds_endpoint(opts->imds));
    if (cfg->credentials_detail == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
done:
    ec2ha_imds_role_credentials_free(&rc_creds);
    return rc;
}

/* A profile that asks for a provider we do not implement must not fall through silently. */
static ec2ha_rc unsupported_profile(const profile_files *pf, ec2ha_error *err)
{
    static const char *const keys[] = {"role_arn", "sso_session", "sso_start_url",
                                       "web_identity_token_file", "source_profile"};
    ec2ha_source where = EC2HA_SOURCE_NONE;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (profile_get(pf, keys[i], &where) != NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "profile %s in %s uses %s, which ec2ha does not support; give "
                                   "it aws_access_key_id/aws_secret_access_key or a "
                                   "credential_process (e.g. \"aws configure export-credentials "
                                   "--profile %s --format process\")", pf->name,
                                   profile_file_path(pf, where), keys[i], pf->name);
        }
    }
    return EC2HA_OK;
}

static ec2ha_rc resolve_credentials(const ec2ha_creds_options *opts, profile_files *pf,
                                    ec2ha_deadline deadline, ec2ha_aws_config *cfg,
                                    ec2ha_error *err)
{
    const char *access;
    const char *secret;
    const char *token;
    bool found = false;
    ec2ha_rc rc;

    /* 1. options */
    access = nonempty(opts->access_key);
    secret = nonempty(opts->secret_key);
    if (access != NULL || secret != NULL) {
        if (access == NULL || secret == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "%s is set but %s is not; give both or neither",
                                   access != NULL ? "access_key" : "secret_key",
                                   access != NULL ? "secret_key" : "access_key");
        }
        return set_keys(cfg, access, secret, nonempty(opts->session_token), EC2HA_SOURCE_OPTION,
                        strdup("access_key/secret_key options"), err);
    }
    /* 2. environment */
    access = env_get("AWS_ACCESS_KEY_ID");
    secret = env_get("AWS_SECRET_ACCESS_KEY");
    if (access != NULL || secret != NULL) {
        if (access == NULL || secret == NULL) {
            return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                                   "%s is set in the environment but %s is not; set both or "
                                   "neither", access != NULL ? "AWS_ACCESS_KEY_ID" :
                                   "AWS_SECRET_ACCESS_KEY", access != NULL ?
                                   "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        }
        token = env_get("AWS_SESSION_TOKEN");
        if (token == NULL) {
            token = env_get("AWS_SECURITY_TOKEN");
        }
        return set_keys(cfg, access, secret, token, EC2HA_SOURCE_ENV,
                        strdup("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment"),
                        err);
    }
    /* 3. shared files: credentials file keys, credential_process, config file keys */
    rc = files_load(pf, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    rc = keys_from_ini(pf, pf->cred, pf->name, pf->cred_path, EC2HA_SOURCE_CREDENTIALS_FILE, cfg,
                       &found, err);
    if (rc != EC2HA_OK || found) {
        return rc;
    }
    rc = keys_from_process(pf, deadline, cfg, &found, err);
    if (rc != EC2HA_OK || found) {
        return rc;
    }
    rc = keys_from_ini(pf, pf->config, pf->config_section, pf->config_path,
                       EC2HA_SOURCE_CONFIG_FILE, cfg, &found, err);
    if (rc != EC2HA_OK || found) {
        return rc;
    }
    rc = unsupported_profile(pf, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    /* 4. IMDS */
    rc = keys_from_imds(opts, deadline, cfg, &found, err);
    if (rc != EC2HA_OK) {
        ec2ha_error_prefix(err, "no credentials in the options, the environment or profile %s "
                           "(%s, %s), and the instance role failed", pf->name, pf->cred_path,
                           pf->config_path);
        if (rc != EC2HA_ERR_TIMEOUT && rc != EC2HA_ERR_NOMEM) {
            rc = EC2HA_ERR_NO_CREDENTIALS;
            if (err != NULL) {
                err->rc = rc;
            }
        }
        return rc;
    }
    if (!found) {
        return ec2ha_error_set(err, EC2HA_ERR_NO_CREDENTIALS,
                               "no AWS credentials: none in the options (access_key/secret_key), "
                               "the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), "
                               "profile %s (%s, %s)%s", pf->name, pf->cred_path, pf->config_path,
                               opts->imds == NULL ? "" :
                               ", and IMDS is disabled (AWS_EC2_METADATA_DISABLED)");
    }
    return EC2HA_OK;
}

/* ---- region, endpoint, CA bundle ---------------------------------------------------- */

static ec2ha_rc resolve_region(const ec2ha_creds_options *opts, profile_files *pf,
                               ec2ha_deadline deadline, ec2ha_aws_config *cfg, ec2ha_error *err)
{
    const char *v;
    const char *what = NULL;
    ec2ha_source src = EC2HA_SOURCE_NONE;
    char *imds_region = NULL;
    ec2ha_rc rc;

    if ((v = nonempty(opts->region)) != NULL) {
        src = EC2HA_SOURCE_OPTION;
        what = "the region option";
    } else if ((v = env_get("AWS_REGION")) != NULL) {
        src = EC2HA_SOURCE_ENV;
        what = "AWS_REGION";
    } else if ((v = env_get("AWS_DEFAULT_REGION")) != NULL) {
        src = EC2HA_SOURCE_ENV;
        what = "AWS_DEFAULT_REGION";
    } else {
        rc = files_load(pf, err);
        if (rc != EC2HA_OK) {
            return rc;
        }
        v = profile_get(pf, "region", &src);
        if (v != NULL) {
            what = profile_file_path(pf, src);
        }
    }
    if (v == NULL && opts->imds != NULL && ec2ha_imds_enabled(opts->imds)) {
        rc = ec2ha_imds_get_region(opts->imds, deadline, &imds_region, err);
        if (rc != EC2HA_OK) {
            ec2ha_error_prefix(err, "no region in the region option, AWS_REGION, "
                               "AWS_DEFAULT_REGION or profile %s, and IMDS could not tell",
                               pf->name);
            return rc;
        }
        v = imds_region;
        src = EC2HA_SOURCE_IMDS;
        what = "IMDS";
    }
    if (v == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID,
                               "no AWS region: set the region option, AWS_REGION or region in "
                               "profile %s", pf->name);
    }
    if (!region_valid(v)) {
        rc = ec2ha_error_set(err, EC2HA_ERR_INVALID,
                             "region \"%.64s\" from %s is not a valid AWS region name (lowercase "
                             "letters, digits and '-', such as us-east-1)", v, what);
        free(imds_region);
        return rc;
    }
    cfg->region = imds_region != NULL ? imds_region : strdup(v);
    cfg->region_source = src;
    if (cfg->region == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
    }
    return EC2HA_OK;
}

static ec2ha_rc resolve_endpoint(const ec2ha_creds_options *opts, profile_files *pf,
                                 ec2ha_aws_config *cfg, ec2ha_error *err)
{
    const char *v;
    const char *what = NULL;
    char *services_section = NULL;
    ec2ha_source src = EC2HA_SOURCE_NONE;
    ec2ha_rc rc;

    if ((v = nonempty(opts->endpoint_url)) != NULL) {
        src = EC2HA_SOURCE_OPTION;
        what = "the endpoint_url option";
    } else if ((v = env_get("AWS_ENDPOINT_URL_EC2")) != NULL) {
        src = EC2HA_SOURCE_ENV;
        what = "AWS_ENDPOINT_URL_EC2";
    } else if ((v = env_get("AWS_ENDPOINT_URL")) != NULL) {
        src = EC2HA_SOURCE_ENV;
        what = "AWS_ENDPOINT_URL";
    } else {
        const char *services;

        rc = files_load(pf, err);
        if (rc != EC2HA_OK) {
            return rc;
        }
        /* the shared config's services section ("services = name", [services name] ec2 =) */
        services = profile_get(pf, "services", &src);
        if (services != NULL && pf->config != NULL) {
            services_section = xasprintf("services %s", services);
            if (services_section == NULL) {
                return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
            }
            v = nonempty(ec2ha_ini_get(pf->config, services_section, "ec2.endpoint_url"));
            src = EC2HA_SOURCE_CONFIG_FILE;
        }
        if (v == NULL) {
            v = profile_get(pf, "endpoint_url", &src);
        }
        if (v != NULL) {
            what = profile_file_path(pf, src);
        }
    }
    if (v != NULL) {
        rc = endpoint_check(v, what, &cfg->endpoint, err);
    } else {
        src = EC2HA_SOURCE_DEFAULT;
        rc = ec2ha_default_ec2_endpoint(cfg->region, &cfg->endpoint, err);
    }
    free(services_section);
    cfg->endpoint_source = src;
    return rc;
}

static ec2ha_rc resolve_ca_bundle(const ec2ha_creds_options *opts, profile_files *pf,
                                  ec2ha_aws_config *cfg, ec2ha_error *err)
{
    const char *v;
    ec2ha_source src = EC2HA_SOURCE_NONE;
    ec2ha_rc rc;

    if ((v = nonempty(opts->ca_bundle)) != NULL) {
        src = EC2HA_SOURCE_OPTION;
    } else if ((v = env_get("AWS_CA_BUNDLE")) != NULL) {
        src = EC2HA_SOURCE_ENV;
    } else {
        rc = files_load(pf, err);
        if (rc != EC2HA_OK) {
            return rc;
        }
        v = profile_get(pf, "ca_bundle", &src);
    }
    if (v == NULL) {
        return EC2HA_OK;
    }
    cfg->ca_bundle = strdup(v);
    cfg->ca_bundle_source = src;
    return cfg->ca_bundle != NULL ? EC2HA_OK : ec2ha_error_set(err, EC2HA_ERR_NOMEM,
                                                               "out of memory");
}

ec2ha_rc ec2ha_aws_config_resolve(const ec2ha_creds_options *opts, ec2ha_deadline deadline,
                                  ec2ha_aws_config *out, ec2ha_error *err)
{
    static const ec2ha_creds_options no_opts;
    ec2ha_aws_config cfg;
    profile_files pf;
    const char *name;
    ec2ha_rc rc;

    memset(&cfg, 0, sizeof(cfg));
    memset(&pf, 0, sizeof(pf));
    if (opts == NULL) {
        opts = &no_opts;
    }
    if ((name = nonempty(opts->profile)) != NULL || (name = env_get("AWS_PROFILE")) != NULL) {
        pf.explicit_name = true;
    } else {
        name = "default";
    }
    pf.name = name;
    cfg.profile = strdup(name);
    if (cfg.profile == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* an explicitly named profile must exist even when nothing else is read from it */
    if (pf.explicit_name) {
        rc = files_load(&pf, err);
        if (rc != EC2HA_OK) {
            goto done;
        }
    }
    if (opts->need_credentials) {
        rc = resolve_credentials(opts, &pf, deadline, &cfg, err);
        if (rc != EC2HA_OK) {
            goto done;
        }
    }
    rc = resolve_region(opts, &pf, deadline, &cfg, err);
    if (rc == EC2HA_OK) {
        rc = resolve_endpoint(opts, &pf, &cfg, err);
    }
    if (rc == EC2HA_OK) {
        rc = resolve_ca_bundle(opts, &pf, &cfg, err);
    }
    if (rc != EC2HA_OK) {
        goto done;
    }
    if (opts->need_credentials) {
        ec2ha_info("AWS credentials from %s: %s%s%s", ec2ha_source_str(cfg.credentials_source),
                   cfg.credentials_detail, cfg.expiration != NULL ? ", expiring " : "",
                   cfg.expiration != NULL ? cfg.expiration : "");
    }
    ec2ha_info("AWS region %s (from %s)", cfg.region, ec2ha_source_str(cfg.region_source));
    ec2ha_info("EC2 endpoint %s (from %s)", cfg.endpoint, ec2ha_source_str(cfg.endpoint_source));
    if (cfg.ca_bundle != NULL) {
        ec2ha_info("CA bundle %s (from %s)", cfg.ca_bundle,
                   ec2ha_source_str(cfg.ca_bundle_source));
    }
    *out = cfg;
    memset(&cfg, 0, sizeof(cfg));
    rc = EC2HA_OK;
done:
    ec2ha_aws_config_free(&cfg);
    profile_files_free(&pf);
    return rc;
}
