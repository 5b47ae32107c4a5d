/*
 * ec2_xml.c - EC2 Query API response parsers (libxml2, pure: no I/O, no logging).
 * DescribeInstances, the one answer that can be large, is parsed as a stream in
 * ec2_xml_stream.c by the same rules; its error path is ec2_xml_not_expected here.
 *
 * Elements are matched by local name and namespaces are ignored, so the
 * 2014-06-15 documents of the AWS docs and the 2016-11-15 ones EC2 sends parse
 * alike.  Only direct children are looked at (instancesSet/item/privateIpAddress
 * is never confused with a deeper privateIpAddressesSet/item/privateIpAddress).
 *
 * Hardening: no network (XML_PARSE_NONET), no entity substitution, no DTD
 * loading, and a document with any DOCTYPE is refused outright: the parser is
 * stopped at the DOCTYPE, before a single entity declaration is read, so
 * "billion laughs" input costs nothing.  libxml2's own depth limit applies
 * (XML_PARSE_HUGE is never set) and element counts are capped (ec2_private.h).
 * libxml2 diagnostics are never printed; the first one goes into err.
 *
 * Empty elements (<privateDnsName/>) read as absent: the field is NULL.  The
 * one exception is a tag's value, where "" is a real value.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "ec2_private.h"
#include "ec2ha/ec2.h"

#define PARSE_OPTIONS \
    (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | \
     XML_PARSE_NOWARNING)

/* ---- instance states ----------------------------------------------------- */

static const struct {
    ec2ha_instance_state state;
    const char *name;
} state_names[] = {
    { EC2HA_STATE_PENDING, "pending" },
    { EC2HA_STATE_RUNNING, "running" },
    { EC2HA_STATE_SHUTTING_DOWN, "shutting-down" },
    { EC2HA_STATE_TERMINATED, "terminated" },
    { EC2HA_STATE_STOPPING, "stopping" },
    { EC2HA_STATE_STOPPED, "stopped" },
};

const char *ec2ha_instance_state_str(ec2ha_instance_state s)
{
    size_t i;

    for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (state_names[i].state == s) {
            return state_names[i].name;
        }
    }
    return "unknown";
}

ec2ha_instance_state ec2ha_instance_state_from_name(const char *name)
{
    size_t i;

    if (name == NULL) {
        return EC2HA_STATE_UNKNOWN;
    }
    for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(state_names[i].name, name) == 0) {
            return state_names[i].state;
        }
    }
    return EC2HA_STATE_UNKNOWN;
}

ec2ha_instance_state ec2ha_instance_state_from_code(long code)
{
    size_t i;

    if (code < 0) {
        return EC2HA_STATE_UNKNOWN;
    }
    /* "The high byte is used for internal purposes and should be ignored." */
    code &= 0xff;
    for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if ((long)state_names[i].state == code) {
            return state_names[i].state;
        }
    }
    return EC2HA_STATE_UNKNOWN;
}

/* ---- freeing ------------------------------------------------------------- */

static void interface_free(ec2ha_network_interface *ni)
{
    free(ni->interface_id);
    free(ni->mac_address);
    free(ni->private_ip);
    free(ni->public_ip);
    memset(ni, 0, sizeof(*ni));
}

void ec2ha_instance_free(ec2ha_instance *inst)
{
    size_t i;

    if (inst == NULL) {
        return;
    }
    free(inst->instance_id);
    free(inst->state_name);
    free(inst->private_ip);
    free(inst->private_dns);
    free(inst->public_ip);
    free(inst->availability_zone);
    for (i = 0; i < inst->n_tags && inst->tags != NULL; i++) {
        free(inst->tags[i].key);
        free(inst->tags[i].value);
    }
    free(inst->tags);
    for (i = 0; i < inst->n_interfaces && inst->interfaces != NULL; i++) {
        interface_free(&inst->interfaces[i]);
    }
    free(inst->interfaces);
    memset(inst, 0, sizeof(*inst));
    inst->state = EC2HA_STATE_UNKNOWN;
    inst->state_code = -1;
}

