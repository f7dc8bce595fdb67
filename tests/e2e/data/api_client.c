/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An application of net_vdevpeer's public API, built by test_install.py
 * against the installed header and library (pkg-config libdpdk-vdevpeer),
 * as an operator's own program would be. It checks the sized getters
 * from both sides: as built against an older header (a shorter struct)
 * and a newer one (a longer struct).
 * Usage: api_client <EAL args with a --vdev net_vdevpeer0,...,bind=vp0>
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>

#include <rte_pmd_vdevpeer.h>

static int failures;

#define CHECK(c) do { \
	if (!(c)) { \
		printf("api-client: FAILED line %d: %s\n", __LINE__, #c); \
		failures++; \
	} \
} while (0)

static int
all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	union {
		struct rte_pmd_vdevpeer_info info;
		unsigned char bytes[sizeof(struct rte_pmd_vdevpeer_info) + 64];
	} u;
	const size_t full = sizeof(struct rte_pmd_vdevpeer_info);
	const size_t older = offsetof(struct rte_pmd_vdevpeer_info, guest_mac);
	struct rte_pmd_vdevpeer_info info;
	struct rte_pmd_vdevpeer_isolation iso;
	struct rte_pmd_vdevpeer_vring vr;
	uint16_t port;

	if (rte_eal_init(argc, argv) < 0) {
		printf("api-client: EAL failed\n");
		return 1;
	}
	CHECK(rte_pmd_vdevpeer_port_by_bind("vp0", &port) == 0);
	CHECK(rte_pmd_vdevpeer_is_vdevpeer(port));

	/* this header's struct: all of it */
	CHECK(rte_pmd_vdevpeer_get_info(port, &info) == 0);
	CHECK(info.struct_size == full);
	CHECK(strcmp(info.bind, "vp0") == 0);
	CHECK(info.server);
	CHECK(RTE_PMD_VDEVPEER_HAS(&info, mac));

	/* an application built against an older header: nothing written
	 * past its struct */
	memset(&u, 0xa5, sizeof(u));
	CHECK(rte_pmd_vdevpeer_get_info_sized(port, &u.info, older) == 0);
	CHECK(u.info.struct_size == older);
	CHECK(strcmp(u.info.bind, "vp0") == 0);
	CHECK(!RTE_PMD_VDEVPEER_HAS(&u.info, guest_mac));
	CHECK(all_bytes(u.bytes + older, sizeof(u) - older, 0xa5));

	/* one built against a newer header: what this driver has, zeros
	 * after it, and struct_size saying where its fields end */
	memset(&u, 0xa5, sizeof(u));
	CHECK(rte_pmd_vdevpeer_get_info_sized(port, &u.info, sizeof(u)) == 0);
	CHECK(u.info.struct_size == full);
	CHECK(memcmp(u.info.mac, info.mac, sizeof(info.mac)) == 0);
	CHECK(all_bytes(u.bytes + full, sizeof(u) - full, 0));

	CHECK(rte_pmd_vdevpeer_get_info_sized(port, &u.info, 2) == -EINVAL);
	CHECK(rte_pmd_vdevpeer_get_isolation(port, &iso) == 0);
	CHECK(iso.struct_size == sizeof(iso) && !iso.failed);
	CHECK(rte_pmd_vdevpeer_get_vring(port, 0, &vr) == 0);
	CHECK(vr.struct_size == sizeof(vr) && vr.queue >= -1);

	rte_eal_cleanup();
	printf("api-client: %s (%d failed), info %zu bytes, older %zu\n",
	       failures == 0 ? "ok" : "FAILED", failures, full, older);
	return failures == 0 ? 0 : 2;
}
