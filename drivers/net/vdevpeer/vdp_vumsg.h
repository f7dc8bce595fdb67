/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks on a vhost-user message before librte_vhost applies it.
 *
 * The VMM on the other end of the socket is trusted less than the host.
 * librte_vhost parses its messages, but accepts some that hurt us (a ring
 * size of 0, a memory region past the end of its file: the process dies
 * with SIGBUS as soon as anyone touches it, a call "eventfd" that is a
 * pipe nobody reads). vdp_vumsg_check() looks at one message, with what
 * the caller learned about the file descriptors that came with it, and
 * says: harmless (let it through, nothing to pause), changes rings or
 * memory (pause our queues around it), or refuse (with the reason).
 *
 * EAL-free and without system calls: the PMD gathers the fd facts
 * (vdevpeer_vhost.c), the unit tests and the fuzzer make them up.
 */
#ifndef VDP_VUMSG_H
#define VDP_VUMSG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Front-end requests (vhost-user protocol, "Front-end message types"). */
enum vdp_vu_req {
	VDP_VU_GET_FEATURES = 1,
	VDP_VU_SET_FEATURES = 2,
	VDP_VU_SET_OWNER = 3,
	VDP_VU_RESET_OWNER = 4,
	VDP_VU_SET_MEM_TABLE = 5,
	VDP_VU_SET_LOG_BASE = 6,
	VDP_VU_SET_LOG_FD = 7,
	VDP_VU_SET_VRING_NUM = 8,
	VDP_VU_SET_VRING_ADDR = 9,
	VDP_VU_SET_VRING_BASE = 10,
	VDP_VU_GET_VRING_BASE = 11,
	VDP_VU_SET_VRING_KICK = 12,
	VDP_VU_SET_VRING_CALL = 13,
	VDP_VU_SET_VRING_ERR = 14,
	VDP_VU_GET_PROTOCOL_FEATURES = 15,
	VDP_VU_SET_PROTOCOL_FEATURES = 16,
	VDP_VU_GET_QUEUE_NUM = 17,
	VDP_VU_SET_VRING_ENABLE = 18,
	VDP_VU_SEND_RARP = 19,
	VDP_VU_NET_SET_MTU = 20,
	VDP_VU_SET_BACKEND_REQ_FD = 21,
	VDP_VU_IOTLB_MSG = 22,
	VDP_VU_SET_VRING_ENDIAN = 23,
	VDP_VU_GET_CONFIG = 24,
	VDP_VU_SET_CONFIG = 25,
	VDP_VU_CREATE_CRYPTO_SESSION = 26,
	VDP_VU_CLOSE_CRYPTO_SESSION = 27,
	VDP_VU_POSTCOPY_ADVISE = 28,
	VDP_VU_POSTCOPY_LISTEN = 29,
	VDP_VU_POSTCOPY_END = 30,
	VDP_VU_GET_INFLIGHT_FD = 31,
	VDP_VU_SET_INFLIGHT_FD = 32,
	VDP_VU_GPU_SET_SOCKET = 33,
	VDP_VU_RESET_DEVICE = 34,
	VDP_VU_VRING_KICK = 35,
	VDP_VU_GET_MAX_MEM_SLOTS = 36,
	VDP_VU_ADD_MEM_REG = 37,
	VDP_VU_REM_MEM_REG = 38,
	VDP_VU_SET_STATUS = 39,
	VDP_VU_GET_STATUS = 40,
};

/* Message flags (header), payload bits. */
#define VDP_VU_F_VERSION_MASK 0x3u
#define VDP_VU_F_REPLY 0x4u
#define VDP_VU_F_NEED_REPLY 0x8u
#define VDP_VU_VRING_IDX_MASK 0xffu
#define VDP_VU_VRING_NOFD (1u << 8)
#define VDP_VU_VRING_F_LOG 1u
#define VDP_VU_MAX_REGIONS 8u

