/*
 * ec2_xml_stream.c - DescribeInstancesResponse parsed as it arrives: libxml2's
 * SAX2 push parser with our own element handlers, building the ec2ha_instance
 * list directly.  No DOM: a 1000-instance page used to cost a tree of some
 * 200,000 nodes, built and freed again, for the few dozen fields we keep.
 *
 * It reads exactly what the DOM parsers of ec2_xml.c read: elements by local
 * name (namespaces ignored; a prefix bound to no namespace makes a name match
 * nothing, as in libxml2's tree), only the children a path names (instancesSet
 * item / privateIpAddress is never a deeper privateIpAddressesSet one), the
 * first of each single-valued child (the first <placement>, the first <code>),
 * the direct text of a field (CDATA included, nested elements' text not),
 * trimmed, an empty field read as absent except a tag's key and value.  The
 * checks run in the DOM parser's order when an instance closes (instanceId,
 * state code, tags, network interfaces), so the same document gives the same
 * result and the same message.  Counts are checked as elements open (no list
 * ever grows past its cap).
 *
 * Hardening as in ec2_xml.c: XML_PARSE_NONET, no entity substitution, a
 * DOCTYPE stops the parser before any declaration is read, libxml2's depth
 * limit, no diagnostics printed.  A document whose root is not
 * DescribeInstancesResponse (an EC2 error document at HTTP 200, a proxy's
 * page) is kept and handed to the DOM error path of ec2_xml.c once complete:
 * error documents are small, and that path already knows every shape.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "ec2_private.h"
#include "ec2ha/ec2.h"
#include "ec2ha/http.h"

#define DOC_NAME "DescribeInstancesResponse"
#define WHAT_INSTANCE "DescribeInstancesResponse instance"
#define WHAT_INTERFACE "DescribeInstancesResponse networkInterfaceSet item"

#define PARSE_OPTIONS \
    (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | \
     XML_PARSE_NOWARNING)

/* Deepest path we follow: root/reservationSet/item/instancesSet/item/networkInterfaceSet/
 * item/attachment/deviceIndex, under the document. */
#define MAX_FRAMES 12
/* Text of a bad integer quoted in a message ('%.40s' as the DOM parser). */
#define BAD_TEXT_MAX 48

typedef enum node_kind {
    K_DOC,
    K_ROOT,
    K_RESERVATIONS,
    K_RESERVATION,
    K_INSTANCES,
    K_INSTANCE,
    K_STATE,
    K_PLACEMENT,
    K_TAGS,
    K_TAG,
    K_INTERFACES,
    K_INTERFACE,
    K_ASSOCIATION,
    K_ATTACHMENT,
    /* text fields from here on */
    K_NEXT_TOKEN,
    K_INSTANCE_ID,
    K_STATE_CODE,
    K_STATE_NAME,
    K_PRIVATE_IP,
    K_PRIVATE_DNS,
    K_PUBLIC_IP,
    K_ZONE,
    K_TAG_KEY,
    K_TAG_VALUE,
    K_ENI_ID,
    K_ENI_MAC,
    K_ENI_PRIVATE_IP,
    K_ENI_PUBLIC_IP,
    K_ENI_DEVICE_INDEX
} node_kind;

#define K_FIRST_TEXT K_NEXT_TOKEN

/*
 * The children each element we read knows, grouped by parent (on_start relies
 * on it).  Not repeated: only the first one counts.  At most 32 rows (a bit
 * each in frame.seen).
 */
