/*
 * cluster.c - the cluster's view through Pacemaker's libcib (2.1.5 API).
 *
 * Every read is an XPath query for one fixed CIB section (crm_config, nodes,
 * resources, status) with cib_xpath|cib_sync_call|cib_scope_local; the
 * matching of names and values is done here in C, so no caller string is ever
 * spliced into an XPath expression.  Writes are one cib->cmds->modify of the
 * node's instance_attributes, the same XML crm_attribute produces.
 *
 * Pacemaker's libraries are not linked: the first ec2ha_cluster_connect()
 * loads them (cluster_pcmk.c) and every call into them goes through the table
 * the connection keeps (c->pcmk).  Reading and building the XML is plain
 * libxml2; only what has Pacemaker's own semantics (booleans, error strings,
 * freeing what libcib allocated) is Pacemaker's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <crm/cib.h>
#include <crm/common/agents.h>
#include <crm/common/nvpair.h>
#include <crm/common/results.h>
#include <crm/common/util.h>
#include <crm/common/xml.h>
#include <crm/crm.h>
#include <crm/msg_xml.h>

#include "cluster_private.h"
#include "ec2ha/cluster.h"
#include "ec2ha/log.h"

#define CLIENT_NAME "ec2ha"
#define QUERY_OPTIONS (cib_xpath | cib_sync_call | cib_scope_local)
#define XPATH_CRM_CONFIG "/cib/configuration/crm_config"
#define XPATH_NODES "/cib/configuration/nodes"
#define XPATH_RESOURCES "/cib/configuration/resources"
#define XPATH_STATUS "/cib/status"
#define PROPSET_FIRST "cib-bootstrap-options"   /* Pacemaker reads this set first */
#define TAG_XPATH_QUERY "xpath-query"           /* libcib's wrapper for several matches */

struct ec2ha_cluster {
    const ec2ha_pcmk_api *pcmk;   /* the loaded Pacemaker functions */
    cib_t *cib;
};

const char *ec2ha_node_state_str(ec2ha_node_state s)
{
    switch (s) {
    case EC2HA_NODE_ONLINE:
        return "online";
    case EC2HA_NODE_OFFLINE:
        return "offline";
    case EC2HA_NODE_UNCLEAN:
        return "unclean";
    case EC2HA_NODE_PENDING:
        return "pending";
    case EC2HA_NODE_UNKNOWN:
        break;
    }
    return "unknown";
}

/* ---- connection ----------------------------------------------------------------- */

static const char *cib_source(void)
{
    const char *file = getenv("CIB_file");
    const char *shadow = getenv("CIB_shadow");

    if (file != NULL && file[0] != '\0') {
        return file;
    }
    if (shadow != NULL && shadow[0] != '\0') {
        return shadow;
    }
    return NULL;
}

ec2ha_rc ec2ha_cluster_connect(ec2ha_cluster **out, ec2ha_error *err)
{
    ec2ha_cluster *c = NULL;
    ec2ha_rc rc = EC2HA_ERR_NOMEM;
    const char *source = cib_source();
    int prc;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory connecting to the CIB");
        goto cleanup;
    }
    c->pcmk = ec2ha_pcmk_load(err);
    if (c->pcmk == NULL) {
        rc = EC2HA_ERR_CIB;
        goto cleanup;
    }
    /* Loads the CIB schemas (the file variant validates at sign-on); idempotent. */
    c->pcmk->crm_xml_init();
    c->cib = c->pcmk->cib_new();
    if (c->cib == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_CIB, "cannot create a CIB connection object");
        goto cleanup;
    }
    prc = c->cib->cmds->signon(c->cib, CLIENT_NAME, cib_command);
    if (prc != pcmk_ok) {
        if (source != NULL) {
            /* libcib says "No such device or address" for a missing file: be precise. */
            const char *why = access(source, R_OK) != 0 && getenv("CIB_file") != NULL
                                  ? strerror(errno) : c->pcmk->pcmk_strerror(prc);

            rc = ec2ha_error_set(err, EC2HA_ERR_CIB,
                                 "cannot open the CIB %s (from CIB_file/CIB_shadow): %s",
                                 source, why);
        } else {
            rc = ec2ha_error_set(err, EC2HA_ERR_CIB,
                                 "cannot connect to the cluster information base: %s; is "
                                 "Pacemaker running on this node, and is this user root or "
                                 "in the haclient group?", c->pcmk->pcmk_strerror(prc));
        }
        goto cleanup;
    }
    *out = c;
    c = NULL;
    rc = EC2HA_OK;
