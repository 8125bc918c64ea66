/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MQTT messages of ztp-agent (docs/protocol/gateways.md): the parsers
 * of what ztpd sends it (the answer to its request, with the bundle; the
 * signed commands) and the builders of what it sends (the request, the
 * status, the results). Pure functions over bytes, jansson and OpenSSL:
 * no I/O, unit tested (tests/unit/test_agent_msg.c) and fuzzed
 * (tests/fuzz/fuzz_agent_bundle.c, fuzz_agent_cmd.c).
 *
 * A message is at most AGENT_MSG_MAX bytes of one UTF-8 JSON object (no
 * duplicate members, no NUL in strings), with "v": 1; unknown members are
 * ignored; a member of the wrong type, a required member missing, a string
 * out of its bounds is refused (ZTP_EMALFORMED, or ZTP_ETOOBIG for a size)
 * with the reason in why. Reasons quote nothing the peer sent but member
 * names, so that they can be logged as they are.
 *
 * Text rules used below: "printable" is Unicode without control
 * characters (U+0000-U+001F, U+007F-U+009F), counted in characters (code
 * points); "ASCII" is printable ASCII (0x20-0x7E), for what goes into HTTP
 * Basic, MQTT credentials and file names.
 */
#ifndef ZTP_AGENT_MSG_H
#define ZTP_AGENT_MSG_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define AGENT_MSG_MAX 65536            /* one message, bytes */
#define AGENT_PEM_MAX (16 * 1024)      /* the request's ldevid, idevid: bytes */
#define AGENT_PEM_CERTS_MAX 16         /* certificates in one PEM member */
#define AGENT_BATCH_MAX 64             /* characters */
#define AGENT_SECRET_MAX 128           /* passwords, user names: ASCII characters */
#define AGENT_FIRMWARE_MAX 64          /* ASCII characters */
#define AGENT_REASON_MAX 200           /* characters */
#define AGENT_GROUP_MAX 63             /* characters */
#define AGENT_CONFIG_MAX (32 * 1024)   /* a configuration object, compact JSON bytes */
#define AGENT_RESULT_MAX (8 * 1024)    /* a result object, compact JSON bytes */
#define AGENT_ERROR_MAX 200            /* an error text, ASCII characters */
#define AGENT_NAME_MAX 64              /* a command name, characters */
#define AGENT_NONCE_LEN 32             /* lower-case hex digits */
#define AGENT_BUNDLE_ID_LEN 32         /* lower-case hex digits */
#define AGENT_SERIAL_MAX 40            /* upper-case hex digits */
#define AGENT_SIG_MAX 1024             /* a decoded signature, bytes */
#define AGENT_CMD_ID_MAX ((UINT64_C(1) << 53) - 1)
#define AGENT_UDID_MAX 64
#define AGENT_HOST_MAX 253

/* "mqtts://host:port": host a DNS name, an IPv4 address or [IPv6] (without brackets here) */
struct agent_url {
	char host[AGENT_HOST_MAX + 1];
	uint16_t port;
	int is_ip;
};

/*
 * Parse "mqtts://host:port" (scheme case-insensitive; the port required,
 * 1..65535; a trailing '/' allowed; no user info, path or query). Returns
 * 0 or ZTP_EINVAL.
 */
int agent_parse_mqtt_url(const char *url, struct agent_url *out);

/* 1 if s is a UDID of the contract: 1..64 of A-Z a-z 0-9 . _ : - */
int agent_udid_valid(const char *s);

/* ---- the answer to a request (P/prov/<udid>/bundle) ---- */

enum agent_answer_state {
	AGENT_ANSWER_REJECTED = 1, /* the operator said no */
	AGENT_ANSWER_REFUSED,      /* the request did not verify */
	AGENT_ANSWER_APPROVED,     /* a bundle */
};

/*
 * A parsed answer. The strings point into root (json_t), which the
 * structure owns with the certificates; agent_bundle_free() releases all,
 * the secrets wiped first.
 */
struct agent_bundle {
	json_t *root;
	enum agent_answer_state state;
	const char *udid;
	const char *reason; /* rejected, refused: "" if absent */
	/* approved: */
	const char *bundle_id;
	const char *est_url, *est_password;
	const char *mqtt_url, *mqtt_username, *mqtt_password;
	/* the agent's own member: the password before the last rotate-mqtt, or NULL */
	const char *mqtt_password_prev;
	const char *group;
	struct agent_url mqtt;
	STACK_OF(X509) *est_ca, *mqtt_ca;
	X509 *command_cert;
	EVP_PKEY *command_key; /* command_cert's public key: a P-256 key */
	json_t *config;        /* an object, in root */
};

/*
 * Parse an answer, buf[len]. An approval must carry every member of the
 * bundle, each within its bounds: bundle_id 32 lower-case hex; est_url
 * https://host[:port]; est_ca, mqtt_ca 1..AGENT_PEM_CERTS_MAX PEM
 * certificates; est_password, mqtt_username, mqtt_password 1..128 ASCII;
 * mqtt_url mqtts://host:port; command_cert one PEM certificate with a P-256
 * key; group 0..63 printable; mqtt_password_prev, optional (the agent's
 * own, in bundle.json), 1..128 ASCII; config an object of at most AGENT_CONFIG_MAX
 * bytes as compact JSON. A refusal's reason is optional, 0..200 printable.
 * Returns 0 with *out (free with agent_bundle_free()), ZTP_EMALFORMED,
 * ZTP_ETOOBIG, ZTP_ENOMEM; on failure *out holds nothing.
 */
int agent_msg_parse_answer(const uint8_t *buf, size_t len, struct agent_bundle *out,
    char *why, size_t whycap);