static const struct {
    node_kind parent;
    const char *name;
    node_kind kind;
    bool repeated;
} children[] = {
    { K_ROOT, "reservationSet", K_RESERVATIONS, false },
    { K_ROOT, "nextToken", K_NEXT_TOKEN, false },
    { K_RESERVATIONS, "item", K_RESERVATION, true },
    { K_RESERVATION, "instancesSet", K_INSTANCES, false },
    { K_INSTANCES, "item", K_INSTANCE, true },
    { K_INSTANCE, "instanceId", K_INSTANCE_ID, false },
    { K_INSTANCE, "instanceState", K_STATE, false },
    { K_INSTANCE, "privateIpAddress", K_PRIVATE_IP, false },
    { K_INSTANCE, "privateDnsName", K_PRIVATE_DNS, false },
    { K_INSTANCE, "ipAddress", K_PUBLIC_IP, false },
    { K_INSTANCE, "placement", K_PLACEMENT, false },
    { K_INSTANCE, "tagSet", K_TAGS, false },
    { K_INSTANCE, "networkInterfaceSet", K_INTERFACES, false },
    { K_STATE, "code", K_STATE_CODE, false },
    { K_STATE, "name", K_STATE_NAME, false },
    { K_PLACEMENT, "availabilityZone", K_ZONE, false },
    { K_TAGS, "item", K_TAG, true },
    { K_TAG, "key", K_TAG_KEY, false },
    { K_TAG, "value", K_TAG_VALUE, false },
    { K_INTERFACES, "item", K_INTERFACE, true },
    { K_INTERFACE, "networkInterfaceId", K_ENI_ID, false },
    { K_INTERFACE, "macAddress", K_ENI_MAC, false },
    { K_INTERFACE, "privateIpAddress", K_ENI_PRIVATE_IP, false },
    { K_INTERFACE, "association", K_ASSOCIATION, false },
    { K_INTERFACE, "attachment", K_ATTACHMENT, false },
    { K_ASSOCIATION, "publicIp", K_ENI_PUBLIC_IP, false },
    { K_ATTACHMENT, "deviceIndex", K_ENI_DEVICE_INDEX, false },
};
_Static_assert(sizeof(children) / sizeof(children[0]) <= 32, "frame.seen has 32 bits");

typedef struct frame {
    node_kind kind;
    uint32_t seen;              /* bit i: children[i] already met under this element */
} frame;

typedef enum root_state { ROOT_UNKNOWN, ROOT_OURS, ROOT_OTHER } root_state;

/* An integer field: absent, a number, or text that is not one (kept for the message). */
typedef struct int_field {
    bool present;
    bool bad;
    long value;
    char text[BAD_TEXT_MAX];
} int_field;

typedef enum eni_problem { ENI_OK, ENI_NO_ID, ENI_BAD_INDEX, ENI_INDEX_RANGE } eni_problem;

struct ec2_instances_parser {
    xmlParserCtxtPtr ctxt;
    const char *whole;          /* one-shot parse: the document itself */
    size_t whole_len;
    ec2ha_buf kept;             /* streaming: the body until its root is known to be ours */
    size_t fed;                 /* bytes given to feed() */
    long http_status;
    root_state root;
    bool root_closed;
    bool saw_dtd;
    bool failed;                /* a handler refused the document: rc, message */
    ec2ha_rc rc;
    char message[EC2HA_ERROR_MESSAGE_MAX];

    frame frames[MAX_FRAMES];
    int depth;
    unsigned skip;              /* open elements at and below one we ignore */
    char *text;                 /* characters of the open text field */
    size_t text_len;
    size_t text_cap;

    ec2ha_instance_list list;
    size_t list_cap;
    size_t tags_cap;            /* of the open instance */
    size_t interfaces_cap;
    char *next_token;

    /* the open instance's checks, made when it closes */
    int_field code;
    bool tag_without_key;
    eni_problem eni;            /* the first interface problem */
    int_field eni_index;        /* its deviceIndex, for the message */
    int_field index;            /* the open interface's deviceIndex */
};

/* ---- failure inside a handler --------------------------------------------------- */