void ec2ha_instance_list_free(ec2ha_instance_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->count && l->items != NULL; i++) {
        ec2ha_instance_free(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static void address_free(ec2ha_address *a)
{
    free(a->public_ip);
    free(a->allocation_id);
    free(a->association_id);
    free(a->domain);
    free(a->instance_id);
    free(a->network_interface_id);
    free(a->network_interface_owner_id);
    free(a->private_ip);
    memset(a, 0, sizeof(*a));
}

void ec2ha_address_list_free(ec2ha_address_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->count && l->items != NULL; i++) {
        address_free(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void ec2ha_state_change_free(ec2ha_state_change *c)
{
    if (c == NULL) {
        return;
    }
    free(c->instance_id);
    memset(c, 0, sizeof(*c));
    c->current = EC2HA_STATE_UNKNOWN;
    c->previous = EC2HA_STATE_UNKNOWN;
}

bool ec2ha_instance_dns_is(const ec2ha_instance *inst, const char *host)
{
    const char *dns = inst != NULL ? inst->private_dns : NULL;
    size_t n;

    if (dns == NULL || host == NULL || dns[0] == '\0') {
        return false;
    }
    n = strcspn(dns, ".");
    return strcmp(dns, host) == 0 || (strlen(host) == n && strncmp(dns, host, n) == 0);
}

const char *ec2ha_instance_tag(const ec2ha_instance *inst, const char *key)
{
    size_t i;

    if (inst == NULL || key == NULL) {
        return NULL;
    }
    for (i = 0; i < inst->n_tags; i++) {
        if (inst->tags[i].key != NULL && strcmp(inst->tags[i].key, key) == 0) {
            return inst->tags[i].value != NULL ? inst->tags[i].value : "";
        }
    }
    return NULL;
}

/* ---- document handling ----------------------------------------------------- */

typedef struct parse_state {
    bool saw_dtd;
} parse_state;

/* SAX internalSubset hook: stop at the DOCTYPE, before any declaration is read. */
static void reject_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
                       const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    parse_state *st = ctxt->_private;

    if (st != NULL) {
        st->saw_dtd = true;
    }
    xmlStopParser(ctxt);
}

void ec2_xml_error_text(const xmlError *e, char *out, size_t size)
{
    char msg[256];
    size_t n;

    if (e == NULL || e->message == NULL) {
        snprintf(out, size, "not well-formed XML");
        return;
    }
    snprintf(msg, sizeof(msg), "%s", e->message);
    n = strlen(msg);
    while (n > 0 && isspace((unsigned char)msg[n - 1])) {
        msg[--n] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        if (msg[i] == '\n' || msg[i] == '\r') {
            msg[i] = ' ';
        }
    }
    snprintf(out, size, "%s (line %d)", msg, e->line);
}

static ec2ha_rc xml_read(const char *xml, size_t len, const char *what, xmlDocPtr *doc_out,
                         ec2ha_error *err)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    parse_state st = { false };
    char detail[512];
    ec2ha_rc rc = EC2HA_ERR_PARSE;

    *doc_out = NULL;
    if (xml == NULL || len == 0) {
        ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: the response body is empty", what);
        goto cleanup;
    }
    if (len > (size_t)INT_MAX) {
        rc = ec2ha_error_set(err, EC2HA_ERR_TOO_LARGE, "%s: %zu bytes is too large to parse",
                             what, len);
        goto cleanup;
    }
    xmlInitParser();
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL || ctxt->sax == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "%s: out of memory creating an XML parser",
                             what);
        goto cleanup;
    }
    ctxt->sax->internalSubset = reject_dtd;
    ctxt->_private = &st;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, PARSE_OPTIONS);
    if (st.saw_dtd) {
        ec2ha_error_set(err, EC2HA_ERR_PARSE,
                        "%s: the document has a DOCTYPE, which EC2 never sends; refused "
                        "without reading it (no entity is expanded)", what);
        goto cleanup;
    }
    if (doc == NULL || !ctxt->wellFormed) {
        ec2_xml_error_text(xmlCtxtGetLastError(ctxt), detail, sizeof(detail));
        ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: not well-formed XML (%zu bytes): %s", what,
                        len, detail);
        goto cleanup;
    }
    if (xmlDocGetRootElement(doc) == NULL) {
        ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: the XML document has no root element", what);
        goto cleanup;
    }
    *doc_out = doc;
    doc = NULL;
    rc = EC2HA_OK;
