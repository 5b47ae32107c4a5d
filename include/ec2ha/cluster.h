/*
 * ec2ha/cluster.h - the cluster's own view, through Pacemaker's libcib.
 *
 * Connects with cib_new() (which honours CIB_file= for tests and the
 * CIB_shadow/CIB_port environment), signs on as a command client and runs
 * XPath queries with cib_sync_call.  Everything returned is a heap copy owned
 * by the caller.
 *
 * Node state accepts both Pacemaker 2.1.5's words (in_ccm="true",
 * crmd="online", join="member") and the later timestamp forms
 * (in_ccm="<epoch>", crmd="<epoch>"; "0" = not).  The rule follows
 * determine_online_status_fencing() in Pacemaker's lib/pengine/unpack.c,
 * read from /cib/status/node_state (member = in_ccm true or a positive
 * number; controller up = crmd "online" or a positive number; expected
 * defaults to "down"), first match wins:
 *   no node_state                                   -> UNKNOWN
 *   no in_ccm, or join="banned"                     -> UNCLEAN
 *   expected="down":  member or controller up       -> PENDING (coming up / shutting down)
 *                     neither                       -> OFFLINE (clean)
 *   expected="member" and not member                -> UNCLEAN (lost without clean shutdown)
 *   expected="member" and controller not up         -> UNCLEAN
 *   join="member"                                   -> ONLINE
 *   join="pending" or "down"                        -> PENDING
 *   anything else                                   -> UNCLEAN (unknown state)
 * Transient attributes (shutdown, terminate) are not considered.
 *
 * Requires Pacemaker 2.1.x (libcib, libcrmcommon); connect() calls
 * crm_xml_init() so the CIB schemas are loaded for the file variant.
 * The programs are not linked with those libraries: the first connect()
 * dlopen()s them by the sonames found at build time and keeps them loaded
 * (one process-wide table, lib/cluster_private.h); nothing else here loads
 * them.  When they cannot be loaded, connect() fails with EC2HA_ERR_CIB and a
 * message naming the library, its Debian package and dlerror().  Like libcib,
 * this module is for one thread.
 */
#ifndef EC2HA_CLUSTER_H
#define EC2HA_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/error.h"

#define EC2HA_ATTR_INSTANCE_ID "ec2-instance-id"

typedef struct ec2ha_cluster ec2ha_cluster;

typedef enum ec2ha_node_state {
    EC2HA_NODE_UNKNOWN = 0,       /* no node_state entry */
    EC2HA_NODE_ONLINE,            /* member, controller up, joined */
    EC2HA_NODE_OFFLINE,           /* cleanly down */
    EC2HA_NODE_UNCLEAN,           /* lost / pending fencing */
    EC2HA_NODE_PENDING            /* member, not yet joined */
} ec2ha_node_state;

const char *ec2ha_node_state_str(ec2ha_node_state s);

typedef struct ec2ha_cluster_node {
    char *name;                   /* uname */
    char *id;
    ec2ha_node_state state;
    char *instance_id;            /* permanent attribute ec2-instance-id, NULL if unset */
} ec2ha_cluster_node;

/* EC2HA_ERR_CIB with the libcib message when the CIB cannot be reached. */
ec2ha_rc ec2ha_cluster_connect(ec2ha_cluster **out, ec2ha_error *err);
void ec2ha_cluster_free(ec2ha_cluster *c);   /* signs off; accepts NULL */

/* crm_config property: cib-bootstrap-options first, then the other
 * cluster_property_sets in document order (as Pacemaker; rules and set scores
 * are not evaluated).  EC2HA_ERR_NOT_FOUND when unset. */
ec2ha_rc ec2ha_cluster_get_property(ec2ha_cluster *c, const char *name, char **value_out,
                                    ec2ha_error *err);
/* stonith-enabled, true when absent (Pacemaker's default).  Parsed like
 * Pacemaker (crm_str_to_boolean); a value that is not a boolean makes
 * Pacemaker fall back to the default, so it reads as true (with a warning). */
ec2ha_rc ec2ha_cluster_stonith_enabled(ec2ha_cluster *c, bool *enabled_out, ec2ha_error *err);

/* Permanent node attribute (/cib/configuration/nodes/node[@uname]/
 * instance_attributes/nvpair, first set that has it).  NOT_FOUND when the
 * node or the attribute is missing.
 * set: one cib modify of the node's instance_attributes (sync call).  An
 * existing nvpair keeps its ids (updated in place); a new one goes into the
 * node's first instance_attributes set, else a new set "nodes-<id>", with id
 * "nodes-<id>-<name>" (crm_attribute's convention).  Writing the value that
 * is already there is a no-op.  NOT_FOUND when the node is not in <nodes>.
 * With CIB_file the change reaches the file at ec2ha_cluster_free(). */
ec2ha_rc ec2ha_cluster_get_node_attribute(ec2ha_cluster *c, const char *node, const char *name,
                                          char **value_out, ec2ha_error *err);
ec2ha_rc ec2ha_cluster_set_node_attribute(ec2ha_cluster *c, const char *node, const char *name,
                                          const char *value, ec2ha_error *err);

/* All nodes in <nodes>, with state and ec2-instance-id. */
ec2ha_rc ec2ha_cluster_list_nodes(ec2ha_cluster *c, ec2ha_cluster_node **out, size_t *n_out,
                                  ec2ha_error *err);
void ec2ha_cluster_nodes_free(ec2ha_cluster_node *nodes, size_t n);

/* Node whose ec2-instance-id equals instance_id; NOT_FOUND / AMBIGUOUS otherwise. */
ec2ha_rc ec2ha_cluster_node_by_instance(ec2ha_cluster *c, const char *instance_id,
                                        char **node_out, ec2ha_error *err);

/* Number of configured stonith primitives (top level, in groups or clones;
 * stopped ones included) whose type is `agent` ("fence_ec2"), or any when NULL. */
ec2ha_rc ec2ha_cluster_count_fence_devices(ec2ha_cluster *c, const char *agent, int *count_out,
                                           ec2ha_error *err);

/* Number of those stonith primitives that carry a fence-race delay (a non-zero
 * pcmk_delay_base or pcmk_delay_max in their instance attributes). */
ec2ha_rc ec2ha_cluster_count_delayed_fence_devices(ec2ha_cluster *c, const char *agent,
                                                   int *count_out, ec2ha_error *err);

/* This node's name: OCF_RESKEY_CRM_meta_on_node, else uname(2) nodename. */
ec2ha_rc ec2ha_cluster_local_node_name(char **out, ec2ha_error *err);

#endif
