/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Containment of SIGBUS on guest memory files a VMM shrank.
 *
 * A VMM can ftruncate a memory file after we (and librte_vhost) mapped it;
 * touching a mapped page past the new end is a SIGBUS. For the files
 * registered here (vdp_sigbus_watch), a SIGBUS handler replaces the
 * faulting page and everything after it in that mapping with private zero
 * pages, counts the fault for the file, and lets the access go on; the
 * caller then fails the ports using that file. Any other SIGBUS goes to
 * the handler that was there before (or kills the process as it would
 * have). Several threads faulting on the same range at once all go on.
 *
 * EAL-free: the PMD (vdevpeer_gmem.c) and the unit test use it.
 */
#ifndef VDP_SIGBUS_H
#define VDP_SIGBUS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Files watched at most (a port holds at most 8 regions x 5 tables). */
#define VDP_SIGBUS_FILES 512

/* Install the handler (once per process). 0, or -errno. */
int vdp_sigbus_install(void);

/*
 * Watch file (dev, ino) whose mappings use pages of pgsz bytes (a huge
 * page size on hugetlbfs, else the system's). Reference counted. False
 * when the table is full (the file is then not covered: do not unwatch).
 */
bool vdp_sigbus_watch(uint64_t dev, uint64_t ino, uint32_t pgsz);
void vdp_sigbus_unwatch(uint64_t dev, uint64_t ino);

/* Faults contained on the file so far (0 when not watched). */
uint32_t vdp_sigbus_faults(uint64_t dev, uint64_t ino);

/* Process-wide: faults contained, files watched. */
uint64_t vdp_sigbus_contained(void);
uint32_t vdp_sigbus_files(void);

#ifdef __cplusplus
}
#endif

#endif /* VDP_SIGBUS_H */
