/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks on vhost-user messages before librte_vhost applies them (see
 * vdp_vumsg.h). Payload layouts from the vhost-user protocol
 * ("Message types"), little-endian: every field is read once, from the
 * bytes that arrived, and a payload shorter than its request needs is
 * refused.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vdp_ring.h"
#include "vdp_features.h"
#include "vdp_vumsg.h"

static const char *const vdp_vu_names[] = {
	[VDP_VU_GET_FEATURES] = "GET_FEATURES",
	[VDP_VU_SET_FEATURES] = "SET_FEATURES",
	[VDP_VU_SET_OWNER] = "SET_OWNER",
	[VDP_VU_RESET_OWNER] = "RESET_OWNER",
	[VDP_VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VDP_VU_SET_LOG_BASE] = "SET_LOG_BASE",
	[VDP_VU_SET_LOG_FD] = "SET_LOG_FD",
	[VDP_VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VDP_VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VDP_VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VDP_VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VDP_VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VDP_VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VDP_VU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VDP_VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VDP_VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VDP_VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VDP_VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VDP_VU_SEND_RARP] = "SEND_RARP",
	[VDP_VU_NET_SET_MTU] = "NET_SET_MTU",
	[VDP_VU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VDP_VU_IOTLB_MSG] = "IOTLB_MSG",
	[VDP_VU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VDP_VU_GET_CONFIG] = "GET_CONFIG",
	[VDP_VU_SET_CONFIG] = "SET_CONFIG",
	[VDP_VU_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VDP_VU_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VDP_VU_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VDP_VU_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VDP_VU_POSTCOPY_END] = "POSTCOPY_END",
	[VDP_VU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VDP_VU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VDP_VU_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VDP_VU_RESET_DEVICE] = "RESET_DEVICE",
	[VDP_VU_VRING_KICK] = "VRING_KICK",
	[VDP_VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VDP_VU_ADD_MEM_REG] = "ADD_MEM_REG",
	[VDP_VU_REM_MEM_REG] = "REM_MEM_REG",
	[VDP_VU_SET_STATUS] = "SET_STATUS",
	[VDP_VU_GET_STATUS] = "GET_STATUS",
};

const char *
vdp_vumsg_name(uint32_t req)
{
	if (req < sizeof(vdp_vu_names) / sizeof(vdp_vu_names[0]))
		return vdp_vu_names[req];
	return NULL;
}

/* Little-endian loads from the payload (bounds checked by the caller). */
static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static enum vdp_vu_verdict __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (whylen != 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return VDP_VU_REFUSE;
}

/* Payload offsets and sizes of the layouts used below. */
#define VU_STATE_LEN 8u       /* u32 index, u32 num */
#define VU_ADDR_LEN 40u       /* u32 index, u32 flags, desc, used, avail, log */
#define VU_MEM_HDR 8u         /* u32 nregions, u32 padding */
#define VU_MEM_REGION 32u     /* gpa, size, uva, mmap_offset */
#define VU_U64_LEN 8u

/* Requests that read state only (or touch nothing of ours): no pause. */
static bool
harmless(uint32_t req)
{
	switch (req) {
	case VDP_VU_GET_FEATURES:
	case VDP_VU_GET_PROTOCOL_FEATURES:
	case VDP_VU_GET_QUEUE_NUM:
	case VDP_VU_GET_CONFIG:
	case VDP_VU_GET_STATUS:
	case VDP_VU_GET_MAX_MEM_SLOTS:
	case VDP_VU_SET_OWNER:
	case VDP_VU_NET_SET_MTU:
		return true;
	default:
		return false;
	}
}

/* The file descriptor rule of the vring fd requests: one eventfd, or none
 * with the no-fd bit. */
static enum vdp_vu_verdict
check_vring_fd(uint32_t req, const uint8_t *pl, size_t len,
	       const struct vdp_vu_fd *fds, uint32_t nfds,
	       const struct vdp_vu_policy *pol, char *why, size_t whylen)
{
	uint64_t v;
	uint32_t idx;

	if (len < VU_U64_LEN)
		return refuse(why, whylen, "payload of %zu bytes, 8 expected", len);
	v = ld64(pl);
	idx = (uint32_t)(v & VDP_VU_VRING_IDX_MASK);
	if (idx >= pol->max_vrings)
		return refuse(why, whylen, "vring %u beyond the %u we serve", idx,
			      pol->max_vrings);
	if (v & VDP_VU_VRING_NOFD) {
		if (nfds != 0)
			return refuse(why, whylen, "vring %u: %u fds with the no-fd bit",
				      idx, nfds);
		return VDP_VU_RINGS;
	}
	if (nfds != 1)
		return refuse(why, whylen, "vring %u: %u fds, 1 expected", idx, nfds);
	if (fds[0].kind != VDP_VU_FD_EVENTFD)
		return refuse(why, whylen, "vring %u: the %s fd is not an eventfd "
			      "(a pipe or socket nobody reads would block us)", idx,
			      req == VDP_VU_SET_VRING_CALL ? "call" :
			      req == VDP_VU_SET_VRING_KICK ? "kick" : "error");
	return VDP_VU_RINGS;
}