/* Release b (the passwords wiped); b may be zeroed or NULL. */
void agent_bundle_free(struct agent_bundle *b);

/*
 * Replace the MQTT password of an approved bundle b (rotate-mqtt): pw,
 * 1..128 ASCII. With keep_prev, the password it replaces is kept as
 * mqtt_password_prev (a member of the agent's own, in bundle.json: the
 * broker may not have the new one yet); without, mqtt_password_prev goes.
 * Returns 0, ZTP_EINVAL, ZTP_ENOMEM.
 */
int agent_bundle_set_mqtt_password(struct agent_bundle *b, const char *pw, int keep_prev);

/*
 * The outcome of a connection with a rotated password: accepted (1) ->
 * mqtt_password_prev goes; refused while the previous one was accepted
 * (0) -> mqtt_password_prev becomes mqtt_password again. Returns 0,
 * ZTP_EINVAL (no previous password), ZTP_ENOMEM.
 */
int agent_bundle_settle_password(struct agent_bundle *b, int new_one_works);

/*
 * The bundle as it is stored (bundle.json): its JSON text, compact, into
 * *out (malloc'd, NUL-terminated; it holds secrets: free it with
 * OPENSSL_clear_free(*out, *len)). Returns 0, ZTP_ENOMEM.
 */
int agent_bundle_dump(const struct agent_bundle *b, char **out, size_t *len);

/* ---- commands (P/dev/<udid>/cmd) ---- */

/*
 * A command that verified: the payload (root), its members. Free with
 * agent_cmd_free().
 */
struct agent_cmd {
	json_t *root;
	uint64_t id;
	const char *name; /* 1..AGENT_NAME_MAX printable characters */
	json_t *args;     /* an object, in root */
	int64_t issued_at;
};

/*
 * Parse and check a command envelope buf[len]: {"payload": base64,
 * "sig": base64}; the signature (DER ECDSA, SHA-256) must verify with key
 * over the decoded payload bytes; the payload must be a command (v 1,
 * udid, id 1..2^53-1, name, args an object, issued_at an integer >= 0);
 * its udid must be udid and its id above last_id. Returns 0 with *out;
 * ZTP_EMALFORMED or ZTP_ETOOBIG (the envelope or the payload); ZTP_ECRYPTO
 * (the signature does not verify: nothing of the payload was read);
 * ZTP_ECONFLICT (another UDID's); ZTP_EEXIST (a replay: id not above
 * last_id); ZTP_ENOMEM. why says which.
 */
int agent_msg_parse_cmd(const uint8_t *buf, size_t len, EVP_PKEY *key, const char *udid,
    uint64_t last_id, struct agent_cmd *out, char *why, size_t whycap);

void agent_cmd_free(struct agent_cmd *c);

/* fetch-config: args.config, an object of at most AGENT_CONFIG_MAX bytes. */
int agent_cmd_config(const struct agent_cmd *c, json_t **config, char *why, size_t whycap);

/* rotate-mqtt: args.password, 1..128 ASCII. */
int agent_cmd_password(const struct agent_cmd *c, const char **pw, char *why, size_t whycap);

/* ---- what the agent sends ---- */

/* The request's members; every string NUL-terminated. */
struct agent_req {
	const char *udid;      /* the contract's UDID */
	const char *batch;     /* 1..64 printable */
	const char *password;  /* the batch password: 1..128 printable */
	const char *firmware;  /* NULL or 0..64 ASCII */
	const char *ldevid;    /* PEM, at most AGENT_PEM_MAX bytes */
	const char *idevid;    /* PEM, at most AGENT_PEM_MAX bytes */
	const char *nonce;     /* 32 lower-case hex */
	EVP_PKEY *idevid_key;  /* signs: EC (ECDSA) or RSA (PKCS#1 v1.5), SHA-256 */
};

/*
 * The bytes the IDevID key signs: "ztp-gw-req" NUL udid NUL nonce, into
 * out[cap], their count into *len. Returns 0, ZTP_EINVAL, ZTP_ERANGE.
 */
int agent_msg_sig_input(const char *udid, const char *nonce, uint8_t *out, size_t cap,
    size_t *len);

/*
 * The request, signed with r->idevid_key: JSON text into *out (malloc'd,
 * NUL-terminated; it holds the batch password: free it with
 * OPENSSL_clear_free(*out, *len)). Returns 0, ZTP_EINVAL (a member out of
 * its bounds, a key that is neither EC nor RSA), ZTP_ECRYPTO, ZTP_ENOMEM.
 */
int agent_msg_request(const struct agent_req *r, char **out, size_t *len, char *why,
    size_t whycap);

/*
 * The status: {"v":1,"udid","state":"online","serial","firmware"}
 * (firmware left out if NULL). serial: 1..40 hex digits (made upper case).
 * *out malloc'd, NUL-terminated. Returns 0, ZTP_EINVAL, ZTP_ENOMEM.
 */
int agent_msg_status(const char *udid, const char *serial, const char *firmware, char **out,
    size_t *len);

/*
 * A result: with error NULL, {"ok":true,"result":result} (result an
 * object of at most AGENT_RESULT_MAX bytes, else ZTP_ETOOBIG); else
 * {"ok":false,"error":error}, error made printable ASCII and cut to
 * AGENT_ERROR_MAX characters ("?" if empty). *out malloc'd. Returns 0,
 * ZTP_EINVAL, ZTP_ETOOBIG, ZTP_ENOMEM.
 */
int agent_msg_result(const char *udid, uint64_t id, json_t *result, const char *error,
    char **out, size_t *len);

#endif