static void fail(ec2_instances_parser *p, ec2ha_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(ec2_instances_parser *p, ec2ha_rc rc, const char *fmt, ...)
{
    va_list ap;

    if (!p->failed) {
        p->failed = true;
        p->rc = rc;
        va_start(ap, fmt);
        vsnprintf(p->message, sizeof(p->message), fmt, ap);
        va_end(ap);
    }
    xmlStopParser(p->ctxt);
}

static void fail_nomem(ec2_instances_parser *p, const char *what)
{
    fail(p, EC2HA_ERR_NOMEM, "%s: out of memory", what);
}

/* ---- growing arrays ------------------------------------------------------------- */

static bool grow(void **items, size_t *cap, size_t count, size_t size, size_t first)
{
    size_t n;
    void *q;

    if (count < *cap) {
        return true;
    }
    n = *cap == 0 ? first : *cap * 2;
    q = realloc(*items, n * size);
    if (q == NULL) {
        return false;
    }
    *items = q;
    *cap = n;
    return true;
}

static ec2ha_instance *open_instance(ec2_instances_parser *p)
{
    return &p->list.items[p->list.count - 1];
}

/* ---- elements ------------------------------------------------------------------- */

static void start_instance(ec2_instances_parser *p)
{
    ec2ha_instance *inst;

    if (p->list.count >= EC2_XML_MAX_ITEMS) {
        fail(p, EC2HA_ERR_PARSE,
             "DescribeInstancesResponse has more than %d instances in one page; refusing it",
             EC2_XML_MAX_ITEMS);
        return;
    }
    if (!grow((void **)&p->list.items, &p->list_cap, p->list.count, sizeof(*p->list.items),
              64)) {
        fail_nomem(p, DOC_NAME);
        return;
    }
    inst = &p->list.items[p->list.count++];
    memset(inst, 0, sizeof(*inst));
    inst->state = EC2HA_STATE_UNKNOWN;
    inst->state_code = -1;
    p->tags_cap = 0;
    p->interfaces_cap = 0;
    memset(&p->code, 0, sizeof(p->code));
    p->tag_without_key = false;
    p->eni = ENI_OK;
}

static const char *instance_id_for_message(ec2_instances_parser *p)
{
    const char *id = open_instance(p)->instance_id;

    return id != NULL ? id : "(instanceId not yet read)";
}

static void start_tag(ec2_instances_parser *p)
{
    ec2ha_instance *inst = open_instance(p);

    if (inst->n_tags >= EC2_XML_MAX_TAGS) {
        fail(p, EC2HA_ERR_PARSE, "%s %s has more tags than the %d accepted", WHAT_INSTANCE,
             instance_id_for_message(p), EC2_XML_MAX_TAGS);
        return;
    }
    if (!grow((void **)&inst->tags, &p->tags_cap, inst->n_tags, sizeof(*inst->tags), 4)) {
        fail_nomem(p, WHAT_INSTANCE);
        return;
    }
    memset(&inst->tags[inst->n_tags++], 0, sizeof(*inst->tags));
}

static void start_interface(ec2_instances_parser *p)
{
    ec2ha_instance *inst = open_instance(p);
    ec2ha_network_interface *ni;

    if (inst->n_interfaces >= EC2_XML_MAX_INTERFACES) {
        fail(p, EC2HA_ERR_PARSE, "%s %s has more network interfaces than the %d accepted",
             WHAT_INSTANCE, instance_id_for_message(p), EC2_XML_MAX_INTERFACES);
        return;
    }
    if (!grow((void **)&inst->interfaces, &p->interfaces_cap, inst->n_interfaces,
              sizeof(*inst->interfaces), 2)) {
        fail_nomem(p, WHAT_INSTANCE);
        return;
    }
    ni = &inst->interfaces[inst->n_interfaces++];
    memset(ni, 0, sizeof(*ni));
    ni->device_index = -1;
    memset(&p->index, 0, sizeof(p->index));
}

/* The DOM parser's checks on a closed interface: networkInterfaceId, then deviceIndex. */
static void end_interface(ec2_instances_parser *p)
{
    ec2ha_instance *inst = open_instance(p);
    ec2ha_network_interface *ni = &inst->interfaces[inst->n_interfaces - 1];
    eni_problem problem = ENI_OK;

    if (ni->interface_id == NULL) {
        problem = ENI_NO_ID;
    } else if (p->index.bad) {
        problem = ENI_BAD_INDEX;
    } else if (p->index.present) {
        if (p->index.value < 0 || p->index.value > INT_MAX) {
            problem = ENI_INDEX_RANGE;
        } else {
            ni->device_index = (int)p->index.value;
        }
    }
    if (problem != ENI_OK && p->eni == ENI_OK) {
        p->eni = problem;
        p->eni_index = p->index;
    }
}

static void end_tag(ec2_instances_parser *p)
{
    ec2ha_instance *inst = open_instance(p);
    ec2ha_tag *tag = &inst->tags[inst->n_tags - 1];

    if (tag->key == NULL) {
        p->tag_without_key = true;
    } else if (tag->value == NULL && (tag->value = strdup("")) == NULL) {
        fail_nomem(p, WHAT_INSTANCE);
    }
}

/* The DOM parser's checks on an instance, in its order. */
static void end_instance(ec2_instances_parser *p)
{
    ec2ha_instance *inst = open_instance(p);

    if (inst->instance_id == NULL) {
        fail(p, EC2HA_ERR_PARSE, "%s without an instanceId", WHAT_INSTANCE);
        return;
    }
    if (p->code.bad) {
        fail(p, EC2HA_ERR_PARSE, "%s: <code> is '%.40s', not an integer", WHAT_INSTANCE,
             p->code.text);
        return;
    }
    inst->state_code = p->code.present ? p->code.value : -1;
    inst->state = ec2_state_resolve(p->code.present, p->code.value, inst->state_name);
    if (p->tag_without_key) {
        fail(p, EC2HA_ERR_PARSE, "%s %s has a tag without a key", WHAT_INSTANCE,
             inst->instance_id);
        return;
    }
    switch (p->eni) {
    case ENI_NO_ID:
        fail(p, EC2HA_ERR_PARSE, "%s without a networkInterfaceId", WHAT_INTERFACE);
        break;
    case ENI_BAD_INDEX:
        fail(p, EC2HA_ERR_PARSE, "%s: <deviceIndex> is '%.40s', not an integer", WHAT_INTERFACE,
             p->eni_index.text);
        break;
    case ENI_INDEX_RANGE:
        fail(p, EC2HA_ERR_PARSE, "%s: deviceIndex %ld out of range", WHAT_INTERFACE,
             p->eni_index.value);
        break;
    case ENI_OK:
        break;
    }
}

/* ---- text fields ----------------------------------------------------------------- */

static void parse_int(const char *s, int_field *f)
{
    char *end = NULL;

    memset(f, 0, sizeof(*f));
    if (s == NULL) {
        return;
    }
    errno = 0;
    f->value = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        f->bad = true;
        snprintf(f->text, sizeof(f->text), "%s", s);
        return;
    }
    f->present = true;
}