cleanup:
    if (ctxt != NULL) {
        ctxt->_private = NULL;
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

static bool is_elem(const xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->name != NULL &&
           strcmp((const char *)n->name, name) == 0;
}

static const char *elem_name(const xmlNode *n)
{
    return (n != NULL && n->name != NULL) ? (const char *)n->name : "?";
}

/* First direct element child with this local name. */
static xmlNode *child(const xmlNode *parent, const char *name)
{
    xmlNode *n;

    if (parent == NULL) {
        return NULL;
    }
    for (n = parent->children; n != NULL; n = n->next) {
        if (is_elem(n, name)) {
            return n;
        }
    }
    return NULL;
}

static size_t count_children(const xmlNode *parent, const char *name)
{
    const xmlNode *n;
    size_t count = 0;

    if (parent == NULL) {
        return 0;
    }
    for (n = parent->children; n != NULL; n = n->next) {
        if (is_elem(n, name)) {
            count++;
        }
    }
    return count;
}

/*
 * Text of an element: its direct text children, surrounding whitespace
 * trimmed.  Entity references are never followed (a document with entities
 * is refused earlier anyway).  *out is NULL when the element is absent or
 * empty, unless keep_empty.
 */
static ec2ha_rc text_of(const xmlNode *el, bool keep_empty, char **out)
{
    const xmlNode *n;
    size_t total = 0;
    size_t start;
    size_t end;
    char *s = NULL;

    *out = NULL;
    if (el == NULL) {
        return EC2HA_OK;
    }
    for (n = el->children; n != NULL; n = n->next) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
            n->content != NULL) {
            total += strlen((const char *)n->content);
        }
    }
    s = malloc(total + 1);
    if (s == NULL) {
        return EC2HA_ERR_NOMEM;
    }
    s[0] = '\0';
    total = 0;
    for (n = el->children; n != NULL; n = n->next) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
            n->content != NULL) {
            size_t l = strlen((const char *)n->content);

            memcpy(s + total, n->content, l);
            total += l;
        }
    }
    s[total] = '\0';
    start = 0;
    while (start < total && isspace((unsigned char)s[start])) {
        start++;
    }
    end = total;
    while (end > start && isspace((unsigned char)s[end - 1])) {
        end--;
    }
    if (end == start && !keep_empty) {
        free(s);
        return EC2HA_OK;
    }
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
    *out = s;
    return EC2HA_OK;
}

static ec2ha_rc child_text(const xmlNode *parent, const char *name, char **out)
{
    return text_of(child(parent, name), false, out);
}

static ec2ha_rc nomem(ec2ha_error *err, const char *what)
{
    return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "%s: out of memory", what);
}

/* Parse a decimal integer element; absent/empty -> *present false. */
static ec2ha_rc child_long(const xmlNode *parent, const char *name, const char *what,
                           long *value, bool *present, ec2ha_error *err)
{
    char *s = NULL;
    char *end = NULL;
    long v;
    ec2ha_rc rc;

    *present = false;
    rc = child_text(parent, name, &s);
    if (rc != EC2HA_OK) {
        return nomem(err, what);
    }
    if (s == NULL) {
        return EC2HA_OK;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: <%s> is '%.40s', not an integer", what,
                             name, s);
        free(s);
        return rc;
    }
    free(s);
    *value = v;
    *present = true;
    return EC2HA_OK;
}

ec2ha_instance_state ec2_state_resolve(bool have_code, long code, const char *name)
{
    ec2ha_instance_state s;

    if (!have_code) {
        return ec2ha_instance_state_from_name(name);
    }
    s = ec2ha_instance_state_from_code(code);
    if (name != NULL && ec2ha_instance_state_from_name(name) != s) {
        return EC2HA_STATE_UNKNOWN;
    }
    return s;
}

