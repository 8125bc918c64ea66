/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault points for crash tests: with ZTP_FAULT_POINTS defined at build
 * time (the default, see CMakeLists.txt), fault_point("name") kills the
 * process with SIGKILL when the environment variable ZTP_FAULT is "name".
 * Without it, fault points compile to nothing.
 */
#ifndef ZTP_FAULT_H
#define ZTP_FAULT_H

#ifdef ZTP_FAULT_POINTS
void fault_point(const char *name);
#else
#define fault_point(name) ((void)0)
#endif

#endif
