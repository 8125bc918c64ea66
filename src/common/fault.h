/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault points for crash tests: with ZTP_FAULT_POINTS defined at build
 * time (the default, see CMakeLists.txt), fault_point("name") kills the
 * process with SIGKILL when the environment variable ZTP_FAULT is "name".
 * Without it, fault points compile to nothing. In ztpd a fault point
 * fires once: when a child dies the parent drops ZTP_FAULT from its
 * environment, so the child it starts next runs without it (parent.c).
 */
#ifndef ZTP_FAULT_H
#define ZTP_FAULT_H

#ifdef ZTP_FAULT_POINTS
void fault_point(const char *name);
/* 1 if ZTP_FAULT is name: for fault points that need set-up of their own. */
int fault_active(const char *name);
#else
#define fault_point(name) ((void)0)
#define fault_active(name) 0
#endif

#endif