/* An instanceState / currentState / previousState element (see ec2_state_resolve). */
static ec2ha_rc parse_state_elem(const xmlNode *el, const char *what, ec2ha_instance_state *state,
                                 long *code_out, char **name_out, ec2ha_error *err)
{
    char *name = NULL;
    long code = -1;
    bool have_code = false;
    ec2ha_instance_state s = EC2HA_STATE_UNKNOWN;
    ec2ha_rc rc;

    rc = child_long(el, "code", what, &code, &have_code, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    if (child_text(el, "name", &name) != EC2HA_OK) {
        return nomem(err, what);
    }
    if (!have_code) {
        code = -1;
    }
    s = ec2_state_resolve(have_code, code, name);
    *state = s;
    if (code_out != NULL) {
        *code_out = code;
    }
    if (name_out != NULL) {
        *name_out = name;
    } else {
        free(name);
    }
    return EC2HA_OK;
}

/* ---- error documents -------------------------------------------------------- */

/* Printable, single-line excerpt of a body for messages. */
static void excerpt(const char *body, size_t len, char *out, size_t size)
{
    size_t i;
    size_t o = 0;

    if (body == NULL) {
        len = 0;
    }
    for (i = 0; i < len && o + 4 < size; i++) {
        unsigned char c = (unsigned char)body[i];

        if (c == '\n' || c == '\r' || c == '\t') {
            c = ' ';
        }
        if (c < 0x20 || c >= 0x7f) {
            c = '?';
        }
        if (c == ' ' && o > 0 && out[o - 1] == ' ') {
            continue;
        }
        out[o++] = (char)c;
    }
    if (i < len && o + 3 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/*
 * If root is an AWS error document, fill err and return EC2HA_ERR_AWS (or
 * EC2HA_ERR_HTTP when it has no Code).  Returns EC2HA_OK when root is not an
 * error document at all.
 *   <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>  (EC2)
 *   <ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>       (query APIs)
 */
static ec2ha_rc error_from_root(const xmlNode *root, long http_status, ec2ha_error *err)
{
    const xmlNode *error_el = NULL;
    char *code = NULL;
    char *message = NULL;
    char *request_id = NULL;
    char status_text[32] = "";
    ec2ha_rc rc = EC2HA_OK;

    if (is_elem(root, "Response")) {
        error_el = child(child(root, "Errors"), "Error");
    } else if (is_elem(root, "ErrorResponse")) {
        error_el = child(root, "Error");
    } else if (is_elem(root, "Error")) {
        error_el = root;
    }
    if (error_el == NULL) {
        return EC2HA_OK;
    }
    if (child_text(error_el, "Code", &code) != EC2HA_OK ||
        child_text(error_el, "Message", &message) != EC2HA_OK ||
        child_text(root, "RequestID", &request_id) != EC2HA_OK) {
        rc = nomem(err, "EC2 error response");
        goto cleanup;
    }
    if (request_id == NULL &&
        (child_text(root, "RequestId", &request_id) != EC2HA_OK ||
         (request_id == NULL && child_text(error_el, "RequestId", &request_id) != EC2HA_OK))) {
        rc = nomem(err, "EC2 error response");
        goto cleanup;
    }
    if (http_status > 0) {
        snprintf(status_text, sizeof(status_text), "HTTP %ld, ", http_status);
    }
    ec2ha_error_set_aws(err, http_status, code, request_id);
    if (code == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_HTTP,
                             "EC2 answered with an error document without a Code: %s (%srequest "
                             "id %s)", message != NULL ? message : "no message", status_text,
                             request_id != NULL ? request_id : "none");
        goto cleanup;
    }
    rc = ec2ha_error_set(err, EC2HA_ERR_AWS, "%s: %s (%srequest id %s)", code,
                         message != NULL ? message : "no message", status_text,
                         request_id != NULL ? request_id : "none");
cleanup:
    free(code);
    free(message);
    free(request_id);
    return rc;
}

ec2ha_rc ec2ha_ec2_parse_error(const char *xml, size_t len, long http_status, ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    ec2ha_error perr;
    char body[160];
    ec2ha_rc rc;

    ec2ha_error_clear(&perr);
    rc = xml_read(xml, len, "EC2 error response", &doc, &perr);
    if (rc == EC2HA_ERR_NOMEM) {
        ec2ha_error_set(err, rc, "%s", perr.message);
        goto cleanup;
    }
    if (rc == EC2HA_OK) {
        rc = error_from_root(xmlDocGetRootElement(doc), http_status, err);
        if (rc != EC2HA_OK) {
            goto cleanup;
        }
    }
    /* Not an AWS error document (a proxy's HTML page, a truncated body, ...) */
    excerpt(xml, len, body, sizeof(body));
    ec2ha_error_set_aws(err, http_status, NULL, NULL);
    if (http_status >= 300 || http_status < 200) {
        rc = ec2ha_error_set(err, EC2HA_ERR_HTTP,
                             "HTTP %ld without an EC2 error document (body: '%s')", http_status,
                             body);
    } else {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                             "expected an EC2 error document, got (HTTP %ld) '%s'", http_status,
                             body);
    }
cleanup:
    xmlFreeDoc(doc);
    return rc;
}

/*
 * Parse and check the root element is `expected` (or, when expected2 is not
 * NULL, that one).  An error document in its place is reported as that AWS
 * error (EC2HA_ERR_AWS), anything else is EC2HA_ERR_PARSE.
 */
static ec2ha_rc read_expected(const char *xml, size_t len, const char *expected,
                              const char *expected2, xmlDocPtr *doc_out, xmlNode **root_out,
                              ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNode *root;
    char what[96];
    ec2ha_rc rc;

    *doc_out = NULL;
    *root_out = NULL;
    snprintf(what, sizeof(what), "%s", expected);
    rc = xml_read(xml, len, what, &doc, err);
    if (rc != EC2HA_OK) {
        return rc;
    }
    root = xmlDocGetRootElement(doc);
    if (is_elem(root, expected) || (expected2 != NULL && is_elem(root, expected2))) {
        *doc_out = doc;
        *root_out = root;
        return EC2HA_OK;
    }
    rc = error_from_root(root, 0, err);
    if (rc == EC2HA_OK) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                             "expected a <%s> document, but the root element is <%.64s>",
                             expected, elem_name(root));
    }
    xmlFreeDoc(doc);
    return rc;
}

