/*
 * cluster_pcmk.c - Pacemaker's libcrmcommon and libcib, dlopen()ed on first use.
 *
 * The only mutable global state of the cluster module is `api` (with
 * `api_loaded`) below: filled once by the first successful ec2ha_pcmk_load(),
 * read-only afterwards, never unloaded (see cluster_private.h).
 *
 * RTLD_NOW: a library that lacks a symbol fails here, with a message, rather
 * than in the middle of a CIB call.  RTLD_LOCAL: Pacemaker's symbols (and
 * glib's, qb's, ...) stay out of the global scope; libcib finds libcrmcommon's
 * through its own DT_NEEDED list, so nothing needs to be global.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cluster_private.h"

static ec2ha_pcmk_api api;
static bool api_loaded;

/* "cannot load libcib.so.27 (Pacemaker's CIB library, Debian package libcib27): <why>".
 * Debian names a library package after its soname: stem + version, with a '-'
 * between them when the stem ends in a digit. */
static void load_error(ec2ha_error *err, const char *soname, const char *what,
                       const char *why)
{
    const char *so = strstr(soname, ".so.");
    size_t stem = so != NULL ? (size_t)(so - soname) : strlen(soname);
    const char *version = so != NULL ? so + strlen(".so.") : "";
    const char *dash = stem > 0 && soname[stem - 1] >= '0' && soname[stem - 1] <= '9'
                           ? "-" : "";

    ec2ha_error_set(err, EC2HA_ERR_CIB,
                    "cannot load %s (Pacemaker's %s, Debian package %.*s%s%s): %s; the cluster "
                    "information base cannot be used without it", soname, what, (int)stem,
                    soname, dash, version, why != NULL ? why : "unknown dlopen error");
}

static void *open_lib(const char *soname, const char *what, ec2ha_error *err)
{
    void *lib;

    (void)dlerror();
    lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        load_error(err, soname, what, dlerror());
    }
    return lib;
}

static void *resolve(void *lib, const char *soname, const char *name, ec2ha_error *err)
{
    void *sym;
    const char *why;

    (void)dlerror();
    sym = dlsym(lib, name);
    if (sym == NULL) {
        why = dlerror();
        ec2ha_error_set(err, EC2HA_ERR_CIB,
                        "%s has no function %s (%s); it is not the Pacemaker version ec2ha "
                        "was built for (feature set " CRM_FEATURE_SET ")", soname, name,
                        why != NULL ? why : "NULL symbol");
    }
    return sym;
}

/* One field of the table from one library; false (err set) when missing.
 * dlsym() returns a data pointer; POSIX guarantees it converts to the function. */
#define RESOLVE(tbl, lib, soname, field)                                                     \
    (((tbl).field = (__typeof__((tbl).field))resolve((lib), (soname), #field, err)) != NULL)

const ec2ha_pcmk_api *ec2ha_pcmk_load(ec2ha_error *err)
{
    ec2ha_pcmk_api tmp;
    const ec2ha_pcmk_api *result = NULL;
    void *common = NULL;
    void *cib = NULL;

    if (api_loaded) {
        return &api;
    }
    memset(&tmp, 0, sizeof(tmp));
    /* libcrmcommon first, so a missing or broken one is reported under its own
     * name rather than as a failure of libcib (which needs it). */
    common = open_lib(EC2HA_LIBCRMCOMMON_SONAME, "common library", err);
    if (common == NULL) {
        goto cleanup;
    }
    cib = open_lib(EC2HA_LIBCIB_SONAME, "CIB library", err);
    if (cib == NULL) {
        goto cleanup;
    }
    if (!RESOLVE(tmp, common, EC2HA_LIBCRMCOMMON_SONAME, crm_xml_init)
        || !RESOLVE(tmp, common, EC2HA_LIBCRMCOMMON_SONAME, free_xml)
        || !RESOLVE(tmp, common, EC2HA_LIBCRMCOMMON_SONAME, pcmk_strerror)
        || !RESOLVE(tmp, common, EC2HA_LIBCRMCOMMON_SONAME, crm_str_to_boolean)
        || !RESOLVE(tmp, cib, EC2HA_LIBCIB_SONAME, cib_new)
        || !RESOLVE(tmp, cib, EC2HA_LIBCIB_SONAME, cib_delete)) {
        goto cleanup;
    }
    api = tmp;
    api_loaded = true;
    result = &api;
cleanup:
    /* Nothing is dlclose()d, not even after a failure: a library's constructors
     * (glib's, qb's) may already have run, and unloading them is not safe. */
    return result;
}
