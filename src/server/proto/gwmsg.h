/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway messages ztpd reads off the broker and writes to it
 * (docs/protocol/gateways.md): a pure codec, no I/O, every bound of the
 * document checked. The parsed strings point into a copy the caller owns
 * (struct gwmsg_*'s buffers), so that a message is parsed once and read
 * after its JSON is gone.
 */
#ifndef ZTP_GWMSG_H
#define ZTP_GWMSG_H
#include <stddef.h>
#include <stdint.h>

#define GWMSG_MAX 65536
#define GWMSG_UDID_MAX 64
#define GWMSG_NAME_MAX 64   /* a batch's name */
#define GWMSG_SECRET_MAX 128
#define GWMSG_FIRMWARE_MAX 64
#define GWMSG_PEM_MAX 16384
#define GWMSG_NONCE_HEX 32
#define GWMSG_SIG_MAX 1024  /* decoded */
#define GWMSG_SERIAL_MAX 40 /* hex digits */
#define GWMSG_RESULT_MAX 8192
#define GWMSG_ERROR_MAX 200
#define GWMSG_PREFIX_MAX 63

/* The topic kinds (the last segment after P/prov/<udid>/ or P/dev/<udid>/). */
enum gwmsg_topic {
	GWMSG_T_NONE = 0,
	GWMSG_T_REQ,    /* P/prov/<udid>/req */
	GWMSG_T_BUNDLE, /* P/prov/<udid>/bundle */
	GWMSG_T_STATUS, /* P/dev/<udid>/status */
	GWMSG_T_CMD,    /* P/dev/<udid>/cmd */
	GWMSG_T_RESULT, /* P/dev/<udid>/result */
};

/*
 * Split topic under prefix into its kind and UDID (udid: GWMSG_UDID_MAX + 1).
 * GWMSG_T_NONE for anything else (another prefix, a bad UDID, more levels).
 */
enum gwmsg_topic gwmsg_topic_parse(const char *prefix, const char *topic, char *udid);
/* The topic of kind for udid into out (cap); 0, or ZTP_ETOOBIG / ZTP_EINVAL. */
int gwmsg_topic_make(const char *prefix, enum gwmsg_topic kind, const char *udid, char *out,
    size_t cap);
/* 1 if s is a UDID as the document says: 1..64 of A-Z a-z 0-9 . _ : - */
int gwmsg_udid_valid(const char *s);

struct gwmsg_request {
	char udid[GWMSG_UDID_MAX + 1];
	char batch[GWMSG_NAME_MAX + 1];
	char password[GWMSG_SECRET_MAX + 1]; /* wiped by gwmsg_request_wipe */
	char firmware[GWMSG_FIRMWARE_MAX + 1];
	char nonce[GWMSG_NONCE_HEX + 1];
	char ldevid[GWMSG_PEM_MAX + 1];
	char idevid[GWMSG_PEM_MAX + 1];
	uint8_t sig[GWMSG_SIG_MAX];
	size_t sig_len;
};
/*
 * Parse a provisioning request (len bytes, not NUL-terminated). why gets
 * a short reason (no secret) on failure. 0, or ZTP_EMALFORMED, ZTP_ETOOBIG.
 */
int gwmsg_request_parse(const uint8_t *msg, size_t len, struct gwmsg_request *out, char *why,
    size_t cap);
void gwmsg_request_wipe(struct gwmsg_request *r);
/* The bytes the IDevID signs: "ztp-gw-req\0" udid "\0" nonce, into out (cap); their length or 0. */
size_t gwmsg_request_tbs(const char *udid, const char *nonce, uint8_t *out, size_t cap);

struct gwmsg_status {
	char udid[GWMSG_UDID_MAX + 1];
	char state[16];
	char serial[GWMSG_SERIAL_MAX + 1]; /* upper-case hex */
	char firmware[GWMSG_FIRMWARE_MAX + 1];
};
int gwmsg_status_parse(const uint8_t *msg, size_t len, struct gwmsg_status *out, char *why,
    size_t cap);

struct gwmsg_result {
	char udid[GWMSG_UDID_MAX + 1];
	int64_t id;
	int ok;
	char text[GWMSG_RESULT_MAX + 1]; /* ok: the result object as JSON; else the error */
};
int gwmsg_result_parse(const uint8_t *msg, size_t len, struct gwmsg_result *out, char *why,
    size_t cap);

/*
 * The command payload (the bytes that are signed): a malloc'd JSON text
 * into *out and its length; args is a JSON object's text. ZTP_EINVAL for a
 * bad argument.
 */
int gwmsg_command_payload(const char *udid, int64_t id, const char *name, const char *args,
    int64_t issued_at, char **out, size_t *len);
/* The command envelope {"payload": b64, "sig": b64}: malloc'd into *out. */
int gwmsg_command_envelope(const uint8_t *payload, size_t len, const uint8_t *sig,
    size_t sig_len, char **out, size_t *outlen);
/* A refusal or rejection answer: malloc'd JSON into *out. */
int gwmsg_answer_refusal(const char *udid, int rejected, const char *reason, char **out,
    size_t *len);

/* ---- the admin API's request bodies (admin_gateway.c) ---- */

#define GWMSG_ADMIN_MAX 40960 /* a body: a group's configuration is 32 KiB at most */
#define GWMSG_CONFIG_MAX 32768
#define GWMSG_ARGS_MAX 8192
#define GWMSG_CMD_NAME_MAX 31

enum gwmsg_admin_kind {
	GWMSG_A_BATCH,   /* {"name", "owner"?} */
	GWMSG_A_EXPECT,  /* {"udid", "group"?} */
	GWMSG_A_GROUP,   /* {"config": {...}, "auto_reonboard": bool?} */
	GWMSG_A_APPROVE, /* {"group"?} or no body */
	GWMSG_A_REJECT,  /* {"reason"?} or no body */
	GWMSG_A_COMMAND, /* {"name", "args": {...}?} */
};

struct gwmsg_admin {
	char name[GWMSG_NAME_MAX + 1]; /* a batch's, or a command's */
	char owner[GWMSG_NAME_MAX + 1];
	char udid[GWMSG_UDID_MAX + 1];
	char group[64];
	int has_group;
	char reason[GWMSG_ERROR_MAX + 1];
	int auto_reonboard;
	char *json; /* the configuration or the arguments, compact JSON; malloc'd, or NULL */
};

/*
 * Parse an admin body of kind (at most GWMSG_ADMIN_MAX bytes; no unknown
 * member). 0 or a negative ZTP_E code with why. gwmsg_admin_free after.
 */
int gwmsg_admin_parse(enum gwmsg_admin_kind kind, const uint8_t *body, size_t len,
    struct gwmsg_admin *out, char *why, size_t cap);
void gwmsg_admin_free(struct gwmsg_admin *a);
/* 1 if name is a command the agent knows. */
int gwmsg_command_known(const char *name);

#endif
