/*
 * cluster_private.h - Pacemaker's libraries, loaded when the CIB is first used.
 *
 * fence_ec2, eip and ec2ha are not linked with libcib/libcrmcommon: those two
 * bring 14 more shared objects (glib, gnutls, qb, xslt, ...) that the hot
 * paths (eip monitor, fence status/monitor/off by instance id) never use.
 * ec2ha_pcmk_load() dlopen()s them by soname on the first
 * ec2ha_cluster_connect() and resolves the few functions cluster.c calls into
 * one table.  Everything else cluster.c does with the CIB's XML is plain
 * libxml2, which the programs link anyway.
 *
 * The sonames are the ones the build found (the Makefile reads them from the
 * development symlinks with readelf and passes them as -D...); the defaults are
 * Pacemaker 2.1.x's.
 */
#ifndef EC2HA_CLUSTER_PRIVATE_H
#define EC2HA_CLUSTER_PRIVATE_H

#include <crm/cib.h>
#include <crm/common/results.h>
#include <crm/common/util.h>
#include <crm/common/xml.h>

#include "ec2ha/error.h"

#ifndef EC2HA_LIBCIB_SONAME
#define EC2HA_LIBCIB_SONAME "libcib.so.27"
#endif
#ifndef EC2HA_LIBCRMCOMMON_SONAME
#define EC2HA_LIBCRMCOMMON_SONAME "libcrmcommon.so.34"
#endif

/* The Pacemaker functions cluster.c calls; each field has the exact type of
 * the function declared in Pacemaker's headers. */
typedef struct ec2ha_pcmk_api {
    __typeof__(crm_xml_init) *crm_xml_init;
    __typeof__(free_xml) *free_xml;
    __typeof__(pcmk_strerror) *pcmk_strerror;
    __typeof__(crm_str_to_boolean) *crm_str_to_boolean;
    __typeof__(cib_new) *cib_new;
    __typeof__(cib_delete) *cib_delete;
} ec2ha_pcmk_api;

/*
 * The loaded table, or NULL with EC2HA_ERR_CIB and a message that names the
 * library, its Debian package and dlerror().  The first success fills the one
 * process-wide table; the libraries stay loaded until exit (libcrmcommon
 * registers libxml2 node callbacks, so unloading it would leave libxml2
 * pointing into unmapped code).  A failure is not remembered: the next call
 * tries again.  Not thread-safe on first use (neither is libcib).
 */
const ec2ha_pcmk_api *ec2ha_pcmk_load(ec2ha_error *err);

#endif