cleanup:
    ec2ha_cluster_free(c);
    return rc;
}

void ec2ha_cluster_free(ec2ha_cluster *c)
{
    if (c == NULL) {
        return;
    }
    if (c->cib != NULL) {
        if (c->cib->state != cib_disconnected) {
            c->cib->cmds->signoff(c->cib);   /* the file variant writes changes here */
        }
        c->pcmk->cib_delete(c->cib);
    }
    free(c);
}

/* ---- queries ------------------------------------------------------------------------ */

/* Frees what libcib returned, with Pacemaker's own free_xml(); accepts NULL
 * (and a NULL c then: only a connected c ever returns XML). */
static void free_result(const ec2ha_cluster *c, xmlNode *xml)
{
    if (xml != NULL) {
        c->pcmk->free_xml(xml);
    }
}

/* *out is NULL (and EC2HA_OK) when the section does not exist. */
static ec2ha_rc query(ec2ha_cluster *c, const char *xpath, xmlNode **out, ec2ha_error *err)
{
    int prc;

    *out = NULL;
    if (c == NULL || c->cib == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "not connected to the CIB");
    }
    prc = c->cib->cmds->query(c->cib, xpath, out, QUERY_OPTIONS);
    if (prc == -ENXIO) {
        free_result(c, *out);
        *out = NULL;
        return EC2HA_OK;
    }
    if (prc != pcmk_ok) {
        free_result(c, *out);
        *out = NULL;
        return ec2ha_error_set(err, EC2HA_ERR_CIB, "CIB query %s failed: %s", xpath,
                               c->pcmk->pcmk_strerror(prc));
    }
    return EC2HA_OK;
}

/* Next element child of parent after prev (NULL: first) named `name` (NULL: any). */
static xmlNode *next_child(xmlNode *parent, xmlNode *prev, const char *name)
{
    xmlNode *n;

    if (parent == NULL) {
        return NULL;
    }
    for (n = prev != NULL ? prev->next : parent->children; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE
            && (name == NULL || strcmp((const char *)n->name, name) == 0)) {
            return n;
        }
    }
    return NULL;
}

/* The element of a one-section query (unwrapping libcib's <xpath-query>). */
static xmlNode *section_of(xmlNode *out)
{
    if (out != NULL && strcmp((const char *)out->name, TAG_XPATH_QUERY) == 0) {
        return next_child(out, NULL, NULL);
    }
    return out;
}

/* An attribute's value as Pacemaker's crm_element_value() reads it (the text
 * of the attribute node, not a copy); NULL when absent. */
static const char *attr_value(const xmlNode *n, const char *name)
{
    const xmlAttr *a = n != NULL ? xmlHasProp(n, (const xmlChar *)name) : NULL;

    return a != NULL && a->children != NULL ? (const char *)a->children->content : NULL;
}

static bool attr_eq(const xmlNode *n, const char *attr, const char *value)
{
    const char *v = attr_value(n, attr);

    return v != NULL && value != NULL && strcmp(v, value) == 0;
}

/* nvpair named `name` directly inside a set (instance_attributes, cluster_property_set). */
static xmlNode *nvpair_in(xmlNode *set, const char *name)
{
    xmlNode *nv = NULL;

    while ((nv = next_child(set, nv, XML_CIB_TAG_NVPAIR)) != NULL) {
        if (attr_eq(nv, XML_NVPAIR_ATTR_NAME, name)) {
            return nv;
        }
    }
    return NULL;
}