/* Where a text field's value goes; NULL for the integers, kept in p. */
static char **text_slot(ec2_instances_parser *p, node_kind kind)
{
    ec2ha_instance *inst;
    ec2ha_network_interface *ni;

    if (kind == K_NEXT_TOKEN) {
        return &p->next_token;
    }
    inst = open_instance(p);
    ni = inst->n_interfaces > 0 ? &inst->interfaces[inst->n_interfaces - 1] : NULL;
    switch (kind) {
    case K_INSTANCE_ID:
        return &inst->instance_id;
    case K_STATE_NAME:
        return &inst->state_name;
    case K_PRIVATE_IP:
        return &inst->private_ip;
    case K_PRIVATE_DNS:
        return &inst->private_dns;
    case K_PUBLIC_IP:
        return &inst->public_ip;
    case K_ZONE:
        return &inst->availability_zone;
    case K_TAG_KEY:
        return &inst->tags[inst->n_tags - 1].key;
    case K_TAG_VALUE:
        return &inst->tags[inst->n_tags - 1].value;
    case K_ENI_ID:
        return &ni->interface_id;
    case K_ENI_MAC:
        return &ni->mac_address;
    case K_ENI_PRIVATE_IP:
        return &ni->private_ip;
    case K_ENI_PUBLIC_IP:
        return &ni->public_ip;
    default:
        return NULL;
    }
}