/* ---- DescribeInstances: ec2_xml_stream.c; its error path is here ------------------- */

ec2ha_rc ec2_xml_not_expected(const char *xml, size_t len, const char *expected,
                              ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNode *root = NULL;
    ec2ha_rc rc;

    rc = read_expected(xml, len, expected, NULL, &doc, &root, err);
    if (rc == EC2HA_OK) {
        /* the streaming parser and the DOM disagree: never call that success */
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: the document could not be read as one",
                             expected);
    }
    xmlFreeDoc(doc);
    return rc;
}

/* ---- DescribeAddresses ------------------------------------------------------- */

static ec2ha_rc parse_address(const xmlNode *item, ec2ha_address *a, ec2ha_error *err)
{
    static const char what[] = "DescribeAddressesResponse address";

    if (child_text(item, "publicIp", &a->public_ip) != EC2HA_OK ||
        child_text(item, "allocationId", &a->allocation_id) != EC2HA_OK ||
        child_text(item, "associationId", &a->association_id) != EC2HA_OK ||
        child_text(item, "domain", &a->domain) != EC2HA_OK ||
        child_text(item, "instanceId", &a->instance_id) != EC2HA_OK ||
        child_text(item, "networkInterfaceId", &a->network_interface_id) != EC2HA_OK ||
        child_text(item, "networkInterfaceOwnerId", &a->network_interface_owner_id) !=
            EC2HA_OK ||
        child_text(item, "privateIpAddress", &a->private_ip) != EC2HA_OK) {
        return nomem(err, what);
    }
    if (a->public_ip == NULL && a->allocation_id == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE,
                               "%s without a publicIp or an allocationId", what);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_ec2_parse_describe_addresses(const char *xml, size_t len, ec2ha_address_list *out,
                                            ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNode *root = NULL;
    const xmlNode *set;
    const xmlNode *n;
    ec2ha_address_list list = { NULL, 0 };
    size_t total;
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "parse_describe_addresses: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    rc = read_expected(xml, len, "DescribeAddressesResponse", NULL, &doc, &root, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    set = child(root, "addressesSet");
    total = count_children(set, "item");
    if (total > EC2_XML_MAX_ITEMS) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "DescribeAddressesResponse has %zu "
                             "addresses, more than the %d accepted", total, EC2_XML_MAX_ITEMS);
        goto cleanup;
    }
    if (total > 0) {
        list.items = calloc(total, sizeof(*list.items));
        if (list.items == NULL) {
            rc = nomem(err, "DescribeAddressesResponse");
            goto cleanup;
        }
        for (n = set->children; n != NULL; n = n->next) {
            if (!is_elem(n, "item")) {
                continue;
            }
            list.count++;
            rc = parse_address(n, &list.items[list.count - 1], err);
            if (rc != EC2HA_OK) {
                goto cleanup;
            }
        }
    }
    *out = list;
    list.items = NULL;
    list.count = 0;
    rc = EC2HA_OK;
