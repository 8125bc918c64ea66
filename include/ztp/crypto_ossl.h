/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform crypto of a Linux host (struct ztp_crypto over OpenSSL's
 * libcrypto): what ztp-sim, ztp-c2c and the tests give the device core.
 * Not part of the core itself (make size links a stub instead).
 */
#ifndef ZTP_CRYPTO_OSSL_H
#define ZTP_CRYPTO_OSSL_H
#include "ztp/symcrypto.h"

/* A static, thread-safe instance. */
const struct ztp_crypto *ztp_crypto_openssl(void);

#endif
