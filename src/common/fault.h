/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault points for crash tests, only in the test build's programs
 * (ztpd-fault, ztp-sim-fault, unit tests: tests/CMakeLists.txt), which
 * compile the sources that include this header again with
 * ZTP_FAULT_POINTS defined: there fault_point("name") kills the process
 * with SIGKILL when the environment variable ZTP_FAULT is "name". In the
 * programs a user builds and installs, fault points compile to nothing.
 * In ztpd a fault point fires once: when a child dies the parent drops
 * ZTP_FAULT from its environment (fault_disarm), so the child it starts
 * next runs without it (parent.c).
 *
 * The test build finds the sources that include this header when CMake
 * configures (make build and make test do): include it directly.
 */
#ifndef ZTP_FAULT_H
#define ZTP_FAULT_H

#ifdef ZTP_FAULT_POINTS
void fault_point(const char *name);
/* 1 if ZTP_FAULT is name: for fault points that need set-up of their own. */
int fault_active(const char *name);
/* Drops ZTP_FAULT from the environment: what starts next runs without it. */
void fault_disarm(void);
#else
#define fault_point(name) ((void)0)
#define fault_active(name) 0
#define fault_disarm() ((void)0)
#endif

#endif
