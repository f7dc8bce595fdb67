/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the checks on a vhost-user message before librte_vhost
 * applies it (vdp_vumsg_check). The input is one message - header, the
 * facts the PMD gathers about each fd that came with it, the policy, and
 * the payload - and the verdict is checked against rules written here
 * from the vhost-user protocol and docs/security.md, independently of
 * vdp_vumsg.c:
 *  - a memory table accepted has 1..8 regions, one regular-file fd each,
 *    every region non-empty, inside its file (mmap_offset + size, no
 *    wrap), without wrapping addresses and without overlapping another;
 *  - a ring size accepted is a power of two in 1..32768; a base at most
 *    65535; an enable 0 or 1; an index below the policy's limit;
 *  - a call, kick or error fd accepted is one eventfd, or none with the
 *    no-fd bit;
 *  - ring addresses accepted are aligned (16, 2, 4) and ask logging only
 *    when the policy offers LOG_ALL (bit 26);
 *  - features and protocol features accepted are inside the policy;
 *  - a dirty log accepted (LOG_ALL offered) is one tmpfs memory file,
 *    its range [offset, offset + size) non-empty, at most
 *    VDP_VU_LOG_MAX, without wrapping and inside the file; a log fd one
 *    eventfd;
 *  - postcopy, inflight, memory slots, backend fds are never accepted;
 *    only read-only requests pass without a pause;
 *  - a refusal always says why, in a terminated string.
 * The payload is a heap buffer of exactly the bytes that arrived, so
 * ASan sees any read past them.
 *
 * Input layout (little-endian; missing bytes read as zero):
 *   0  u8   request (v % 48: every known request and some unknown ones)
 *   1  u8   flags (low bits: version, reply, need-reply)
 *   2  u16  header size field (v, or v % 700 when bit 15 is set)
 *   4  u8   fds: v % 10 (librte_vhost passes at most 8; 9 is too many)
 *   5  u8   [9] per fd: kind (v % VDP_VU_FD_NB), then
 *  14  u32  [9] per fd: file size in 4 KiB pages, + (v >> 24) bytes
 *  50  u8   [9] per fd: page size log2 (v % 32: also invalid ones)
 *  59  u64  policy features
 *  67  u64  policy protocol features
 *  75  u16  policy max vrings (0 means 256)
 *  77       payload (bytes that arrived: the rest of the input, at most 632)
 *
 * fuzz-args: -max_len=800
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_vumsg.h"

#define FZ_NAME "fuzz_vumsg"
#include "fuzz_check.h"

#define FZ_MAX_FDS 9u
#define FZ_PAYLOAD_OFF 77u

static uint64_t
ld(const uint8_t *in, size_t n, size_t off, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		if (off + i < n)
			v |= (uint64_t)in[off + i] << (8 * i);
	return v;
}


/* Payload field at off, zero when the message is shorter (then it must
 * have been refused for its length: the callers check that first). */
