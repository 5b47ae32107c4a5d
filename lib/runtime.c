/*
 * runtime.c - small state files in the runtime directory (see ec2ha/runtime.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ec2ha/runtime.h"

const char *ec2ha_runtime_dir_default(void)
{
    const char *v = getenv("HA_RSCTMP");

    return v != NULL && v[0] != '\0' ? v : EC2HA_RUNTIME_DEFAULT_DIR;
}

/* Make dir 0700 when missing; refuse a symlink or someone else's directory. */
static ec2ha_rc dir_ok(const char *dir, ec2ha_error *err)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    }
    if (lstat(dir, &st) != 0) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "cannot stat %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "%s is not a directory", dir);
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "%s belongs to another user", dir);
    }
    if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0) {
        return ec2ha_error_set(err, EC2HA_ERR_IO, "%s is world-writable", dir);
    }
    return EC2HA_OK;
}

ec2ha_rc ec2ha_runtime_file_write(const char *dir, const char *path, const void *data,
                                  size_t len, ec2ha_error *err)
{
    const char *bytes = data;
    const char *base = strrchr(path, '/');
    char *tmp = NULL;
    int fd = -1;
    size_t off = 0;
    ec2ha_rc rc;

    rc = dir_ok(dir, err);
    if (rc != EC2HA_OK) {
        goto done;
    }
    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base != NULL ? base + 1 : path) < 0) {
        tmp = NULL;
        rc = ec2ha_error_set(err, EC2HA_ERR_NOMEM, "out of memory");
        goto done;
    }
    fd = mkostemp(tmp, O_CLOEXEC);   /* creates 0600 */
    if (fd < 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot create a file in %s: %s", dir,
                             strerror(errno));
        free(tmp);
        tmp = NULL;
        goto done;
    }
    if (fchmod(fd, 0600) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot chmod %s: %s", tmp, strerror(errno));
        goto done;
    }
    while (off < len) {
        ssize_t n = write(fd, bytes + off, len - off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot write %s: %s", tmp,
                                 n < 0 ? strerror(errno) : "short write");
            goto done;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot rename %s to %s: %s", tmp, path,
                             strerror(errno));
        goto done;
    }
    free(tmp);
    tmp = NULL;
    rc = EC2HA_OK;
done:
    if (fd >= 0) {
        close(fd);
    }
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    return rc;
}

ec2ha_rc ec2ha_runtime_file_read(const char *path, ec2ha_buf *out, time_t *mtime_out,
                                 ec2ha_error *err)
{
    struct stat st;
    char chunk[4096];
    int fd = -1;
    ec2ha_rc rc = EC2HA_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        rc = ec2ha_error_set(err, errno == ENOENT ? EC2HA_ERR_NOT_FOUND : EC2HA_ERR_IO,
                             "cannot open %s: %s", path, strerror(errno));
        goto done;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0) {
        rc = ec2ha_error_set(err, EC2HA_ERR_IO,
                             "%s is not a regular file of ours with mode 0600; ignoring it",
                             path);
        goto done;
    }
    if (mtime_out != NULL) {
        *mtime_out = st.st_mtime;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = ec2ha_error_set(err, EC2HA_ERR_IO, "cannot read %s: %s", path,
                                 strerror(errno));
            goto done;
        }
        if (n == 0) {
            break;
        }
        rc = ec2ha_buf_append(out, chunk, (size_t)n);
        if (rc != EC2HA_OK) {
            ec2ha_error_set(err, rc, "%s is too large", path);
            goto done;
        }
    }
done:
    ec2ha_secure_zero(chunk, sizeof(chunk));
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}
