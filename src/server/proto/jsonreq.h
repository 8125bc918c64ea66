/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON body rules the admin request parsers share (admin_req.c,
 * admin_modreq.c): a body of at most a given size, a JSON object without
 * duplicate members, its required members present and no unknown ones,
 * and string members without NUL. Pure, no I/O. On failure each returns a
 * negative ZTP_E code with a reason in why (cap bytes).
 */
#ifndef ZTP_JSONREQ_H
#define ZTP_JSONREQ_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * obj must be an object whose members are all in req (each present) or in
 * opt (NULL-terminated lists; opt may be NULL). where names it in errors.
 */
int jsonreq_members(json_t *obj, const char *const *req, const char *const *opt,
    const char *where, char *why, size_t cap);
/*
 * Load buf (at most max bytes: ZTP_ETOOBIG over) as a JSON object with the
 * members req (required) and opt (optional). The caller decrefs *out.
 */
int jsonreq_load(const uint8_t *buf, size_t len, size_t max, const char *const *req,
    const char *const *opt, json_t **out, char *why, size_t cap);
/*
 * Load buf (at most max bytes) as {"<member>": [...]}, a batch: 1 to
 * STORE_IMPORT_BATCH_MAX items, each an object with the members itemreq
 * and itemopt ("<item> N" in errors) that check (may be NULL) also
 * accepts. The batch is refused whole if an item is not even an item; bad
 * values are the caller's to judge per item. *obj gets the object (the
 * caller decrefs it) and *arr the array inside it.
 */
int jsonreq_load_batch(const uint8_t *buf, size_t len, size_t max, const char *member,
    const char *item, const char *const *itemreq, const char *const *itemopt,
    int (*check)(json_t *it, size_t i, char *why, size_t cap), json_t **obj, json_t **arr,
    char *why, size_t cap);
/* A string member with no NUL inside; *s points into obj. */
int jsonreq_string(json_t *obj, const char *name, const char **s, size_t *len, char *why,
    size_t cap);

#endif
