/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the vhost-user message checks (vdp_vumsg.c), without EAL:
 * every refusal of issue 10 (items 2, 3, 4, 8) and the messages QEMU and
 * DPDK's virtio-user really send, which must pass.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_features.h"
#include "vdp_vumsg.h"
#include "check.h"


static struct vdp_vu_policy pol = {
	.features = (1ULL << 15) | (1ULL << 32) | (1ULL << 30) | (1ULL << 29),
	.protocol_features = (1ULL << VDP_VU_PF_MQ) | (1ULL << VDP_VU_PF_REPLY_ACK),
	.max_vrings = 256,
};

static uint8_t pl[VDP_VU_PAYLOAD_MAX];
static char why[256];

static void
put32(size_t off, uint32_t v)
{
	memcpy(pl + off, &v, 4);
}

static void
put64(size_t off, uint64_t v)
{
	memcpy(pl + off, &v, 8);
}

static enum vdp_vu_verdict
check(uint32_t req, uint32_t size, const struct vdp_vu_fd *fds, uint32_t nfds)
{
	return vdp_vumsg_check(req, 1, size, pl, size, fds, nfds, &pol, why, sizeof(why));
}

/* A memory table of n regions, 1 MiB each at gpa i * 1 GiB, offset 0. */
static uint32_t
mem_table(uint32_t n, struct vdp_vu_fd *fds)
{
	memset(pl, 0, sizeof(pl));
	put32(0, n);
	for (uint32_t i = 0; i < n; i++) {
		size_t r = 8 + (size_t)i * 32;

		put64(r, (uint64_t)i << 30);
		put64(r + 8, 1u << 20);
		put64(r + 16, 0x7f0000000000ull + ((uint64_t)i << 30));
		put64(r + 24, 0);
		fds[i] = (struct vdp_vu_fd){ VDP_VU_FD_REGULAR, 1u << 20, 4096 };
	}
	return 8 + n * 32;
}

static void
test_mem_table(void)
{
	struct vdp_vu_fd fds[VDP_VU_MAX_REGIONS];
	uint32_t size;

	size = mem_table(2, fds);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 2) == VDP_VU_RINGS,
	      "mem table: 2 regions inside their files -> accepted, paused around");
	size = mem_table(1, fds);
	put64(8 + 24, 4096);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE && strstr(why, "past the end"),
	      "mem table: mmap_offset + size beyond the file -> refused (%s)", why);
	size = mem_table(1, fds);
	fds[0].size = (1u << 20) - 1;
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: file one byte short -> refused");
	size = mem_table(1, fds);
	put64(8 + 24, UINT64_MAX - 100);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: mmap_offset + size wraps -> refused");
	size = mem_table(1, fds);
	put64(8, UINT64_MAX - 10);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: gpa + size wraps -> refused");
	size = mem_table(1, fds);
	put64(8 + 8, 0);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: size 0 -> refused");
	size = mem_table(2, fds);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: 2 regions, 1 fd -> refused");
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 3) == VDP_VU_REFUSE,
	      "mem table: 2 regions, 3 fds -> refused");
	size = mem_table(1, fds);
	fds[0].kind = VDP_VU_FD_OTHER;
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: fd is a pipe or socket -> refused");
	size = mem_table(1, fds);
	fds[0].kind = VDP_VU_FD_BAD;
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: fd not valid -> refused");
	size = mem_table(1, fds);
	fds[0].kind = VDP_VU_FD_FILE;
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE && strstr(why, "tmpfs"),
	      "mem table: a file on a disk or in sysfs -> refused (%s)", why);
	size = mem_table(1, fds);
	fds[0].kind = VDP_VU_FD_HOSTMEM;
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE && strstr(why, "own memory"),
	      "mem table: our own hugepage file -> refused");
	size = mem_table(2, fds);
	put64(8 + 32, 1u << 19);    /* region 1 starts inside region 0 */
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 2) == VDP_VU_REFUSE && strstr(why, "overlap"),
	      "mem table: regions overlap -> refused");
	size = mem_table(1, fds);
	put32(0, 0);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 0) == VDP_VU_REFUSE,
	      "mem table: 0 regions -> refused");
	size = mem_table(8, fds);
	put32(0, 9);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 8) == VDP_VU_REFUSE,
	      "mem table: 9 regions -> refused");
	size = mem_table(8, fds);
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 8) == VDP_VU_RINGS,
	      "mem table: 8 regions -> accepted");
	size = mem_table(4, fds);
	CHECK(check(VDP_VU_SET_MEM_TABLE, 8 + 3 * 32, fds, 4) == VDP_VU_REFUSE,
	      "mem table: 4 regions in a payload of 3 -> refused");
	size = mem_table(1, fds);
	fds[0].blksize = 3000;
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_REFUSE,
	      "mem table: page size not a power of two -> refused");
	size = mem_table(1, fds);
	fds[0] = (struct vdp_vu_fd){ VDP_VU_FD_REGULAR, 2u << 20, 2u << 20 };
	put64(8 + 24, 1u << 20);    /* hugetlbfs-like: offset inside the file */
	CHECK(check(VDP_VU_SET_MEM_TABLE, size, fds, 1) == VDP_VU_RINGS,
	      "mem table: region at an offset, ending at the file's end -> accepted");
}

