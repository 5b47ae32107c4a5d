/*
 * ec2_private.h - what the ec2 module's files (and its unit tests) share.
 */
#ifndef EC2HA_EC2_PRIVATE_H
#define EC2HA_EC2_PRIVATE_H

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

#endif
