/*
 * ec2_private.h - what the ec2 module's files (and its unit tests) share.
 */
#ifndef EC2HA_EC2_PRIVATE_H
#define EC2HA_EC2_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/ec2.h"

/*
 * Caps on element counts in one parsed document.  EC2 pages DescribeInstances
 * at 1000 with MaxResults and allows 50 tags per resource; these are far above
 * anything real and exist only so a hostile or broken endpoint cannot make the
 * agent allocate without bound (the body itself is capped by the http layer).
 */
#define EC2_XML_MAX_ITEMS 100000        /* instances or addresses in one document */
#define EC2_XML_MAX_TAGS 1000           /* tags on one instance */
#define EC2_XML_MAX_INTERFACES 256      /* network interfaces on one instance */

/* Pages followed by ec2ha_ec2_describe_instances before it gives up. */
#define EC2_MAX_PAGES 1000
/*
 * MaxResults asked for when the caller sets none and names no instance: EC2's
 * maximum, what boto3 (fence_aws) ends up with, so 10,000 instances are 11
 * round trips.  EC2 refuses MaxResults together with InstanceId, so it is
 * never added to a query by id.
 */
#define EC2_DEFAULT_MAX_RESULTS 1000

/* ---- shared by ec2_xml.c and ec2_xml_stream.c ---------------------------------- */

struct _xmlError;

/* A libxml2 message on one line, without its trailing newline, plus the line number. */
void ec2_xml_error_text(const struct _xmlError *e, char *out, size_t size);

/*
 * The state of an instanceState / currentState / previousState element: the
 * code is authoritative (low byte); when code and name disagree the state is
 * UNKNOWN, never a guess.  Without a code, the name decides.
 */
ec2ha_instance_state ec2_state_resolve(bool have_code, long code, const char *name);

/*
 * Why a document is not an `expected` one, with the DOM parser: DOCTYPE,
 * not well-formed, the AWS error document it is (EC2HA_ERR_AWS with code,
 * message and request id), or the root element it has.  Never EC2HA_OK.
 */
ec2ha_rc ec2_xml_not_expected(const char *xml, size_t len, const char *expected,
                              ec2ha_error *err);

/*
 * DescribeInstances, parsed as it arrives (ec2_xml_stream.c): a SAX2 push
 * parser that builds the ec2ha_instance list directly, no DOM.  Use:
 * reset() before each response (a retry starts afresh: partial results of the
 * previous attempt are dropped), feed() each piece, finish() once at the end.
 * ec2ha_ec2_parse_describe_instances() is reset + one feed + finish.  A feed
 * or finish that fails fills err (pass a cleared one: when reset() was given
 * an HTTP status, err->http_status is set to it if still 0, so a broken 2xx
 * body is retried like a cut transfer); the parser then refuses more input
 * until the next reset.
 */
typedef struct ec2_instances_parser ec2_instances_parser;

ec2ha_rc ec2_instances_parser_new(ec2_instances_parser **out, ec2ha_error *err);
ec2ha_rc ec2_instances_parser_reset(ec2_instances_parser *p, long http_status, ec2ha_error *err);
ec2ha_rc ec2_instances_parser_feed(ec2_instances_parser *p, const char *data, size_t len,
                                   ec2ha_error *err);
/* out and next_token_out (optional) as ec2ha_ec2_parse_describe_instances. */
ec2ha_rc ec2_instances_parser_finish(ec2_instances_parser *p, ec2ha_instance_list *out,
                                     char **next_token_out, ec2ha_error *err);
void ec2_instances_parser_free(ec2_instances_parser *p);

#endif