static uint64_t
pl(const uint8_t *p, size_t len, size_t off, unsigned int bytes)
{
	return ld(p, len, off, bytes);
}

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static void
check_mem_table(const uint8_t *p, size_t len, const struct vdp_vu_fd *fds, uint32_t nfds)
{
	uint32_t n;

	if (len < 8)
		FZ_FAIL("memory table of %zu bytes accepted", len);
	n = (uint32_t)pl(p, len, 0, 4);
	if (n == 0 || n > 8 || n != nfds || len < 8 + (size_t)n * 32)
		FZ_FAIL("memory table of %u regions, %u fds, %zu bytes accepted", n, nfds, len);
	for (uint32_t i = 0; i < n; i++) {
		size_t r = 8 + (size_t)i * 32;
		uint64_t gpa = pl(p, len, r, 8), size = pl(p, len, r + 8, 8);
		uint64_t uva = pl(p, len, r + 16, 8), off = pl(p, len, r + 24, 8);

		if (fds[i].kind != VDP_VU_FD_REGULAR)
			FZ_FAIL("region %u: fd of kind %d accepted", i, fds[i].kind);
		if (size == 0)
			FZ_FAIL("region %u: size 0 accepted", i);
		if (gpa + size < gpa || uva + size < uva)
			FZ_FAIL("region %u: wrapping address accepted", i);
		if (off + size < off || off + size > fds[i].size)
			FZ_FAIL("region %u: 0x%llx + 0x%llx past a file of 0x%llx accepted", i,
			     (unsigned long long)off, (unsigned long long)size,
			     (unsigned long long)fds[i].size);
		if (!is_pow2(fds[i].blksize))
			FZ_FAIL("region %u: page size %u accepted", i, fds[i].blksize);
		for (uint32_t j = 0; j < i; j++) {
			size_t q = 8 + (size_t)j * 32;
			uint64_t g2 = pl(p, len, q, 8), s2 = pl(p, len, q + 8, 8);

			if (gpa < g2 + s2 && g2 < gpa + size)
				FZ_FAIL("regions %u and %u overlap, accepted", j, i);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
	struct vdp_vu_fd fds[FZ_MAX_FDS];
	struct vdp_vu_policy pol;
	enum vdp_vu_verdict v;
	uint32_t req, flags, size, nfds;
	size_t plen;
	uint8_t *p;
	char why[160];

	req = (uint32_t)(ld(in, n, 0, 1) % 48);
	flags = (uint32_t)ld(in, n, 1, 1);
	size = (uint32_t)ld(in, n, 2, 2);
	if (size & 0x8000)
		size = (size & 0x7fff) % 700;
	nfds = (uint32_t)(ld(in, n, 4, 1) % (FZ_MAX_FDS + 1));
	for (uint32_t i = 0; i < FZ_MAX_FDS; i++) {
		uint64_t pages = ld(in, n, 14 + 4 * i, 4);

		fds[i].kind = (enum vdp_vu_fd_kind)(ld(in, n, 5 + i, 1) % VDP_VU_FD_NB);
		fds[i].size = (pages & 0xffffff) * 4096 + (pages >> 24);
		fds[i].blksize = 1u << (ld(in, n, 50 + i, 1) % 32);
		if ((ld(in, n, 50 + i, 1) & 0x80) != 0)
			fds[i].blksize = (uint32_t)ld(in, n, 50 + i, 1);  /* also non-powers */
	}
	pol.features = ld(in, n, 59, 8);
	pol.protocol_features = ld(in, n, 67, 8);
	pol.max_vrings = (uint32_t)ld(in, n, 75, 2);
	if (pol.max_vrings == 0)
		pol.max_vrings = 256;

	/* exactly the bytes that arrived, on the heap */
	plen = n > FZ_PAYLOAD_OFF ? n - FZ_PAYLOAD_OFF : 0;
	if (plen > VDP_VU_PAYLOAD_MAX)
		plen = VDP_VU_PAYLOAD_MAX;
	p = malloc(plen ? plen : 1);
	if (p == NULL)
		return 0;
	if (plen)
		memcpy(p, in + FZ_PAYLOAD_OFF, plen);

	memset(why, 'x', sizeof(why));
	v = vdp_vumsg_check(req, flags, size, p, plen, fds, nfds, &pol, why, sizeof(why));
	if (memchr(why, '\0', sizeof(why)) == NULL)
		FZ_FAIL("reason not terminated");
	if (v == VDP_VU_REFUSE) {
		if (why[0] == '\0')
			FZ_FAIL("request %u refused without a reason", req);
		free(p);
		return 0;
	}
	if (v != VDP_VU_PASS && v != VDP_VU_RINGS)
		FZ_FAIL("verdict %d", v);
	/* accepted: what arrived is what the header says, at most */
	{
		size_t len = plen < size ? plen : size;

		if ((flags & VDP_VU_F_VERSION_MASK) != 1)
			FZ_FAIL("version %u accepted", flags & VDP_VU_F_VERSION_MASK);
		if (size > VDP_VU_PAYLOAD_MAX || nfds > 8)
			FZ_FAIL("size %u / %u fds accepted", size, nfds);
		switch (req) {
		case VDP_VU_SET_MEM_TABLE:
			check_mem_table(p, len, fds, nfds);
			break;
		case VDP_VU_SET_VRING_NUM:
		case VDP_VU_SET_VRING_BASE:
		case VDP_VU_GET_VRING_BASE:
		case VDP_VU_SET_VRING_ENABLE: {
			uint64_t idx = pl(p, len, 0, 4), num = pl(p, len, 4, 4);

			if (len < 8 || idx >= pol.max_vrings)
				FZ_FAIL("vring state (%zu bytes, index %llu) accepted", len,
				     (unsigned long long)idx);
			if (req == VDP_VU_SET_VRING_NUM && (!is_pow2(num) || num > 32768))
				FZ_FAIL("ring size %llu accepted", (unsigned long long)num);
			/* packed offered: QEMU's two 16-bit positions */
			if (req == VDP_VU_SET_VRING_BASE && num > 65535 &&
			    !(pol.features & (1ULL << 34)))
				FZ_FAIL("base %llu accepted", (unsigned long long)num);
			if (req == VDP_VU_SET_VRING_ENABLE && num > 1)
				FZ_FAIL("enable %llu accepted", (unsigned long long)num);
			break;
		}
		case VDP_VU_SET_VRING_ADDR:
			if (len < 40 || pl(p, len, 0, 4) >= pol.max_vrings ||
			    ((pl(p, len, 4, 4) & VDP_VU_VRING_F_LOG) &&
			     !(pol.features & (1ULL << 26))) ||
			    (pl(p, len, 8, 8) & 15) || (pl(p, len, 16, 8) & 3) ||
			    (pl(p, len, 24, 8) & 1))
				FZ_FAIL("ring addresses accepted");
			break;
		case VDP_VU_SET_VRING_KICK:
		case VDP_VU_SET_VRING_CALL:
		case VDP_VU_SET_VRING_ERR: {
			uint64_t u = pl(p, len, 0, 8);

			if (len < 8 || (u & VDP_VU_VRING_IDX_MASK) >= pol.max_vrings)
				FZ_FAIL("vring fd message accepted (%zu bytes)", len);
			if ((u & VDP_VU_VRING_NOFD) ? nfds != 0 :
			    (nfds != 1 || fds[0].kind != VDP_VU_FD_EVENTFD))
				FZ_FAIL("vring fd: %u fds, kind %d accepted", nfds,
				     nfds ? fds[0].kind : -1);
			break;
		}
		case VDP_VU_SET_FEATURES:
			if (len < 8 || (pl(p, len, 0, 8) & ~pol.features))
				FZ_FAIL("features accepted");
			break;
		case VDP_VU_SET_PROTOCOL_FEATURES:
			if (len < 8 || (pl(p, len, 0, 8) & ~pol.protocol_features))
				FZ_FAIL("protocol features accepted");
			break;
		case VDP_VU_SET_LOG_BASE: {
			uint64_t size = pl(p, len, 0, 8), off = pl(p, len, 8, 8);

			if (!(pol.features & (1ULL << 26)) || len < 16 || nfds != 1 ||
			    fds[0].kind != VDP_VU_FD_REGULAR || size == 0 ||
			    size > VDP_VU_LOG_MAX || off + size < off ||
			    off + size > fds[0].size)
				FZ_FAIL("log base accepted (size %llu off %llu, %u fds)",
					(unsigned long long)size, (unsigned long long)off, nfds);
			break;
		}
		case VDP_VU_SET_LOG_FD:
			if (!(pol.features & (1ULL << 26)) || nfds != 1 ||
			    fds[0].kind != VDP_VU_FD_EVENTFD)
				FZ_FAIL("log fd accepted");
			break;
		case VDP_VU_SET_BACKEND_REQ_FD:
		case VDP_VU_IOTLB_MSG:
		case VDP_VU_POSTCOPY_ADVISE:
		case VDP_VU_POSTCOPY_LISTEN:
		case VDP_VU_POSTCOPY_END:
		case VDP_VU_GET_INFLIGHT_FD:
		case VDP_VU_SET_INFLIGHT_FD:
		case VDP_VU_ADD_MEM_REG:
		case VDP_VU_REM_MEM_REG:
			FZ_FAIL("request %u accepted", req);
			break;
		default:
			break;
		}
		if (v == VDP_VU_PASS &&
		    req != VDP_VU_GET_FEATURES && req != VDP_VU_GET_PROTOCOL_FEATURES &&
		    req != VDP_VU_GET_QUEUE_NUM && req != VDP_VU_GET_CONFIG &&
		    req != VDP_VU_GET_STATUS && req != VDP_VU_GET_MAX_MEM_SLOTS &&
		    req != VDP_VU_SET_OWNER && req != VDP_VU_SEND_RARP &&
		    req != VDP_VU_NET_SET_MTU)
			FZ_FAIL("request %u passed without a pause", req);
		/* a RARP announced for a group or zero address, or not offered */
		if (v == VDP_VU_PASS && req == VDP_VU_SEND_RARP) {
			uint8_t mac[6];

			if (!(pol.protocol_features & (1ULL << VDP_VU_PF_RARP)) || len < 8)
				FZ_FAIL("SEND_RARP passed unchecked");
			vdp_vumsg_mac(p, mac);
			if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
				FZ_FAIL("SEND_RARP for a group or zero MAC passed");
		}
	}
	free(p);
	return 0;
}
