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
 * (in_ccm="<epoch>", crmd="<epoch>").
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

/* crm_config property (cib-bootstrap-options or any cluster_property_set).
 * EC2HA_ERR_NOT_FOUND when unset. */
ec2ha_rc ec2ha_cluster_get_property(ec2ha_cluster *c, const char *name, char **value_out,
                                    ec2ha_error *err);
/* stonith-enabled, true when absent (Pacemaker's default). */
ec2ha_rc ec2ha_cluster_stonith_enabled(ec2ha_cluster *c, bool *enabled_out, ec2ha_error *err);

/* Permanent node attribute (nodes/node/instance_attributes). NOT_FOUND when unset. */
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

/* Number of configured stonith primitives whose type is `agent` ("fence_ec2"), or any when NULL. */
ec2ha_rc ec2ha_cluster_count_fence_devices(ec2ha_cluster *c, const char *agent, int *count_out,
                                           ec2ha_error *err);

/* This node's name: OCF_RESKEY_CRM_meta_on_node, else uname(2) nodename. */
ec2ha_rc ec2ha_cluster_local_node_name(char **out, ec2ha_error *err);

#endif