/* A text field closes: trim, store (empty is absent, except a tag's key and value). */
static void end_text(ec2_instances_parser *p, node_kind kind)
{
    bool keep_empty = kind == K_TAG_KEY || kind == K_TAG_VALUE;
    size_t start = 0;
    size_t end = p->text_len;
    char *s = NULL;
    char **slot;

    while (start < end && isspace((unsigned char)p->text[start])) {
        start++;
    }
    while (end > start && isspace((unsigned char)p->text[end - 1])) {
        end--;
    }
    if (end > start || keep_empty) {
        s = malloc(end - start + 1);
        if (s == NULL) {
            fail_nomem(p, DOC_NAME);
            return;
        }
        if (end > start) {
            memcpy(s, p->text + start, end - start);
        }
        s[end - start] = '\0';
    }
    if (kind == K_STATE_CODE || kind == K_ENI_DEVICE_INDEX) {
        parse_int(s, kind == K_STATE_CODE ? &p->code : &p->index);
        free(s);
        return;
    }
    slot = text_slot(p, kind);
    if (slot == NULL || *slot != NULL) {
        free(s);        /* cannot happen: only the first of each field is read */
        return;
    }
    *slot = s;
}

/* ---- SAX2 handlers ----------------------------------------------------------------- */

static ec2_instances_parser *parser_of(void *ctx)
{
    return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Stop at the DOCTYPE, before any declaration is read. */
static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                               const xmlChar *system_id)
{
    ec2_instances_parser *p = parser_of(ctx);

    p->saw_dtd = true;
    xmlStopParser(p->ctxt);
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    ec2_instances_parser *p = parser_of(ctx);
    const char *name = (const char *)localname;
    frame *top;
    node_kind kind = K_DOC;
    bool known = false;
    size_t i;

    if (p->failed) {
        return;
    }
    if (p->skip > 0) {
        p->skip++;
        return;
    }
    top = &p->frames[p->depth - 1];
    /* "ec2:x" with ec2 bound to nothing is not x: libxml2's tree names it "ec2:x" */
    if (prefix != NULL && uri == NULL) {
        name = NULL;
    }
    if (top->kind == K_DOC) {
        if (name != NULL && strcmp(name, DOC_NAME) == 0) {
            p->root = ROOT_OURS;
            p->frames[p->depth++] = (frame){ K_ROOT, 0 };
        } else {
            p->root = ROOT_OTHER;      /* read whole by the DOM error path */
            xmlStopParser(p->ctxt);
        }
        return;
    }
    if (top->kind < K_FIRST_TEXT && name != NULL) {
        bool in_group = false;

        /* children[] is grouped by parent: stop once past this parent's rows */
        for (i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
            if (children[i].parent != top->kind) {
                if (in_group) {
                    break;
                }
                continue;
            }
            in_group = true;
            if (children[i].name[0] == name[0] && strcmp(children[i].name, name) == 0) {
                if (children[i].repeated || !(top->seen & (UINT32_C(1) << i))) {
                    top->seen |= UINT32_C(1) << i;
                    kind = children[i].kind;
                    known = true;
                }
                break;
            }
        }
    }
    if (!known || p->depth >= MAX_FRAMES) {
        p->skip = 1;
        return;
    }
    switch (kind) {
    case K_INSTANCE:
        start_instance(p);
        break;
    case K_TAG:
        start_tag(p);
        break;
    case K_INTERFACE:
        start_interface(p);
        break;
    default:
        if (kind >= K_FIRST_TEXT) {
            p->text_len = 0;
        }
        break;
    }
    if (p->failed) {
        return;
    }
    p->frames[p->depth++] = (frame){ kind, 0 };
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                   const xmlChar *uri)
{
    ec2_instances_parser *p = parser_of(ctx);
    node_kind kind;

    if (p->failed) {
        return;
    }
    if (p->skip > 0) {
        p->skip--;
        return;
    }
    if (p->depth <= 1) {
        return;
    }
    kind = p->frames[--p->depth].kind;
    if (kind == K_ROOT) {
        p->root_closed = true;
    }
    if (kind >= K_FIRST_TEXT) {
        end_text(p, kind);
        return;
    }
    switch (kind) {
    case K_INSTANCE:
        end_instance(p);
        break;
    case K_TAG:
        end_tag(p);
        break;
    case K_INTERFACE:
        end_interface(p);
        break;
    default:
        break;
    }
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
    ec2_instances_parser *p = parser_of(ctx);
    size_t n = len > 0 ? (size_t)len : 0;
    size_t cap;
    char *t;

    if (p->failed || p->skip > 0 || p->frames[p->depth - 1].kind < K_FIRST_TEXT || n == 0) {
        return;
    }
    if (p->text_len + n > p->text_cap) {
        cap = p->text_cap > 0 ? p->text_cap : 64;
        while (cap < p->text_len + n) {
            cap *= 2;
        }
        t = realloc(p->text, cap);
        if (t == NULL) {
            fail_nomem(p, DOC_NAME);
            return;
        }
        p->text = t;
        p->text_cap = cap;
    }
    memcpy(p->text + p->text_len, ch, n);
    p->text_len += n;
}

