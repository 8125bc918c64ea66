/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "fault.h"
#include "ztp/err.h"

static const char MKSTEMP_TEMPLATE[] = { 'X', 'X', 'X', 'X', 'X', 'X', '\0' };

/* The directory and the base name of path. */
static void
split(const char *path, char *dir, size_t dircap, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, dircap, ".");
		*base = path;
	} else if (slash == path) {
		snprintf(dir, dircap, "/");
		*base = slash + 1;
	} else {
		snprintf(dir, dircap, "%.*s", (int)(slash - path), path);
		*base = slash + 1;
	}
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
    size_t errcap)
{
	return atomicfile_write_points(path, data, len, mode, NULL, err, errcap);
}

int
atomicfile_write_points(const char *path, const void *data, size_t len, mode_t mode,
    const char *points, char *err, size_t errcap)
{
	char dir[PATH_MAX], tmp[PATH_MAX + NAME_MAX + 16], point[128];
	const char *base;
	int fd = -1, dfd = -1, rc;

	if (path == NULL || strlen(path) >= PATH_MAX)
		return ztp_errf(err, errcap, ZTP_EINVAL, "bad path");
	split(path, dir, sizeof(dir), &base);
	/* mkstemp's template: six 'X' replaced by random characters */
	snprintf(tmp, sizeof(tmp), "%s/.%s.%.6s", dir, base, MKSTEMP_TEMPLATE);
	if ((fd = mkstemp(tmp)) < 0) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", tmp, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	snprintf(point, sizeof(point), "%s_before_rename", points ? points : "atomicfile");
	fault_point(point);
	if (rename(tmp, path) != 0) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0'; /* renamed: nothing to remove any more */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
		rc = ztp_errf(err, errcap, ZTP_EIO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(point, sizeof(point), "%s_after", points ? points : "atomicfile");
	fault_point(point);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return rc;
}

int
atomicfile_clean(const char *path)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 2], full[PATH_MAX + NAME_MAX + 2];
	const char *base;
	struct dirent *de;
	size_t plen;
	int n = 0;
	DIR *d;

	if (path == NULL || strlen(path) >= PATH_MAX)
		return 0;
	split(path, dir, sizeof(dir), &base);
	snprintf(prefix, sizeof(prefix), ".%s.", base);
	plen = strlen(prefix);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0 || strlen(de->d_name) != plen + 6)
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if (unlink(full) == 0)
			n++;
	}
	closedir(d);
	return n;
}