static ec2ha_rc dup_value(const char *value, char **out, ec2ha_error *err)
{
    *out = strdup(value);
    if (*out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory copying a CIB value");
    }
    return EC2HA_OK;
}

/* ---- cluster properties ------------------------------------------------------------- */

ec2ha_rc ec2ha_cluster_get_property(ec2ha_cluster *c, const char *name, char **value_out,
                                    ec2ha_error *err)
{
    xmlNode *out = NULL;
    xmlNode *set = NULL;
    xmlNode *nv = NULL;
    ec2ha_rc rc;
    int pass;

    *value_out = NULL;
    rc = query(c, XPATH_CRM_CONFIG, &out, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    /* Like Pacemaker: cib-bootstrap-options first, then the other sets in order.
     * (Rules and set scores are not evaluated.) */
    for (pass = 0; pass < 2 && nv == NULL; pass++) {
        set = NULL;
        while (nv == NULL
               && (set = next_child(section_of(out), set, XML_CIB_TAG_PROPSET)) != NULL) {
            if (attr_eq(set, XML_ATTR_ID, PROPSET_FIRST) == (pass == 0)) {
                nv = nvpair_in(set, name);
            }
        }
    }
    if (nv == NULL || attr_value(nv, XML_NVPAIR_ATTR_VALUE) == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND, "cluster property %s is not set", name);
        goto cleanup;
    }
    rc = dup_value(attr_value(nv, XML_NVPAIR_ATTR_VALUE), value_out, err);
cleanup:
    free_result(c, out);
    return rc;
}

ec2ha_rc ec2ha_cluster_stonith_enabled(ec2ha_cluster *c, bool *enabled_out, ec2ha_error *err)
{
    char *value = NULL;
    ec2ha_rc rc;
    int b = 0;

    rc = ec2ha_cluster_get_property(c, "stonith-enabled", &value, err);
    if (rc == EC2HA_ERR_NOT_FOUND) {
        *enabled_out = true;   /* Pacemaker's default */
        ec2ha_error_clear(err);
        return EC2HA_OK;
    }
    if (rc != EC2HA_OK) {
        return rc;
    }
    if (c->pcmk->crm_str_to_boolean(value, &b) < 0) {
        /* Pacemaker resets an invalid cluster option to its default (true). */
        ec2ha_warn("cluster property stonith-enabled=%s is not a boolean; Pacemaker uses "
                   "its default, true", value);
        b = 1;
    }
    *enabled_out = b != 0;
    free(value);
    return EC2HA_OK;
}

/* ---- nodes -------------------------------------------------------------------------- */

static xmlNode *node_by_uname(xmlNode *nodes, const char *uname)
{
    xmlNode *n = NULL;

    while ((n = next_child(nodes, n, XML_CIB_TAG_NODE)) != NULL) {
        if (attr_eq(n, XML_ATTR_UNAME, uname)) {
            return n;
        }
    }
    return NULL;
}

/* Permanent attribute of a <node>: first match across its instance_attributes sets. */
static xmlNode *node_nvpair(xmlNode *node, const char *name, xmlNode **set_out)
{
    xmlNode *set = NULL;
    xmlNode *nv = NULL;

    while ((set = next_child(node, set, XML_TAG_ATTR_SETS)) != NULL) {
        nv = nvpair_in(set, name);
        if (nv != NULL) {
            if (set_out != NULL) {
                *set_out = set;
            }
            return nv;
        }
    }
    return NULL;
}

ec2ha_rc ec2ha_cluster_get_node_attribute(ec2ha_cluster *c, const char *node, const char *name,
                                          char **value_out, ec2ha_error *err)
{
    xmlNode *out = NULL;
    xmlNode *n = NULL;
    xmlNode *nv = NULL;
    ec2ha_rc rc;

    *value_out = NULL;
    rc = query(c, XPATH_NODES, &out, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    n = node_by_uname(section_of(out), node);
    if (n == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "node %s is not in the CIB's nodes section", node);
        goto cleanup;
    }
    nv = node_nvpair(n, name, NULL);
    if (nv == NULL || attr_value(nv, XML_NVPAIR_ATTR_VALUE) == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "node %s has no permanent attribute %s", node, name);
        goto cleanup;
    }
    rc = dup_value(attr_value(nv, XML_NVPAIR_ATTR_VALUE), value_out, err);