/* Diagnostics go to ctxt->lastError (read into the message), never to stderr. */
static void on_structured_error(void *ctx, xmlErrorPtr error)
{
}

/* ---- the parser ---------------------------------------------------------------------- */

static void drop_results(ec2_instances_parser *p)
{
    ec2ha_instance_list_free(&p->list);
    p->list_cap = 0;
    free(p->next_token);
    p->next_token = NULL;
}

ec2ha_rc ec2_instances_parser_new(ec2_instances_parser **out, ec2ha_error *err)
{
    ec2_instances_parser *p;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "%s: out of memory", DOC_NAME);
    }
    ec2ha_buf_init(&p->kept, EC2HA_HTTP_MAX_RESPONSE_BYTES);
    *out = p;
    return EC2HA_OK;
}

void ec2_instances_parser_free(ec2_instances_parser *p)
{
    if (p == NULL) {
        return;
    }
    if (p->ctxt != NULL) {
        p->ctxt->_private = NULL;
        xmlFreeParserCtxt(p->ctxt);
    }
    ec2ha_buf_free(&p->kept);
    free(p->text);
    drop_results(p);
    free(p);
}

ec2ha_rc ec2_instances_parser_reset(ec2_instances_parser *p, long http_status, ec2ha_error *err)
{
    xmlSAXHandler sax;

    if (p->ctxt != NULL) {
        p->ctxt->_private = NULL;
        xmlFreeParserCtxt(p->ctxt);
        p->ctxt = NULL;
    }
    drop_results(p);
    ec2ha_buf_reset(&p->kept);
    p->whole = NULL;
    p->whole_len = 0;
    p->fed = 0;
    p->http_status = http_status;
    p->root = ROOT_UNKNOWN;
    p->root_closed = false;
    p->saw_dtd = false;
    p->failed = false;
    p->rc = EC2HA_OK;
    p->message[0] = '\0';
    p->depth = 1;
    p->frames[0] = (frame){ K_DOC, 0 };
    p->skip = 0;
    p->text_len = 0;

    xmlInitParser();
    memset(&sax, 0, sizeof(sax));
    sax.initialized = XML_SAX2_MAGIC;
    sax.internalSubset = on_internal_subset;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_characters;
    sax.serror = on_structured_error;
    p->ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
    if (p->ctxt == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_NOMEM, "%s: out of memory creating an XML parser",
                               DOC_NAME);
    }
    /* NOBLANKS and NOCDATA as the DOM parsers: CDATA arrives as characters */
    xmlCtxtUseOptions(p->ctxt, PARSE_OPTIONS);
    p->ctxt->_private = p;
    return EC2HA_OK;
}