static void
test_vrings(void)
{
	static const uint32_t bad_sizes[] = { 0, 3, 100, 65536, 32769, 0x80000000u };
	struct vdp_vu_fd efd = { VDP_VU_FD_EVENTFD, 0, 0 }, pipe_fd = { VDP_VU_FD_OTHER, 0, 0 };

	memset(pl, 0, sizeof(pl));
	for (unsigned int i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		put32(0, 1);
		put32(4, bad_sizes[i]);
		CHECK(check(VDP_VU_SET_VRING_NUM, 8, NULL, 0) == VDP_VU_REFUSE,
		      "vring num %u -> refused", bad_sizes[i]);
	}
	for (uint32_t n = 1; n <= VDP_RING_SIZE_MAX; n *= 2) {
		put32(4, n);
		if (check(VDP_VU_SET_VRING_NUM, 8, NULL, 0) != VDP_VU_RINGS)
			CHECK(false, "vring num %u -> accepted", n);
	}
	CHECK(true, "vring num: every power of two 1..32768 accepted");
	put32(0, 256);
	put32(4, 256);
	CHECK(check(VDP_VU_SET_VRING_NUM, 8, NULL, 0) == VDP_VU_REFUSE,
	      "vring index 256 (librte_vhost's limit) -> refused");
	CHECK(check(VDP_VU_SET_VRING_NUM, 4, NULL, 0) == VDP_VU_REFUSE,
	      "vring num with a 4-byte payload -> refused");
	put32(0, 0);
	put32(4, 70000);
	CHECK(check(VDP_VU_SET_VRING_BASE, 8, NULL, 0) == VDP_VU_REFUSE,
	      "vring base 70000 -> refused (split rings only offered)");
	{
		/* packed offered: QEMU's avail and used positions, each with
		 * its wrap counter, in the two halves */
		struct vdp_vu_policy pk = pol;

		pk.features |= 1ULL << 34;
		put32(4, 0x80008000u);
		CHECK(vdp_vumsg_check(VDP_VU_SET_VRING_BASE, 1, 8, pl, 8, NULL, 0, &pk, why,
				      sizeof(why)) == VDP_VU_RINGS,
		      "packed vring base 0x80008000 -> accepted");
		CHECK(check(VDP_VU_SET_VRING_BASE, 8, NULL, 0) == VDP_VU_REFUSE,
		      "the same without packed offered -> refused");
	}
	put32(4, 2);
	CHECK(check(VDP_VU_SET_VRING_ENABLE, 8, NULL, 0) == VDP_VU_REFUSE,
	      "vring enable 2 -> refused");
	put32(4, 1);
	CHECK(check(VDP_VU_SET_VRING_ENABLE, 8, NULL, 0) == VDP_VU_RINGS,
	      "vring enable 1 -> accepted");

	/* call / kick / err: one eventfd, or the no-fd bit and none */
	memset(pl, 0, sizeof(pl));
	put64(0, 1);
	CHECK(check(VDP_VU_SET_VRING_CALL, 8, &efd, 1) == VDP_VU_RINGS,
	      "call fd: an eventfd -> accepted");
	CHECK(check(VDP_VU_SET_VRING_CALL, 8, &pipe_fd, 1) == VDP_VU_REFUSE && strstr(why, "eventfd"),
	      "call fd: a pipe -> refused (%s)", why);
	CHECK(check(VDP_VU_SET_VRING_KICK, 8, &pipe_fd, 1) == VDP_VU_REFUSE,
	      "kick fd: a pipe -> refused");
	CHECK(check(VDP_VU_SET_VRING_CALL, 8, NULL, 0) == VDP_VU_REFUSE,
	      "call: no fd and no no-fd bit -> refused");
	put64(0, 1 | VDP_VU_VRING_NOFD);
	CHECK(check(VDP_VU_SET_VRING_CALL, 8, NULL, 0) == VDP_VU_RINGS,
	      "call: the no-fd bit, no fd -> accepted");
	CHECK(check(VDP_VU_SET_VRING_CALL, 8, &efd, 1) == VDP_VU_REFUSE,
	      "call: the no-fd bit with an fd -> refused");

	/* ring addresses: alignment, dirty logging */
	memset(pl, 0, sizeof(pl));
	put32(0, 1);
	put64(8, 0x1000);
	put64(16, 0x3000);
	put64(24, 0x2000);
	CHECK(check(VDP_VU_SET_VRING_ADDR, 40, NULL, 0) == VDP_VU_RINGS, "vring addr: aligned -> accepted");
	put64(8, 0x1008);
	CHECK(check(VDP_VU_SET_VRING_ADDR, 40, NULL, 0) == VDP_VU_REFUSE, "vring addr: desc not 16-aligned -> refused");
	put64(8, 0x1000);
	put32(4, VDP_VU_VRING_F_LOG);
	CHECK(check(VDP_VU_SET_VRING_ADDR, 40, NULL, 0) == VDP_VU_REFUSE,
	      "vring addr: log flag, logging not offered -> refused");
	pol.features |= 1ULL << VDP_F_LOG_ALL;
	CHECK(check(VDP_VU_SET_VRING_ADDR, 40, NULL, 0) == VDP_VU_RINGS,
	      "vring addr: log flag, logging offered -> accepted");
	pol.features &= ~(1ULL << VDP_F_LOG_ALL);
	put32(4, 0);
	CHECK(check(VDP_VU_SET_VRING_ADDR, 32, NULL, 0) == VDP_VU_REFUSE, "vring addr: short payload -> refused");
}