/*
 * SET_LOG_BASE: the VMM's dirty-page bitmap (live migration), mapped by
 * librte_vhost. One memory file, on tmpfs (a memfd), the range [offset,
 * offset + size) inside it, without wrapping (CVE-2020-10722's class: a
 * size and offset that add past 2^64 or past the file), and at most
 * VDP_VU_LOG_MAX bytes (the bitmap of 4 TiB of guest memory).
 */
static enum vdp_vu_verdict
check_log_base(const uint8_t *pl, size_t len, const struct vdp_vu_fd *fds, uint32_t nfds,
	       const struct vdp_vu_policy *pol, char *why, size_t whylen)
{
	uint64_t size, off;

	if (!(pol->features & VDP_BIT(VDP_F_LOG_ALL)))
		return refuse(why, whylen, "dirty-page logging is not offered");
	if (len < 2 * sizeof(uint64_t))
		return refuse(why, whylen, "log payload of %zu bytes, 16 expected", len);
	size = ld64(pl);
	off = ld64(pl + 8);
	if (nfds != 1)
		return refuse(why, whylen, "log: %u fds, 1 expected", nfds);
	if (fds[0].kind != VDP_VU_FD_REGULAR)
		return refuse(why, whylen, "log: not a memory file on tmpfs");
	if (size == 0 || size > VDP_VU_LOG_MAX)
		return refuse(why, whylen, "log size %llu (1..%llu accepted)",
			      (unsigned long long)size, (unsigned long long)VDP_VU_LOG_MAX);
	if (off + size < off || off + size > fds[0].size)
		return refuse(why, whylen, "log range [0x%llx, +0x%llx) past its file "
			      "(%llu bytes)", (unsigned long long)off,
			      (unsigned long long)size, (unsigned long long)fds[0].size);
	return VDP_VU_RINGS;
}

/*
 * SEND_RARP (after a live migration, for a guest without GUEST_ANNOUNCE):
 * the guest's MAC in the first 6 bytes of a u64, to be announced from
 * its port. A group (multicast, broadcast) or all-zero address would make
 * every switch on the way learn a bogus station: refused. Passes without
 * a pause; the caller announces it (vdp_vumsg_mac).
 */
static enum vdp_vu_verdict
check_rarp(const uint8_t *pl, size_t len, const struct vdp_vu_policy *pol,
	   char *why, size_t whylen)
{
	uint8_t mac[6];

	if (!(pol->protocol_features & (1ULL << VDP_VU_PF_RARP)))
		return refuse(why, whylen, "RARP announcing is not offered");
	if (len < VU_U64_LEN)
		return refuse(why, whylen, "payload of %zu bytes, 8 expected", len);
	vdp_vumsg_mac(pl, mac);
	if (mac[0] & 1)
		return refuse(why, whylen, "RARP for a group address "
			      "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
			      mac[3], mac[4], mac[5]);
	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return refuse(why, whylen, "RARP for the all-zero address");
	return VDP_VU_PASS;
}

