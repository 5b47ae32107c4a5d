/*
 * ec2ha/runtime.h - small state files in the runtime directory.
 *
 * The runtime directory ($HA_RSCTMP, else /run/ec2ha: tmpfs, emptied at boot)
 * holds what one agent run leaves for the next: the IMDS cache, the eip
 * agent's record marker.  Files there are written atomically (a temporary
 * file, then rename) with mode 0600, and read only when they are regular files
 * of ours with mode 0600, never through a symlink.  The directory is made 0700
 * when missing and refused when it is not a directory, belongs to another user
 * or is world-writable without the sticky bit.
 */
#ifndef EC2HA_RUNTIME_H
#define EC2HA_RUNTIME_H

#include <stddef.h>
#include <time.h>

#include "ec2ha/buf.h"
#include "ec2ha/error.h"

#define EC2HA_RUNTIME_DEFAULT_DIR "/run/ec2ha"

/* $HA_RSCTMP when set and not empty, else EC2HA_RUNTIME_DEFAULT_DIR. */
const char *ec2ha_runtime_dir_default(void);

/* Replace path (in dir) with data; dir is checked (and made) first. */
ec2ha_rc ec2ha_runtime_file_write(const char *dir, const char *path, const void *data,
                                  size_t len, ec2ha_error *err);

/*
 * Append the whole of path to out (initialised by the caller, whose cap bounds
 * the read).  mtime_out (may be NULL) gets the file's modification time.
 * EC2HA_ERR_NOT_FOUND when there is no such file.
 */
ec2ha_rc ec2ha_runtime_file_read(const char *path, ec2ha_buf *out, time_t *mtime_out,
                                 ec2ha_error *err);

#endif
