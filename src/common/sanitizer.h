/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ZTP_ASAN is defined in builds with AddressSanitizer (gcc or clang), for
 * the few places where a process must make room for its run-time: the
 * signer's system-call filter, the front's LeakSanitizer at exit.
 */
#ifndef ZTP_SANITIZER_H
#define ZTP_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define ZTP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZTP_ASAN 1
#endif
#endif

#endif
