/*
 * ec2ha/buf.h - bounded growable byte buffers (after curl's dynbuf).
 *
 * A buffer has a hard size cap fixed at init; an append that would pass the cap
 * or fails to allocate frees the buffer and returns an error, so a half-filled
 * buffer is never used by mistake.  The data is always NUL-terminated.
 * ec2ha_buf_free() wipes the memory first when the buffer was marked secret.
 */
#ifndef EC2HA_BUF_H
#define EC2HA_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "ec2ha/error.h"

#define EC2HA_BUF_DEFAULT_CAP ((size_t)16 * 1024 * 1024)

typedef struct ec2ha_buf {
    char *data;     /* NULL until the first append */
    size_t len;     /* bytes used, excluding the terminating NUL */
    size_t alloc;   /* bytes allocated */
    size_t cap;     /* hard limit on len */
    bool secret;    /* wipe on free */
} ec2ha_buf;

void ec2ha_buf_init(ec2ha_buf *b, size_t cap);
void ec2ha_buf_init_secret(ec2ha_buf *b, size_t cap);
ec2ha_rc ec2ha_buf_append(ec2ha_buf *b, const void *data, size_t len);
ec2ha_rc ec2ha_buf_append_str(ec2ha_buf *b, const char *s);
ec2ha_rc ec2ha_buf_printf(ec2ha_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pointer to the NUL-terminated contents ("" when empty). */
const char *ec2ha_buf_str(const ec2ha_buf *b);
/* Hand the contents to the caller (free() it; "" allocated when empty). NULL on OOM. */
char *ec2ha_buf_steal(ec2ha_buf *b);
void ec2ha_buf_reset(ec2ha_buf *b);   /* len = 0, keep allocation */
void ec2ha_buf_free(ec2ha_buf *b);    /* accepts NULL; wipes if secret */

/* Overwrite n bytes with zeros in a way the compiler cannot elide. */
void ec2ha_secure_zero(void *p, size_t n);
/* Wipe and free a NUL-terminated secret string. Accepts NULL. */
void ec2ha_free_secret(char *s);

#endif