/* SET_LOG_BASE with logging offered: the log must fit its memory file. */
/* SEND_RARP: offered or not, a unicast MAC or not */
static void
test_rarp(void)
{
	const uint64_t saved = pol.protocol_features;
	static const uint8_t good[8] = { 0x52, 0x54, 0x00, 0x63, 0x00, 0x01, 0xff, 0xff };
	static const uint8_t group[8] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t bcast[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[8];
	uint8_t mac[6];

	pol.protocol_features &= ~(1ULL << VDP_VU_PF_RARP);
	memcpy(pl, good, 8);
	CHECK(check(VDP_VU_SEND_RARP, 8, NULL, 0) == VDP_VU_REFUSE, "SEND_RARP, RARP not offered -> refused");
	pol.protocol_features |= 1ULL << VDP_VU_PF_RARP;
	CHECK(check(VDP_VU_SEND_RARP, 8, NULL, 0) == VDP_VU_PASS,
	      "SEND_RARP for a unicast MAC -> passes, no pause");
	vdp_vumsg_mac(pl, mac);
	CHECK(memcmp(mac, good, 6) == 0, "SEND_RARP's MAC: the first 6 bytes");
	CHECK(check(VDP_VU_SEND_RARP, 6, NULL, 0) == VDP_VU_REFUSE, "SEND_RARP with 6 bytes -> refused");
	memcpy(pl, group, 8);
	CHECK(check(VDP_VU_SEND_RARP, 8, NULL, 0) == VDP_VU_REFUSE, "SEND_RARP for a multicast MAC -> refused");
	memcpy(pl, bcast, 8);
	CHECK(check(VDP_VU_SEND_RARP, 8, NULL, 0) == VDP_VU_REFUSE, "SEND_RARP for broadcast -> refused");
	memcpy(pl, zero, 8);
	CHECK(check(VDP_VU_SEND_RARP, 8, NULL, 0) == VDP_VU_REFUSE, "SEND_RARP for 00:00:00:00:00:00 -> refused");
	pol.protocol_features = saved;
}

static void
test_log_base(void)
{
	struct vdp_vu_fd mem = { .kind = VDP_VU_FD_REGULAR, .size = 1u << 20, .blksize = 4096 };
	struct vdp_vu_fd efd = { .kind = VDP_VU_FD_EVENTFD };
	struct vdp_vu_fd own = { .kind = VDP_VU_FD_HOSTMEM, .size = 1u << 20, .blksize = 4096 };
	const uint64_t saved = pol.features;

	pol.features |= 1ULL << VDP_F_LOG_ALL;
	memset(pl, 0, sizeof(pl));
	put64(0, 1u << 20);
	put64(8, 0);
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &mem, 1) == VDP_VU_RINGS, "log: 1 MiB in a 1 MiB memfd -> accepted");
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &mem, 0) == VDP_VU_REFUSE, "log: no fd -> refused");
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &efd, 1) == VDP_VU_REFUSE, "log: an eventfd -> refused");
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &own, 1) == VDP_VU_REFUSE, "log: our own memory -> refused");
	CHECK(check(VDP_VU_SET_LOG_BASE, 8, &mem, 1) == VDP_VU_REFUSE, "log: short payload -> refused");
	put64(8, 4096);
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &mem, 1) == VDP_VU_REFUSE, "log: past the end of its file -> refused");
	put64(0, 4096);
	put64(8, UINT64_MAX - 100);
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &mem, 1) == VDP_VU_REFUSE, "log: offset + size wraps -> refused");
	put64(0, 0);
	put64(8, 0);
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &mem, 1) == VDP_VU_REFUSE, "log: size 0 -> refused");
	mem.size = VDP_VU_LOG_MAX * 2;
	put64(0, VDP_VU_LOG_MAX + 4096);
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, &mem, 1) == VDP_VU_REFUSE, "log: over the bound -> refused");
	CHECK(check(VDP_VU_SET_LOG_FD, 0, &efd, 1) == VDP_VU_RINGS, "log fd: an eventfd -> accepted");
	CHECK(check(VDP_VU_SET_LOG_FD, 0, &mem, 1) == VDP_VU_REFUSE, "log fd: a memfd -> refused");
	pol.features = saved;
}