cleanup:
    free_result(c, out);
    return rc;
}

/* <node id><instance_attributes id><nvpair id name value/></instance_attributes></node>,
 * the update crm_attribute sends, as a document of its own; NULL when out of memory. */
static xmlDoc *node_attribute_update(const char *node_id, const char *set_id, const char *nv_id,
                                     const char *name, const char *value)
{
    xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *xnode = NULL;
    xmlNode *xset = NULL;
    xmlNode *xnv = NULL;

    xnode = doc != NULL ? xmlNewDocNode(doc, NULL, (const xmlChar *)XML_CIB_TAG_NODE, NULL)
                        : NULL;
    if (xnode != NULL) {
        xmlDocSetRootElement(doc, xnode);
        xset = xmlNewChild(xnode, NULL, (const xmlChar *)XML_TAG_ATTR_SETS, NULL);
    }
    xnv = xset != NULL ? xmlNewChild(xset, NULL, (const xmlChar *)XML_CIB_TAG_NVPAIR, NULL)
                       : NULL;
    if (xnv == NULL
        || xmlSetProp(xnode, (const xmlChar *)XML_ATTR_ID, (const xmlChar *)node_id) == NULL
        || xmlSetProp(xset, (const xmlChar *)XML_ATTR_ID, (const xmlChar *)set_id) == NULL
        || xmlSetProp(xnv, (const xmlChar *)XML_ATTR_ID, (const xmlChar *)nv_id) == NULL
        || xmlSetProp(xnv, (const xmlChar *)XML_NVPAIR_ATTR_NAME, (const xmlChar *)name) == NULL
        || xmlSetProp(xnv, (const xmlChar *)XML_NVPAIR_ATTR_VALUE,
                      (const xmlChar *)value) == NULL) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

ec2ha_rc ec2ha_cluster_set_node_attribute(ec2ha_cluster *c, const char *node, const char *name,
                                          const char *value, ec2ha_error *err)
{
    xmlNode *out = NULL;
    xmlDoc *update = NULL;
    xmlNode *n = NULL;
    xmlNode *set = NULL;
    xmlNode *nv = NULL;
    char *set_id = NULL;
    char *nv_id = NULL;
    const char *node_id;
    ec2ha_rc rc;
    int prc;

    if (node == NULL || name == NULL || value == NULL || name[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "node attribute write needs a node, "
                               "a name and a value");
    }
    rc = query(c, XPATH_NODES, &out, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    n = node_by_uname(section_of(out), node);
    node_id = n != NULL ? attr_value(n, XML_ATTR_ID) : NULL;
    if (node_id == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "node %s is not in the CIB's nodes section (it appears there once "
                             "it has joined the cluster); attribute %s not written", node, name);
        goto cleanup;
    }
    nv = node_nvpair(n, name, &set);
    if (nv != NULL && attr_eq(nv, XML_NVPAIR_ATTR_VALUE, value)) {
        rc = EC2HA_OK;   /* already so: no CIB write, no new epoch */
        goto cleanup;
    }
    /* Reuse existing ids so the update replaces rather than duplicates; else
     * crm_attribute's convention nodes-<id> / nodes-<id>-<name>. */
    if (nv != NULL && attr_value(nv, XML_ATTR_ID) != NULL
        && attr_value(set, XML_ATTR_ID) != NULL) {
        set_id = strdup(attr_value(set, XML_ATTR_ID));
        nv_id = strdup(attr_value(nv, XML_ATTR_ID));
    } else {
        set = next_child(n, NULL, XML_TAG_ATTR_SETS);
        if (set != NULL && attr_value(set, XML_ATTR_ID) != NULL) {
            set_id = strdup(attr_value(set, XML_ATTR_ID));
        } else if (asprintf(&set_id, "nodes-%s", node_id) < 0) {
            set_id = NULL;
        }
        if (asprintf(&nv_id, "nodes-%s-%s", node_id, name) < 0) {
            nv_id = NULL;
        }
    }
    update = set_id != NULL && nv_id != NULL
                 ? node_attribute_update(node_id, set_id, nv_id, name, value) : NULL;
    if (update == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory building a CIB update");
        goto cleanup;
    }
    prc = c->cib->cmds->modify(c->cib, XML_CIB_TAG_NODES, xmlDocGetRootElement(update),
                               cib_sync_call);
    if (prc != pcmk_ok) {
        rc = ec2ha_error_set(err, EC2HA_ERR_CIB,
                             "could not write node attribute %s=%s for node %s: %s%s", name,
                             value, node, c->pcmk->pcmk_strerror(prc),
                             prc == -EPROTONOSUPPORT
                                 ? " (the CIB's crm_feature_set is newer than this Pacemaker "
                                   "supports, " CRM_FEATURE_SET ")" : "");
        goto cleanup;
    }
    ec2ha_info("node %s: permanent attribute %s=%s written to the CIB", node, name, value);
    rc = EC2HA_OK;
cleanup:
    free(set_id);
    free(nv_id);
    xmlFreeDoc(update);
    free_result(c, out);
    return rc;
}

/* ---- node state --------------------------------------------------------------------- */

/* A positive decimal number: the epoch-timestamp forms of later Pacemaker versions. */
static bool positive_number(const char *s)
{
    bool nonzero = false;

    if (s == NULL || *s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s)) {
            return false;
        }
        nonzero = nonzero || *s != '0';
    }
    return nonzero;
}