/* Protocol features (GET/SET_PROTOCOL_FEATURES bits). */
enum vdp_vu_pfeat {
	VDP_VU_PF_MQ = 0,
	VDP_VU_PF_LOG_SHMFD = 1,
	VDP_VU_PF_RARP = 2,
	VDP_VU_PF_REPLY_ACK = 3,
	VDP_VU_PF_NET_MTU = 4,
	VDP_VU_PF_BACKEND_REQ = 5,
	VDP_VU_PF_CROSS_ENDIAN = 6,
	VDP_VU_PF_CRYPTO_SESSION = 7,
	VDP_VU_PF_PAGEFAULT = 8,
	VDP_VU_PF_CONFIG = 9,
	VDP_VU_PF_BACKEND_SEND_FD = 10,
	VDP_VU_PF_HOST_NOTIFIER = 11,
	VDP_VU_PF_INFLIGHT_SHMFD = 12,
	VDP_VU_PF_RESET_DEVICE = 13,
	VDP_VU_PF_INBAND_NOTIFICATIONS = 14,
	VDP_VU_PF_CONFIGURE_MEM_SLOTS = 15,
	VDP_VU_PF_STATUS = 16,
};

/* What the caller found out about one file descriptor of the message. */
enum vdp_vu_fd_kind {
	VDP_VU_FD_BAD = 0,     /* not a valid descriptor (fstat failed) */
	VDP_VU_FD_REGULAR,     /* a memory file: regular, on tmpfs (memfds)
				* or hugetlbfs */
	VDP_VU_FD_EVENTFD,     /* an eventfd */
	VDP_VU_FD_OTHER,       /* pipe, socket, device, directory, ... */
	VDP_VU_FD_FILE,        /* a regular file elsewhere (a disk, a
				* device's resource file in sysfs) */
	VDP_VU_FD_HOSTMEM,     /* this process's own memory */
	VDP_VU_FD_NB
};

struct vdp_vu_fd {
	enum vdp_vu_fd_kind kind;
	uint64_t size;         /* memory file: its size now */
	uint32_t blksize;      /* memory file: its page size */
};

/* The largest dirty log accepted: one bit per 4 KiB page of 4 TiB. */
#define VDP_VU_LOG_MAX (128ull << 20)

/* What this backend accepts. */
struct vdp_vu_policy {
	uint64_t features;          /* SET_FEATURES must stay inside these */
	uint64_t protocol_features; /* SET_PROTOCOL_FEATURES likewise */
	uint32_t max_vrings;        /* vring indexes at or past this are refused */
};

enum vdp_vu_verdict {
	VDP_VU_PASS = 0,  /* harmless: reads only, nothing to pause */
	VDP_VU_RINGS,     /* accepted; may change rings, memory or fds */
	VDP_VU_REFUSE,    /* refused: *why says why */
};

/* Largest payload librte_vhost takes (its message union). */
#define VDP_VU_PAYLOAD_MAX 632u

/*
 * Check one message: request req, header flags, header size field, the
 * payload bytes we have (payload_len of them: at most VDP_VU_PAYLOAD_MAX,
 * what arrived), and its fds. Reads each payload field once. Unknown
 * requests are VDP_VU_RINGS (paused around, librte_vhost decides): only
 * requests known to change nothing pass without a pause.
 */
enum vdp_vu_verdict vdp_vumsg_check(uint32_t req, uint32_t flags, uint32_t size,
				    const uint8_t *payload, size_t payload_len,
				    const struct vdp_vu_fd *fds, uint32_t nfds,
				    const struct vdp_vu_policy *pol,
				    char *why, size_t whylen);

/* SEND_RARP's MAC: the first 6 bytes of its u64 payload (at least 8
 * bytes, as vdp_vumsg_check made sure). */
static inline void
vdp_vumsg_mac(const uint8_t *payload, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = payload[i];
}

/* Name of a request, "request <n>" style for unknown ones (static buffer
 * not used: returns NULL for unknown). */
const char *vdp_vumsg_name(uint32_t req);

#ifdef __cplusplus
}
#endif

#endif /* VDP_VUMSG_H */
