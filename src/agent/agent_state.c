/* SPDX-License-Identifier: Apache-2.0 */
/* The files of ztp-agent's state directory (agent_state.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent_state.h"
#include "atomicfile.h"
#include "num.h"
#include "ztp/err.h"

int
agent_file_read(const char *path, size_t max, char **out, size_t *len, char *why,
    size_t whycap)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return ztp_errf(why, whycap, errno == ENOENT ? ZTP_ENOENT : ZTP_EIO, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ztp_errf(why, whycap, ZTP_EIO, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = ztp_errf(why, whycap, ZTP_ETOOBIG, "%s: over %zu bytes", path, max);
		goto out;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		rc = ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ztp_errf(why, whycap, ZTP_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			rc = ztp_errf(why, whycap, ZTP_ETOOBIG, "%s: over %zu bytes", path, max);
			goto out;
		}
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL)
		OPENSSL_clear_free(buf, max + 1);
	close(fd);
	return rc;
}

int
agent_file_secret(const char *path, size_t max, char **out, int *loose, char *why,
    size_t whycap)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, n = 0, i;
	int rc;

	*out = NULL;
	*loose = stat(path, &st) == 0 && (st.st_mode & 077) != 0;
	if ((rc = agent_file_read(path, max + 2, &buf, &len, why, whycap)) != 0)
		return rc;
	while (n < len && buf[n] != '\n' && buf[n] != '\r')
		n++;
	if (n == 0 || n > max) {
		rc = ztp_errf(why, whycap, ZTP_EINVAL, "%s: the first line must be 1 to %zu "
		    "characters", path, max);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e) {
			rc = ztp_errf(why, whycap, ZTP_EINVAL, "%s: the first line must be printable "
			    "ASCII", path);
			goto out;
		}
	if ((*out = malloc(n + 1)) == NULL) {
		rc = ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, buf, n);
	(*out)[n] = '\0';
	rc = 0;
out:
	OPENSSL_clear_free(buf, len + 1);
	return rc;
}

int
agent_file_get_u64(const char *path, uint64_t *v, char *why, size_t whycap)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*v = 0;
	rc = agent_file_read(path, 32, &buf, &len, why, whycap);
	if (rc == ZTP_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (num_parse_u64(buf, len, 0, UINT64_MAX, v) != 0)
		rc = ztp_errf(why, whycap, ZTP_EMALFORMED, "%s: not a decimal number", path);
	free(buf);
	return rc;
}

int
agent_file_put_u64(const char *path, uint64_t v, char *why, size_t whycap)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);

	return atomicfile_write(path, buf, (size_t)n, 0600, why, whycap);
}

int
agent_file_remove(const char *path, char *why, size_t whycap)
{
	char *copy;
	int fd, rc = 0;

	if (unlink(path) != 0 && errno != ENOENT)
		return ztp_errf(why, whycap, ZTP_EIO, "%s: %s", path, strerror(errno));
	if ((copy = strdup(path)) == NULL)
		return ztp_errf(why, whycap, ZTP_ENOMEM, "out of memory");
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		rc = ztp_errf(why, whycap, ZTP_EIO, "%s: the directory: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}