/* Pacemaker's crm_is_true(): a boolean word (crm_str_to_boolean) that is true. */
static bool pcmk_is_true(const ec2ha_pcmk_api *pcmk, const char *s)
{
    int b = 0;

    return s != NULL && pcmk->crm_str_to_boolean(s, &b) > 0 && b != 0;
}

static bool in_membership(const ec2ha_pcmk_api *pcmk, const char *in_ccm)
{
    return pcmk_is_true(pcmk, in_ccm) || positive_number(in_ccm);
}

static bool controller_online(const char *crmd)
{
    return (crmd != NULL && strcasecmp(crmd, ONLINESTATUS) == 0) || positive_number(crmd);
}

static bool word_eq(const char *a, const char *b)
{
    return a != NULL && strcasecmp(a, b) == 0;
}

/* The rule documented in cluster.h (after determine_online_status_fencing()). */
static ec2ha_node_state state_of(const ec2ha_pcmk_api *pcmk, const xmlNode *ns)
{
    const char *in_ccm = NULL;
    const char *crmd = NULL;
    const char *join = NULL;
    const char *expected = NULL;
    bool member;
    bool online;

    if (ns == NULL) {
        return EC2HA_NODE_UNKNOWN;
    }
    in_ccm = attr_value(ns, XML_NODE_IN_CLUSTER);
    crmd = attr_value(ns, XML_NODE_IS_PEER);
    join = attr_value(ns, XML_NODE_JOIN_STATE);
    expected = attr_value(ns, XML_NODE_EXPECTED);
    member = in_membership(pcmk, in_ccm);
    online = controller_online(crmd);
    if (in_ccm == NULL || word_eq(join, CRMD_JOINSTATE_NACK)) {
        return EC2HA_NODE_UNCLEAN;
    }
    if (expected == NULL || word_eq(expected, CRMD_JOINSTATE_DOWN)) {
        return (member || online) ? EC2HA_NODE_PENDING : EC2HA_NODE_OFFLINE;
    }
    if (!member || !online) {
        return EC2HA_NODE_UNCLEAN;
    }
    if (word_eq(join, CRMD_JOINSTATE_MEMBER)) {
        return EC2HA_NODE_ONLINE;
    }
    if (word_eq(join, CRMD_JOINSTATE_PENDING) || word_eq(join, CRMD_JOINSTATE_DOWN)) {
        return EC2HA_NODE_PENDING;
    }
    return EC2HA_NODE_UNCLEAN;
}

