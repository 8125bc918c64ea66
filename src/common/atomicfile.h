/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files replaced whole or not at all: the data goes to a temporary file
 * beside the target (".<name>." and six random characters, created with
 * the final mode),
 * which is written, fsync'd and renamed over the target; then the
 * directory is fsync'd. A crash at any point leaves the old file or the
 * new one, and maybe a temporary file that atomicfile_clean() removes.
 */
#ifndef ZTP_ATOMICFILE_H
#define ZTP_ATOMICFILE_H
#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with data[0..len), mode mode. Returns 0, or ZTP_EIO /
 * ZTP_ENOMEM with the reason in err (errcap bytes).
 */
int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
    size_t errcap);

/*
 * atomicfile_write with the names of its fault points (test builds only,
 * fault.h): "<points>_before_rename" (the new file written and synced, not
 * renamed) and "<points>_after" (renamed, the directory synced). NULL:
 * "atomicfile", as atomicfile_write.
 */
int atomicfile_write_points(const char *path, const void *data, size_t len, mode_t mode,
    const char *points, char *err, size_t errcap);

/* Remove the temporary files a cut-short write left beside path. Returns how many. */
int atomicfile_clean(const char *path);

#endif