cleanup:
    ec2ha_address_list_free(&list);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- StopInstances / StartInstances -------------------------------------------- */

ec2ha_rc ec2ha_ec2_parse_state_change(const char *xml, size_t len, ec2ha_state_change *out,
                                      ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNode *root = NULL;
    const xmlNode *item;
    ec2ha_state_change sc = { NULL, EC2HA_STATE_UNKNOWN, EC2HA_STATE_UNKNOWN };
    const char *what = "StopInstancesResponse/StartInstancesResponse";
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "parse_state_change: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    out->current = EC2HA_STATE_UNKNOWN;
    out->previous = EC2HA_STATE_UNKNOWN;
    rc = read_expected(xml, len, "StopInstancesResponse", "StartInstancesResponse", &doc, &root,
                       err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    what = elem_name(root);
    item = child(child(root, "instancesSet"), "item");
    if (item == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s lists no instance in its instancesSet",
                             what);
        goto cleanup;
    }
    if (child_text(item, "instanceId", &sc.instance_id) != EC2HA_OK) {
        rc = nomem(err, what);
        goto cleanup;
    }
    if (sc.instance_id == NULL) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: instancesSet item without instanceId",
                             what);
        goto cleanup;
    }
    rc = parse_state_elem(child(item, "currentState"), what, &sc.current, NULL, NULL, err);
    if (rc == EC2HA_OK) {
        rc = parse_state_elem(child(item, "previousState"), what, &sc.previous, NULL, NULL, err);
    }
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    *out = sc;
    sc.instance_id = NULL;
cleanup:
    ec2ha_state_change_free(&sc);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- <return>true</return> and AssociateAddress ----------------------------------- */

/* The <return> child, when present, must say true. */
static ec2ha_rc check_return(const xmlNode *root, bool required, ec2ha_error *err)
{
    char *value = NULL;
    const char *what = elem_name(root);
    ec2ha_rc rc = EC2HA_OK;

    if (child_text(root, "return", &value) != EC2HA_OK) {
        return nomem(err, what);
    }
    if (value == NULL) {
        if (required) {
            rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s has no <return> element", what);
        }
    } else if (strcmp(value, "false") == 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_STATE, "%s says return=false: EC2 did not do it",
                             what);
    } else if (strcmp(value, "true") != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: <return> is '%.40s', not true or false",
                             what, value);
    }
    free(value);
    return rc;
}

ec2ha_rc ec2ha_ec2_parse_associate_address(const char *xml, size_t len, char **association_id_out,
                                           ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNode *root = NULL;
    char *id = NULL;
    ec2ha_rc rc;

    if (association_id_out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "parse_associate_address: out is NULL");
    }
    *association_id_out = NULL;
    rc = read_expected(xml, len, "AssociateAddressResponse", NULL, &doc, &root, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = check_return(root, false, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    if (child_text(root, "associationId", &id) != EC2HA_OK) {
        rc = nomem(err, "AssociateAddressResponse");
        goto cleanup;
    }
    *association_id_out = id;
    id = NULL;
cleanup:
    free(id);
    xmlFreeDoc(doc);
    return rc;
}

ec2ha_rc ec2ha_ec2_parse_return(const char *xml, size_t len, ec2ha_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNode *root;
    size_t name_len;
    ec2ha_rc rc;

    rc = xml_read(xml, len, "EC2 response", &doc, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    root = xmlDocGetRootElement(doc);
    rc = error_from_root(root, 0, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    name_len = strlen(elem_name(root));
    if (name_len <= strlen("Response") ||
        strcmp(elem_name(root) + name_len - strlen("Response"), "Response") != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_PARSE,
                             "expected an EC2 <...Response> document, but the root element is "
                             "<%.64s>", elem_name(root));
        goto cleanup;
    }
    rc = check_return(root, true, err);
cleanup:
    xmlFreeDoc(doc);
    return rc;
}