static xmlNode *node_state_for(xmlNode *status, const char *id, const char *uname)
{
    xmlNode *ns = NULL;

    while ((ns = next_child(status, ns, XML_CIB_TAG_STATE)) != NULL) {
        if (id != NULL ? attr_eq(ns, XML_ATTR_ID, id) : attr_eq(ns, XML_ATTR_UNAME, uname)) {
            return ns;
        }
    }
    return NULL;
}

void ec2ha_cluster_nodes_free(ec2ha_cluster_node *nodes, size_t n)
{
    size_t i;

    if (nodes == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(nodes[i].name);
        free(nodes[i].id);
        free(nodes[i].instance_id);
    }
    free(nodes);
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d;

    if (s == NULL) {
        return NULL;
    }
    d = strdup(s);
    if (d == NULL) {
        *oom = true;
    }
    return d;
}

ec2ha_rc ec2ha_cluster_list_nodes(ec2ha_cluster *c, ec2ha_cluster_node **out, size_t *n_out,
                                  ec2ha_error *err)
{
    ec2ha_cluster_node *nodes = NULL;
    xmlNode *nodes_xml = NULL;
    xmlNode *status_xml = NULL;
    xmlNode *n = NULL;
    size_t count = 0;
    size_t i = 0;
    bool oom = false;
    ec2ha_rc rc;

    *out = NULL;
    *n_out = 0;
    rc = query(c, XPATH_NODES, &nodes_xml, err);
    if (rc == EC2HA_OK) {
        rc = query(c, XPATH_STATUS, &status_xml, err);
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    while ((n = next_child(section_of(nodes_xml), n, XML_CIB_TAG_NODE)) != NULL) {
        count++;
    }
    if (count == 0) {
        rc = EC2HA_OK;
        goto cleanup;
    }
    nodes = calloc(count, sizeof(*nodes));
    if (nodes == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory listing %zu nodes", count);
        goto cleanup;
    }
    n = NULL;
    while (i < count && (n = next_child(section_of(nodes_xml), n, XML_CIB_TAG_NODE)) != NULL) {
        const char *id = attr_value(n, XML_ATTR_ID);
        const char *uname = attr_value(n, XML_ATTR_UNAME);
        xmlNode *nv = node_nvpair(n, EC2HA_ATTR_INSTANCE_ID, NULL);

        nodes[i].name = dup_or_null(uname != NULL ? uname : id, &oom);
        nodes[i].id = dup_or_null(id, &oom);
        nodes[i].instance_id =
            dup_or_null(nv != NULL ? attr_value(nv, XML_NVPAIR_ATTR_VALUE) : NULL, &oom);
        nodes[i].state = state_of(c->pcmk, node_state_for(section_of(status_xml), id, uname));
        i++;
    }
    if (oom) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory listing nodes");
        goto cleanup;
    }
    *out = nodes;
    *n_out = i;
    nodes = NULL;
    rc = EC2HA_OK;
cleanup:
    ec2ha_cluster_nodes_free(nodes, count);
    free_result(c, nodes_xml);
    free_result(c, status_xml);
    return rc;
}

ec2ha_rc ec2ha_cluster_node_by_instance(ec2ha_cluster *c, const char *instance_id,
                                        char **node_out, ec2ha_error *err)
{
    ec2ha_cluster_node *nodes = NULL;
    const char *first = NULL;
    const char *second = NULL;
    size_t matches = 0;
    size_t n = 0;
    size_t i;
    ec2ha_rc rc;

    *node_out = NULL;
    if (instance_id == NULL || instance_id[0] == '\0') {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "no instance id given");
    }
    rc = ec2ha_cluster_list_nodes(c, &nodes, &n, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    for (i = 0; i < n; i++) {
        if (nodes[i].instance_id != NULL && strcmp(nodes[i].instance_id, instance_id) == 0) {
            if (matches == 0) {
                first = nodes[i].name;
            } else if (matches == 1) {
                second = nodes[i].name;
            }
            matches++;
        }
    }
    if (matches == 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOT_FOUND,
                             "no cluster node has %s=%s", EC2HA_ATTR_INSTANCE_ID, instance_id);
    } else if (matches > 1) {
        rc = ec2ha_error_set(err, EC2HA_ERR_AMBIGUOUS,
                             "%zu cluster nodes (%s, %s%s) have %s=%s; correct the node "
                             "attributes so each instance belongs to one node", matches,
                             first, second, matches > 2 ? ", ..." : "", EC2HA_ATTR_INSTANCE_ID,
                             instance_id);
    } else {
        rc = dup_value(first, node_out, err);
    }
    ec2ha_cluster_nodes_free(nodes, n);
    return rc;
}