static enum vdp_vu_verdict
check_mem_table(const uint8_t *pl, size_t len, const struct vdp_vu_fd *fds,
		uint32_t nfds, char *why, size_t whylen)
{
	struct {
		uint64_t gpa, size;
	} seen[VDP_VU_MAX_REGIONS];
	uint32_t n;

	if (len < VU_MEM_HDR)
		return refuse(why, whylen, "memory table payload of %zu bytes", len);
	n = ld32(pl);
	if (n == 0 || n > VDP_VU_MAX_REGIONS)
		return refuse(why, whylen, "%u memory regions (1..%u accepted)", n,
			      VDP_VU_MAX_REGIONS);
	if (len < VU_MEM_HDR + (size_t)n * VU_MEM_REGION)
		return refuse(why, whylen, "%u memory regions in a payload of %zu bytes",
			      n, len);
	if (nfds != n)
		return refuse(why, whylen, "%u memory regions with %u fds", n, nfds);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = pl + VU_MEM_HDR + (size_t)i * VU_MEM_REGION;
		uint64_t gpa = ld64(r), size = ld64(r + 8), uva = ld64(r + 16);
		uint64_t off = ld64(r + 24);
		const struct vdp_vu_fd *f = &fds[i];

		if (f->kind == VDP_VU_FD_HOSTMEM)
			return refuse(why, whylen, "memory region %u: its file is this "
				      "process's own memory", i);
		if (f->kind == VDP_VU_FD_FILE)
			return refuse(why, whylen, "memory region %u: its file is not on "
				      "tmpfs or hugetlbfs (guest memory is a memfd, a "
				      "/dev/shm or a hugetlbfs file)", i);
		if (f->kind != VDP_VU_FD_REGULAR)
			return refuse(why, whylen, "memory region %u: its fd is not a "
				      "regular file (memfd, hugetlbfs or tmpfs)", i);
		if (size == 0)
			return refuse(why, whylen, "memory region %u: size 0", i);
		if (gpa + size < gpa || uva + size < uva)
			return refuse(why, whylen, "memory region %u: address 0x%llx or "
				      "0x%llx + size 0x%llx wraps", i,
				      (unsigned long long)gpa, (unsigned long long)uva,
				      (unsigned long long)size);
		/*
		 * The region is mapped from file offset 0 to mmap_offset +
		 * size: every page of that must be backed by the file, or
		 * touching it is a SIGBUS. (Rounded up to the page, the last
		 * page still holds file bytes.)
		 */
		if (off + size < off || off + size > f->size)
			return refuse(why, whylen, "memory region %u ends at file offset "
				      "0x%llx + 0x%llx, past the end of its file (0x%llx "
				      "bytes)", i, (unsigned long long)off,
				      (unsigned long long)size,
				      (unsigned long long)f->size);
		if (f->blksize == 0 || (f->blksize & (f->blksize - 1)) != 0)
			return refuse(why, whylen, "memory region %u: page size %u", i,
				      f->blksize);
		for (uint32_t j = 0; j < i; j++)
			if (gpa < seen[j].gpa + seen[j].size && seen[j].gpa < gpa + size)
				return refuse(why, whylen, "memory regions %u and %u "
					      "overlap in guest physical addresses", j, i);
		seen[i].gpa = gpa;
		seen[i].size = size;
	}
	return VDP_VU_RINGS;
}