/* Why the parser stopped, or EC2HA_OK while it reads on. */
static ec2ha_rc verdict(ec2_instances_parser *p, int xml_rc, bool terminated, ec2ha_error *err)
{
    const xmlError *e;
    char detail[512];

    if (p->failed) {
        return ec2ha_error_set(err, p->rc, "%s", p->message);
    }
    if (p->saw_dtd) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE,
                               "%s: the document has a DOCTYPE, which EC2 never sends; refused "
                               "without reading it (no entity is expanded)", DOC_NAME);
    }
    if (p->root == ROOT_OTHER) {
        return EC2HA_OK;        /* decided at finish(), on the whole document */
    }
    if (xml_rc != 0 || !p->ctxt->wellFormed) {
        e = xmlCtxtGetLastError(p->ctxt);
        if (terminated && p->root == ROOT_OURS && !p->root_closed &&
            (e == NULL || e->code == XML_ERR_DOCUMENT_END)) {
            /* libxml2's push parser calls a cut document "extra content at the end" */
            snprintf(detail, sizeof(detail), "the document ends before its </%s>, cut short "
                     "(line %d)", DOC_NAME, e != NULL ? e->line : 0);
        } else {
            ec2_xml_error_text(e, detail, sizeof(detail));
        }
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: not well-formed XML (%zu bytes): %s",
                               DOC_NAME, p->fed, detail);
    }
    return EC2HA_OK;
}

static ec2ha_rc refused(ec2_instances_parser *p, ec2ha_rc rc, ec2ha_error *err)
{
    /* a broken 2xx body is retried like a cut transfer; a one-shot parse (status 0)
     * leaves the caller's fields alone */
    if (err != NULL && p->http_status != 0 && err->http_status == 0) {
        err->http_status = p->http_status;
    }
    drop_results(p);
    p->failed = true;
    p->rc = rc;
    snprintf(p->message, sizeof(p->message), "%s",
             err != NULL ? err->message : ec2ha_rc_str(rc));
    return rc;
}

/* Feed libxml2 (in pieces it takes: an int at a time) until it stops. */
static ec2ha_rc push(ec2_instances_parser *p, const char *data, size_t len, bool terminate,
                     ec2ha_error *err)
{
    int xml_rc = 0;
    ec2ha_rc rc;

    do {
        int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;

        xml_rc = xmlParseChunk(p->ctxt, data, n, terminate && (size_t)n == len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
        rc = verdict(p, xml_rc, terminate && len == 0, err);
        if (rc != EC2HA_OK) {
            return refused(p, rc, err);
        }
    } while (len > 0 && p->root != ROOT_OTHER);
    return EC2HA_OK;
}

ec2ha_rc ec2_instances_parser_feed(ec2_instances_parser *p, const char *data, size_t len,
                                   ec2ha_error *err)
{
    ec2ha_rc rc;

    if (p->ctxt == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "%s parser fed before reset", DOC_NAME);
    }
    if (p->failed) {
        return ec2ha_error_set(err, p->rc, "%s", p->message);
    }
    if (len == 0) {
        return EC2HA_OK;
    }
    p->fed += len;
    if (p->root != ROOT_OURS && p->whole == NULL) {
        /* kept until the root is known; all of it when the root is not ours */
        rc = ec2ha_buf_append(&p->kept, data, len);
        if (rc != EC2HA_OK) {
            ec2ha_error_set(err, rc, "%s: %s keeping a %zu-byte body", DOC_NAME,
                            rc == EC2HA_ERR_TOO_LARGE ? "too large" : "out of memory", p->fed);
            return refused(p, rc, err);
        }
    }
    if (p->root == ROOT_OTHER) {
        return EC2HA_OK;
    }
    rc = push(p, data, len, false, err);
    if (rc == EC2HA_OK && p->root == ROOT_OURS && p->kept.data != NULL) {
        ec2ha_buf_free(&p->kept);
        ec2ha_buf_init(&p->kept, EC2HA_HTTP_MAX_RESPONSE_BYTES);
    }
    return rc;
}