/* ---- resources ---------------------------------------------------------------------- */

/* True when one of the primitive's instance_attributes sets has a non-zero
 * pcmk_delay_base or pcmk_delay_max (a random or fixed delay before fencing). */
static bool has_fence_delay(xmlNode *primitive)
{
    static const char *const names[] = {"pcmk_delay_base", "pcmk_delay_max"};
    xmlNode *set = NULL;
    size_t i;

    while ((set = next_child(primitive, set, XML_TAG_ATTR_SETS)) != NULL) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            xmlNode *nv = nvpair_in(set, names[i]);
            const char *v = nv != NULL ? attr_value(nv, XML_NVPAIR_ATTR_VALUE) : NULL;

            if (v != NULL && v[0] != '\0' && strspn(v, "0smh ") != strlen(v)) {
                return true;
            }
        }
    }
    return false;
}

static int count_stonith(xmlNode *parent, const char *agent, bool need_delay)
{
    xmlNode *n = NULL;
    int count = 0;

    while ((n = next_child(parent, n, NULL)) != NULL) {
        if (strcmp((const char *)n->name, XML_CIB_TAG_RESOURCE) == 0) {
            if (attr_eq(n, XML_AGENT_ATTR_CLASS, PCMK_RESOURCE_CLASS_STONITH)
                && (agent == NULL || attr_eq(n, XML_ATTR_TYPE, agent))
                && (!need_delay || has_fence_delay(n))) {
                count++;
            }
        } else if (strcmp((const char *)n->name, XML_CIB_TAG_GROUP) == 0
                   || strcmp((const char *)n->name, XML_CIB_TAG_INCARNATION) == 0
                   || strcmp((const char *)n->name, PCMK_XE_PROMOTABLE_LEGACY) == 0) {
            count += count_stonith(n, agent, need_delay);
        }
    }
    return count;
}

static ec2ha_rc count_devices(ec2ha_cluster *c, const char *agent, bool need_delay,
                              int *count_out, ec2ha_error *err)
{
    xmlNode *out = NULL;
    ec2ha_rc rc;

    *count_out = 0;
    rc = query(c, XPATH_RESOURCES, &out, err);
    if (rc == EC2HA_OK) {
        *count_out = count_stonith(section_of(out), agent, need_delay);
    }
    free_result(c, out);
    return rc;
}

ec2ha_rc ec2ha_cluster_count_delayed_fence_devices(ec2ha_cluster *c, const char *agent,
                                                   int *count_out, ec2ha_error *err)
{
    return count_devices(c, agent, true, count_out, err);
}

ec2ha_rc ec2ha_cluster_count_fence_devices(ec2ha_cluster *c, const char *agent, int *count_out,
                                           ec2ha_error *err)
{
    return count_devices(c, agent, false, count_out, err);
}

/* ---- local node ---------------------------------------------------------------------- */

ec2ha_rc ec2ha_cluster_local_node_name(char **out, ec2ha_error *err)
{
    const char *meta = getenv("OCF_RESKEY_CRM_meta_on_node");
    struct utsname u;

    *out = NULL;
    if (meta != NULL && meta[0] != '\0') {
        return dup_value(meta, out, err);
    }
    if (uname(&u) != 0) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "uname() failed: %s", strerror(errno));
    }
    return dup_value(u.nodename, out, err);
}