static void
test_other(void)
{
	memset(pl, 0, sizeof(pl));
	put64(0, (1ULL << 32) | (1ULL << 15));
	CHECK(check(VDP_VU_SET_FEATURES, 8, NULL, 0) == VDP_VU_RINGS, "features: offered ones -> accepted");
	put64(0, (1ULL << 32) | (1ULL << 26));
	CHECK(check(VDP_VU_SET_FEATURES, 8, NULL, 0) == VDP_VU_REFUSE, "features: LOG_ALL not offered -> refused");
	put64(0, 1ULL << VDP_VU_PF_MQ);
	CHECK(check(VDP_VU_SET_PROTOCOL_FEATURES, 8, NULL, 0) == VDP_VU_RINGS, "protocol features: MQ -> accepted");
	put64(0, 1ULL << VDP_VU_PF_PAGEFAULT);
	CHECK(check(VDP_VU_SET_PROTOCOL_FEATURES, 8, NULL, 0) == VDP_VU_REFUSE,
	      "protocol features: PAGEFAULT (postcopy) -> refused");
	CHECK(check(VDP_VU_SET_LOG_BASE, 16, NULL, 0) == VDP_VU_REFUSE,
	      "SET_LOG_BASE, logging not offered -> refused");
	test_log_base();
	CHECK(check(VDP_VU_POSTCOPY_ADVISE, 0, NULL, 0) == VDP_VU_REFUSE, "POSTCOPY_ADVISE -> refused");
	CHECK(check(VDP_VU_ADD_MEM_REG, 40, NULL, 0) == VDP_VU_REFUSE, "ADD_MEM_REG -> refused");
	CHECK(check(VDP_VU_SET_BACKEND_REQ_FD, 0, NULL, 0) == VDP_VU_REFUSE, "SET_BACKEND_REQ_FD -> refused");
	CHECK(check(VDP_VU_GET_FEATURES, 0, NULL, 0) == VDP_VU_PASS, "GET_FEATURES -> passes, no pause");
	test_rarp();
	CHECK(check(VDP_VU_NET_SET_MTU, 8, NULL, 0) == VDP_VU_PASS, "NET_SET_MTU -> passes, no pause");
	CHECK(check(VDP_VU_RESET_OWNER, 0, NULL, 0) == VDP_VU_RINGS, "RESET_OWNER -> paused around");
	CHECK(check(VDP_VU_SET_STATUS, 8, NULL, 0) == VDP_VU_RINGS, "SET_STATUS -> paused around");
	CHECK(check(200, 0, NULL, 0) == VDP_VU_RINGS, "unknown request 200 -> paused around (librte_vhost decides)");
	CHECK(check(VDP_VU_GET_FEATURES, VDP_VU_PAYLOAD_MAX + 1, NULL, 0) == VDP_VU_REFUSE,
	      "payload larger than librte_vhost's union -> refused");
	CHECK(vdp_vumsg_check(VDP_VU_GET_FEATURES, 2, 0, pl, 0, NULL, 0, &pol, why, sizeof(why)) ==
	      VDP_VU_REFUSE, "protocol version 2 -> refused");
	CHECK(check(VDP_VU_SET_FEATURES, 4, NULL, 0) == VDP_VU_REFUSE, "features with a 4-byte payload -> refused");
	/* the header says 8 bytes, only 4 arrived */
	CHECK(vdp_vumsg_check(VDP_VU_SET_FEATURES, 1, 8, pl, 4, NULL, 0, &pol, why, sizeof(why)) ==
	      VDP_VU_REFUSE, "features: 8 bytes announced, 4 there -> refused");
	CHECK(vdp_vumsg_name(VDP_VU_SET_MEM_TABLE) != NULL && vdp_vumsg_name(1000) == NULL,
	      "request names");
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_mem_table();
	test_vrings();
	test_other();
	return check_summary();
}