enum vdp_vu_verdict
vdp_vumsg_check(uint32_t req, uint32_t flags, uint32_t size,
		const uint8_t *pl, size_t len, const struct vdp_vu_fd *fds,
		uint32_t nfds, const struct vdp_vu_policy *pol,
		char *why, size_t whylen)
{
	uint32_t idx, num;

	if (whylen != 0)
		why[0] = '\0';
	if ((flags & VDP_VU_F_VERSION_MASK) != 1)
		return refuse(why, whylen, "protocol version %u", flags & VDP_VU_F_VERSION_MASK);
	if (size > VDP_VU_PAYLOAD_MAX || len > VDP_VU_PAYLOAD_MAX)
		return refuse(why, whylen, "payload of %u bytes", size);
	/* What the header says arrived must have arrived. */
	if (len > size)
		len = size;
	if (nfds > VDP_VU_MAX_REGIONS)
		return refuse(why, whylen, "%u fds", nfds);
	if (harmless(req))
		return VDP_VU_PASS;

	switch (req) {
	case VDP_VU_SET_FEATURES:
		if (len < VU_U64_LEN)
			return refuse(why, whylen, "payload of %zu bytes, 8 expected", len);
		if (ld64(pl) & ~pol->features)
			return refuse(why, whylen, "features 0x%llx: 0x%llx not offered",
				      (unsigned long long)ld64(pl),
				      (unsigned long long)(ld64(pl) & ~pol->features));
		return VDP_VU_RINGS;
	case VDP_VU_SET_PROTOCOL_FEATURES:
		if (len < VU_U64_LEN)
			return refuse(why, whylen, "payload of %zu bytes, 8 expected", len);
		if (ld64(pl) & ~pol->protocol_features)
			return refuse(why, whylen, "protocol features 0x%llx: 0x%llx not "
				      "offered", (unsigned long long)ld64(pl),
				      (unsigned long long)(ld64(pl) & ~pol->protocol_features));
		return VDP_VU_RINGS;
	case VDP_VU_SET_MEM_TABLE:
		return check_mem_table(pl, len, fds, nfds, why, whylen);
	case VDP_VU_SET_VRING_NUM:
	case VDP_VU_SET_VRING_BASE:
	case VDP_VU_GET_VRING_BASE:
	case VDP_VU_SET_VRING_ENABLE:
		if (len < VU_STATE_LEN)
			return refuse(why, whylen, "payload of %zu bytes, 8 expected", len);
		idx = ld32(pl);
		num = ld32(pl + 4);
		if (idx >= pol->max_vrings)
			return refuse(why, whylen, "vring %u beyond the %u we serve", idx,
				      pol->max_vrings);
		if (req == VDP_VU_SET_VRING_NUM &&
		    (num == 0 || num > VDP_RING_SIZE_MAX || (num & (num - 1)) != 0))
			return refuse(why, whylen, "vring %u: size %u (a power of two "
				      "up to %u expected)", idx, num, VDP_RING_SIZE_MAX);
		/* split: a 16-bit index; packed (QEMU): the avail slot and its
		 * wrap counter in bits 0-15, the used one in bits 16-31, each
		 * slot at most 32767 by its 15 bits (the ring load checks it
		 * against the ring size) */
		if (req == VDP_VU_SET_VRING_BASE && num > UINT16_MAX &&
		    !(pol->features & VDP_BIT(VDP_F_RING_PACKED)))
			return refuse(why, whylen, "vring %u: base %u", idx, num);
		if (req == VDP_VU_SET_VRING_ENABLE && num > 1)
			return refuse(why, whylen, "vring %u: enable %u", idx, num);
		return VDP_VU_RINGS;
	case VDP_VU_SET_VRING_ADDR: {
		uint64_t desc, used, avail;

		if (len < VU_ADDR_LEN)
			return refuse(why, whylen, "payload of %zu bytes, %u expected", len,
				      VU_ADDR_LEN);
		idx = ld32(pl);
		if (idx >= pol->max_vrings)
			return refuse(why, whylen, "vring %u beyond the %u we serve", idx,
				      pol->max_vrings);
		if ((ld32(pl + 4) & VDP_VU_VRING_F_LOG) &&
		    !(pol->features & VDP_BIT(VDP_F_LOG_ALL)))
			return refuse(why, whylen, "vring %u: dirty logging asked for, "
				      "not offered", idx);
		desc = ld64(pl + 8);
		used = ld64(pl + 16);
		avail = ld64(pl + 24);
		/* virtio 1.1 2.6: alignment of the three tables */
		if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0)
			return refuse(why, whylen, "vring %u: tables misaligned (desc 0x%llx "
				      "avail 0x%llx used 0x%llx)", idx,
				      (unsigned long long)desc, (unsigned long long)avail,
				      (unsigned long long)used);
		return VDP_VU_RINGS;
	}
	case VDP_VU_SET_VRING_KICK:
	case VDP_VU_SET_VRING_CALL:
	case VDP_VU_SET_VRING_ERR:
		return check_vring_fd(req, pl, len, fds, nfds, pol, why, whylen);
	case VDP_VU_SET_LOG_BASE:
		return check_log_base(pl, len, fds, nfds, pol, why, whylen);
	case VDP_VU_SET_LOG_FD:
		if (!(pol->features & VDP_BIT(VDP_F_LOG_ALL)))
			return refuse(why, whylen, "dirty-page logging is not offered");
		if (nfds != 1 || fds[0].kind != VDP_VU_FD_EVENTFD)
			return refuse(why, whylen, "log fd: %u fds, one eventfd expected", nfds);
		return VDP_VU_RINGS;
	case VDP_VU_SEND_RARP:
		return check_rarp(pl, len, pol, why, whylen);
	case VDP_VU_SET_BACKEND_REQ_FD:
	case VDP_VU_IOTLB_MSG:
	case VDP_VU_SET_VRING_ENDIAN:
	case VDP_VU_SET_CONFIG:
	case VDP_VU_CREATE_CRYPTO_SESSION:
	case VDP_VU_CLOSE_CRYPTO_SESSION:
	case VDP_VU_POSTCOPY_ADVISE:
	case VDP_VU_POSTCOPY_LISTEN:
	case VDP_VU_POSTCOPY_END:
	case VDP_VU_GET_INFLIGHT_FD:
	case VDP_VU_SET_INFLIGHT_FD:
	case VDP_VU_GPU_SET_SOCKET:
	case VDP_VU_VRING_KICK:
	case VDP_VU_ADD_MEM_REG:
	case VDP_VU_REM_MEM_REG:
		/* their protocol features are never offered */
		return refuse(why, whylen, "not negotiated");
	default:
		/* RESET_OWNER, RESET_DEVICE, SET_STATUS, unknown: pause */
		return VDP_VU_RINGS;
	}
}