ec2ha_rc ec2_instances_parser_finish(ec2_instances_parser *p, ec2ha_instance_list *out,
                                     char **next_token_out, ec2ha_error *err)
{
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "parse_describe_instances: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    if (next_token_out != NULL) {
        *next_token_out = NULL;
    }
    if (p->ctxt == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "%s parser finished before reset",
                               DOC_NAME);
    }
    if (p->failed) {
        return ec2ha_error_set(err, p->rc, "%s", p->message);
    }
    if (p->fed == 0) {
        return refused(p, ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                          "%s: the response body is empty", DOC_NAME), err);
    }
    if (p->root != ROOT_OTHER) {
        rc = push(p, NULL, 0, true, err);
        if (rc != EC2HA_OK) {
            return rc;
        }
    }
    if (p->root != ROOT_OURS) {
        /* an error document, another answer, or no root at all: the DOM path says which */
        if (p->whole != NULL) {
            rc = ec2_xml_not_expected(p->whole, p->whole_len, DOC_NAME, err);
        } else {
            rc = ec2_xml_not_expected(ec2ha_buf_str(&p->kept), p->kept.len, DOC_NAME, err);
        }
        return refused(p, rc, err);
    }
    if (!p->root_closed) {
        /* libxml2 refuses a cut document at terminate; this does not depend on it */
        return refused(p, ec2ha_error_set(err, EC2HA_ERR_PARSE,
                                          "%s ends before its </%s>, cut short", DOC_NAME,
                                          DOC_NAME), err);
    }
    *out = p->list;
    memset(&p->list, 0, sizeof(p->list));
    p->list_cap = 0;
    if (next_token_out != NULL) {
        *next_token_out = p->next_token;
        p->next_token = NULL;
    }
    drop_results(p);
    return EC2HA_OK;
}

ec2ha_rc ec2ha_ec2_parse_describe_instances(const char *xml, size_t len, ec2ha_instance_list *out,
                                            char **next_token_out, ec2ha_error *err)
{
    ec2_instances_parser *p = NULL;
    ec2ha_rc rc;

    if (out == NULL) {
        return ec2ha_error_set(err, EC2HA_ERR_INVALID, "parse_describe_instances: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    if (next_token_out != NULL) {
        *next_token_out = NULL;
    }
    if (xml == NULL || len == 0) {
        return ec2ha_error_set(err, EC2HA_ERR_PARSE, "%s: the response body is empty", DOC_NAME);
    }
    if (len > (size_t)INT_MAX) {
        return ec2ha_error_set(err, EC2HA_ERR_TOO_LARGE, "%s: %zu bytes is too large to parse",
                               DOC_NAME, len);
    }
    rc = ec2_instances_parser_new(&p, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = ec2_instances_parser_reset(p, 0, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    p->whole = xml;             /* no copy: the DOM error path reads it from here */
    p->whole_len = len;
    rc = ec2_instances_parser_feed(p, xml, len, err);
    if (rc != EC2HA_OK) {
        goto cleanup;
    }
    rc = ec2_instances_parser_finish(p, out, next_token_out, err);
cleanup:
    ec2_instances_parser_free(p);
    return rc;
}
