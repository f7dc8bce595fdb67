/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer private definitions.
 *
 * Who runs what, and what may run at the same time:
 *
 *  - Burst functions (eth_vdevpeer_rx / eth_vdevpeer_tx) run on the lcore
 *    that polls the queue, one lcore per queue. They touch a queue's ring
 *    (struct vdp_vring), its memory map (q->mm, part of a struct vdp_gmap
 *    that never changes while queues use it) and its call fd only between
 *    vdp_queue_enter() and vdp_queue_leave(). A burst's work is bounded
 *    (vdp_ring.h: descriptors read, chains refused; a call fd write never
 *    blocks for long, see below).
 *  - vhost-user callbacks (new_device, destroy_device, vring_state_changed,
 *    pre/post message handlers) run on librte_vhost's event thread, one at
 *    a time per process, shared by every guest's session: they must never
 *    wait without a bound. Before they change a ring, a map or a call fd
 *    they pause the queues (vdp_queue_pause: clear `allow`, wait until
 *    `busy` is clear) and resume them afterwards. The wait is bounded
 *    (VDP_PAUSE_MAX_MS): a queue whose lcore has not left its burst by then
 *    is marked stuck and its port failed (link down, counted, logged);
 *    a stuck queue's ring, map and call fd are frozen - nothing of them is
 *    changed or freed - until the watchdog sees the lcore leave.
 *  - ethdev ops run on the application's control thread; those that change
 *    queue state take port->lock, as do the vhost callbacks, so the two
 *    never interleave. Between a pre and a post message handler
 *    (port->msg_req != 0) librte_vhost changes its device on the event
 *    thread without our lock: ethdev ops then make no librte_vhost call
 *    and load no ring; the post handler does it.
 *  - The watchdog (EAL alarm, every VDP_WATCHDOG_MS) notices stuck queues
 *    that left, lcores blocked writing a call fd (they get a signal that
 *    ends the write), contained SIGBUS faults (their ports are failed),
 *    and reaps guest memory maps nothing uses any more. It only trylocks
 *    port locks.
 *
 * Offload state: port->feat (features in use) and port->rx_ol_* change only
 * while the queues are paused (new_device) or stopped (dev_configure);
 * port->csum_on may be flipped at any time (rte_pmd_vdevpeer_set_csum) and
 * is read with a relaxed atomic load once per frame or burst. Software
 * segments waiting in an RX queue's pend[] belong to that queue's lcore.
 *
 * The pause handshake is Dekker-style: the lcore sets busy then reads
 * allow; the control thread clears allow then reads busy; both with
 * sequentially consistent atomics so at least one sees the other.
 *
 * Zero-copy (vdevpeer_zcopy.c) adds two more: the free callback of a
 * held guest buffer runs on whatever lcore or thread frees the last mbuf
 * pointing into it (often another port's TX lcore) and only sets that
 * buffer's done flag; and the watchdog (under vdp_gmem_lock) completes
 * orphaned buffer tables and unmaps guest memory maps once nothing points
 * into them. Everything else of a queue's zero-copy state belongs to
 * whoever owns the ring (lcore or, while paused, the control thread).
 */
#ifndef VDEVPEER_H
#define VDEVPEER_H

#include <sys/epoll.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "vdp_features.h"
#include "vdp_offload.h"
#include "vdp_numa.h"
#include "vdp_ring.h"

#define VDP_MAX_QUEUES 8          /* queue pairs per port */
#define VDP_MAX_VRINGS (2 * VDP_MAX_QUEUES)
#define VDP_PATH_MAX 256
#define VDP_NAME_MAX 64

extern int vdp_logtype_ctrl;
extern int vdp_logtype_data;

/* Control-plane log lines name the port and the socket. */
#define VDP_LOG(level, port, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vdp_logtype_ctrl, \
		"net_vdevpeer: %s (%s): " fmt "\n", \
		(port)->args.bind, (port)->args.peer, ##__VA_ARGS__)

#define VDP_LOG_NOPORT(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vdp_logtype_ctrl, \
		"net_vdevpeer: " fmt "\n", ##__VA_ARGS__)

/* ---- devargs ---- */
struct vdp_args {
	char peer[VDP_PATH_MAX];
	char bind[VDP_NAME_MAX];
	bool server;
	bool legacy;
	bool csum;              /* host-side offload allowed at start */
	bool mac_given;
	bool mac_random;
	struct rte_ether_addr mac;
	uint64_t peerfeats;
	uint16_t queues;
	uint8_t zerocopy;       /* enum vdp_zc_mode */
	int numa_node;          /* declared node of the guest's memory, -1: find it */
	uint32_t peer_hold_us;  /* direct path: the longest wait for the peer's
				 * receive buffers (vdp_peer_op_hold) */
};

/* peer_hold_us: the default (a guest's vCPU off its CPU for a host
 * scheduler slice, a few ms, does not lose its peer's frames), and the
 * most (well below a Linux guest's 5 s TX watchdog) */
#define VDP_PEER_HOLD_US_DEFAULT 10000u
#define VDP_PEER_HOLD_US_MAX 1000000u
/* A frame that found the peer's buffers too few (not none) is tried again
 * after this: each try copies up to a frame (64 KiB) into them before it
 * is undone, at most one per this while the wait lasts */
#define VDP_PEER_RETRY_US 50u



/*
 * What this driver implements, hence the most it will ever offer: UFO
 * (HOST_UFO, GUEST_UFO) is not. RING_PACKED: packed virtqueues (vdp_packed.c).
 */
#define VDP_FEATURES_IMPLEMENTED ( \
	VDP_BIT(VDP_F_MRG_RXBUF) | VDP_BIT(VDP_F_MQ) | \
	VDP_BIT(VDP_F_ANY_LAYOUT) | VDP_BIT(VDP_F_INDIRECT_DESC) | \
	VDP_BIT(VDP_F_EVENT_IDX) | VDP_BIT(VDP_F_VERSION_1) | \
	VDP_BIT(VDP_F_IN_ORDER) | VDP_BIT(VDP_F_RING_PACKED) | \
	VDP_BIT(VDP_F_GUEST_ANNOUNCE) | VDP_FEATURES_OFFLOAD)

/* Features the vhost-user transport needs regardless of peerfeats:
 * PROTOCOL_FEATURES, and LOG_ALL (dirty-page logging for live migration:
 * docs/migration.md). */
#define VDP_FEATURES_TRANSPORT (VDP_BIT(VDP_F_PROTOCOL_FEATURES) | VDP_BIT(VDP_F_LOG_ALL))


/* ---- statistics ---- */
/*
 * Counter families: each declared once, as a list of (enum suffix, xstat
 * name, what it counts) from which the enum, the names and the
 * descriptions (vdevpeer_xstats.c, docs/xstats.md) are generated.
 */

/* Offload work counted per queue (xstats <dir>_<name>). */
#define VDP_OL_LIST(_) \
	_(PARTIAL, "offload_partial_csum_packets", \
	  "frames with a partial checksum (NEEDS_CSUM), passed on as such") \
	_(GSO, "offload_gso_packets", "GSO frames, passed on whole") \
	_(SW_CSUM, "sw_csum_packets", "checksums completed in software") \
	_(SW_SEG, "sw_segments", "segments made in software") \
	_(DATA_VALID, "data_valid_packets", "frames delivered with DATA_VALID (checksum verified)")

enum vdp_ol_stat {
#define VDP_X_(e, name, desc) VDP_OL_##e,
	VDP_OL_LIST(VDP_X_)
#undef VDP_X_
	VDP_OL_NB
};

/* Frames by size, per queue (xstats <dir>_<name>). */
#define VDP_BIN_LIST(_) \
	_(64, "size_64_packets", "frames of 64 bytes or less") \
	_(65_127, "size_65_to_127_packets", "frames of 65 to 127 bytes") \
	_(128_255, "size_128_to_255_packets", "frames of 128 to 255 bytes") \
	_(256_511, "size_256_to_511_packets", "frames of 256 to 511 bytes") \
	_(512_1023, "size_512_to_1023_packets", "frames of 512 to 1023 bytes") \
	_(1024_1518, "size_1024_to_1518_packets", "frames of 1024 to 1518 bytes") \
	_(1519_MAX, "size_1519_to_max_packets", "frames of 1519 bytes or more")

enum vdp_size_bin {
#define VDP_X_(e, name, desc) VDP_BIN_##e,
	VDP_BIN_LIST(VDP_X_)
#undef VDP_X_
	VDP_NB_BINS
};

static inline enum vdp_size_bin
vdp_size_bin(uint32_t len)
{
	if (len <= 64)
		return VDP_BIN_64;
	if (len >= 1519)
		return VDP_BIN_1519_MAX;
	if (len >= 1024)
		return VDP_BIN_1024_1518;
	/* 65..1023: bin by highest bit (6 → 65_127 .. 9 → 512_1023) */
	return (enum vdp_size_bin)(31 - __builtin_clz(len - 1) - 5);
}

struct vdp_port;
struct vdp_queue;

/* ---- guest memory mapped by us (vdevpeer_gmem.c) ---- */

/* A file a VMM gave us (vdp_gfile_id: fstat, fstatfs). */
enum vdp_gfile_fs { VDP_GFILE_OTHER = 0, VDP_GFILE_TMPFS, VDP_GFILE_HUGETLBFS };

struct vdp_gfile_id {
	uint64_t dev, ino;
	uint64_t size;
	uint32_t pgsz;          /* its page size: huge page size on hugetlbfs */
	enum vdp_gfile_fs fs;   /* memfds are on tmpfs */
	bool regular;
	bool own;               /* this process's own DPDK memory */
	bool reg;               /* covered by the SIGBUS registry (ref taken) */
};

struct vdp_gmap_region {
	uint64_t lib_hua;       /* librte_vhost's host_user_addr (ring translation) */
	uint64_t gpa;
	uint64_t size;
	uint8_t *base;          /* our mapping of [0, len) of the region's file */
	size_t len;
	uint64_t off;           /* the region starts at base + off */
	struct vdp_gfile_id id;
	bool extmem;            /* registered with rte_extmem_register */
};

#define VDP_GMAP_MAX_DMA_DEVS 32
/* Maps of one port registered for zero-copy at most (the current one and
 * older ones held buffers still point into): each takes a memseg list per
 * region (of the process's 128). */
#define VDP_GMAP_ZC_MAX 2u

/*
 * One memory table of a guest, mapped by us. The walkers' view (mm) is
 * filled before any queue uses the map and never changes after; the map
 * lives while it is its port's current one, a queue's ring uses it, or a
 * zero-copy buffer points into it.
 */
struct vdp_gmap {
	TAILQ_ENTRY(vdp_gmap) next;
	struct vdp_port *port;  /* NULL once the port was closed */
	uint64_t id;
	uint32_t nregions;
	struct vdp_gmap_region r[VDP_MAX_REGIONS];
	struct vdp_memmap mm;
	uint32_t qrefs;         /* queues whose ring uses it (vdp_gmem_lock) */
	uint32_t pins;          /* taken by a hand-back in progress (idem) */
	bool current;           /* its port's map now (vdp_gmem_lock) */
	bool zc;                /* registered for zero-copy (extmem + DMA) */
	uint16_t ndev;
	struct {
		uint16_t port;
		struct rte_device *dev;
		uint32_t regions;   /* bit i: region i mapped for DMA */
	} dev[VDP_GMAP_MAX_DMA_DEVS];
	char name[VDP_NAME_MAX];
};

struct vdp_gmem_stats {
	uint32_t maps, retired, regions, extmem, files, memseg_lists;
	uint64_t bytes, sigbus_contained;
};


/* ---- zero-copy of guest TX buffers (vdevpeer_zcopy.c) ---- */
enum vdp_zc_mode { VDP_ZC_AUTO = 0, VDP_ZC_ON, VDP_ZC_OFF };

/* Per rx queue counters, xstats rx_zc_<name>. */
#define VDP_ZC_LIST(_) \
	_(FRAMES, "frames", "frames whose payload was attached, not copied") \
	_(COPIED, "copied_frames", "frames copied although zero-copy was on (short ones)") \
	_(FALLBACKS, "fallbacks", "frames copied because the in-flight bound was reached") \
	_(RECLAIMS, "reclaims", "tx_done_cleanup calls on the egress port to get buffers back") \
	_(FORCED, "forced", "buffers still out when their ring was handed back") \
	_(DEFERRED, "inorder_deferred", \
	  "IN_ORDER: copied frames whose used element waited for a held buffer taken before") \
	_(WAITS, "inorder_waits", \
	  "IN_ORDER: bursts that took fewer chains, the in-order window being full")

enum vdp_zc_stat {
#define VDP_X_(e, name, desc) VDP_ZC_##e,
	VDP_ZC_LIST(VDP_X_)
#undef VDP_X_
	VDP_ZC_NB
};

struct vdp_zc_ctx;   /* a queue's held guest buffers (opaque) */

/* A queue's zero-copy state (rx queues), embedded in struct vdp_queue;
 * vdevpeer_zcopy.c owns it. */
struct vdp_zc_queue {
	struct vdp_zc_ctx *ctx;    /* NULL when every frame is copied */
	uint32_t thresh;           /* frames this long and longer are attached */
	uint32_t inflight;         /* guest buffers held (owner writes) */
	uint64_t stat[VDP_ZC_NB];
	bool egress;               /* reclaim from (eport, equeue) */
	bool egress_vdp;           /* that port is a net_vdevpeer one (frees in its tx_burst) */
	bool inorder;              /* IN_ORDER ring: used elements in the order taken */
	uint16_t eport, equeue;
};

/* ---- bounds of the control plane ---- */
/* Longest wait for an lcore to leave its burst (a burst takes well under
 * a millisecond, perf/bench_hostile): past it the queue is stuck and its
 * port failed. */
#define VDP_PAUSE_MAX_MS 500u
/* Watchdog period; a call fd write blocked this long is interrupted (by
 * the watchdog, or by a control thread waiting for that lcore). */
#define VDP_WATCHDOG_MS 100u
#define VDP_CALL_BLOCK_MS 100u

/* Per queue guest-interrupt counters (xstats <dir>_guest_notifications_<name>). */
#define VDP_CALL_LIST(_) \
	_(EAGAIN, "eagain", "the guest's eventfd counter was full (an interrupt was pending)") \
	_(ERRORS, "errors", "other errors writing the guest's eventfd") \
	_(UNBLOCKED, "unblocked", \
	  "writes that blocked (the VMM made the fd blocking) and were ended: fd dropped")

enum vdp_call_stat {
#define VDP_X_(e, name, desc) VDP_CALL_##e,
	VDP_CALL_LIST(VDP_X_)
#undef VDP_X_
	VDP_CALL_NB
};

struct vdp_queue {
	struct vdp_vring vr;       /* the guest's ring, valid while allowed */
	const struct vdp_memmap *mm; /* its memory (q->gmap->mm), idem */
	struct vdp_chain chain;    /* scratch for the walkers */
	/* guest RX frames: the ring's variant, chosen at ring load */
	vdp_frame_fn put_frame;

	uint32_t allow;            /* atomic: the lcore may touch the ring */
	uint32_t busy;             /* atomic: the lcore is inside a burst */
	int callfd;                /* our dup of the guest's call eventfd, -1 if none */
	/* rx interrupts (vdevpeer_intr.h): our dup of the guest's kick
	 * eventfd (guest TX rings) and the epoll it is registered in; an
	 * ethdev rx queue's own epoll and wake eventfd. -1: none. */
	int kickfd;
	int kick_ep;
	int wake_ep;
	int wake_ev;
	/* which epoll instance (fd numbers are reused): wake_ep's, made at
	 * vdp_intr_queue_init, and the one kick_ep was when registered */
	uint64_t wake_gen;
	uint64_t kick_gen;
	bool ring_ok;              /* ring initialised for the current device */
	bool call_off;             /* a write on callfd blocked: not used again
				    * until the ring is loaded again */
	bool call_due;             /* guest TX ring: used elements flushed, the
				    * guest's wish for a call not read yet (at
				    * the next burst's entry, or before a sleep) */
	bool stuck;                /* its lcore did not leave a burst in time */
	uint64_t stuck_tsc;        /* ... since */

	struct vdp_port *port;
	struct vdp_gmap *gmap;     /* the map the ring uses (reference held) */
	struct rte_mempool *mp;    /* rx queues only */
	uint16_t qid;              /* ethdev queue id */
	uint16_t vring_idx;        /* virtqueue index */
	bool is_rx;                /* ethdev rx = guest TX ring */
	uint8_t fold_turn;         /* rx: own ring or folded ones first (lcore) */
	struct vdp_numa_poll numa; /* the ring's node, the lcore polling it */

	uint64_t pkts;
	uint64_t bytes;
	uint64_t calls;            /* guest interrupts sent */
	uint64_t call_stat[VDP_CALL_NB];
	uint64_t bins[VDP_NB_BINS];
	uint64_t err_acc[VDP_ERR_MAX]; /* counts of earlier ring generations */
	uint64_t budget_acc;       /* ... and their vr.budget_stops */
	uint64_t ol[VDP_OL_NB];    /* offload work, by kind */
	/* rx: segments made in software not yet handed out */
	uint16_t pend_head;
	uint16_t pend_n;
	struct rte_mbuf *pend[VDP_GSO_MAX_SEGS];
	uint64_t drop_paused;      /* tx frames dropped while the queue was paused */
	uint64_t peer;             /* frames of the direct guest-to-guest path
				    * (vdp_peer_forward; also in pkts) */
	/* rx, direct path: a wait for the peer's receive buffers
	 * (vdp_peer_op_hold) */
	uint64_t hold_tsc;         /* when it began (0: none going on) */
	uint64_t hold_retry_tsc;   /* a frame found too few: not before (0: none) */
	bool hold_over;            /* it passed peer_hold_us: dropping */
	uint64_t peer_held;        /* bursts that left frames in the ring */
	uint64_t peer_hold_over;   /* waits that passed the bound */
	uint64_t guest_mac;        /* rx: learned source MAC + VDP_MAC_KNOWN, 0 = none */
	uint64_t log_tsc;          /* data-path log rate limiting */
	uint32_t log_count;
	struct vdp_zc_queue zc;    /* zero-copy (rx queues), vdevpeer_zcopy.h */
	/* packed rings: the buffer ids we hold (vr.ids_held) */
	uint64_t ids_held[VDP_PACKED_IDS_WORDS(VDP_RING_SIZE_MAX)];
	TAILQ_ENTRY(vdp_queue) zombie; /* released while stuck: freed when it leaves */
} __rte_cache_aligned;

/* The direct path's wait for a peer's buffers (vdp_peer_op_hold) ended
 * or never was: a's lcore, or the control thread loading the ring. */
static inline void
vdp_queue_hold_clear(struct vdp_queue *q)
{
	q->hold_tsc = q->hold_retry_tsc = 0;
	q->hold_over = false;
}

/*
 * The guest's MAC, learned from the source address of the first frame of
 * each rx burst (one 6-byte compare per burst, not per frame). Packed in a
 * u64 so the control thread reads it whole.
 */
#define VDP_MAC_KNOWN (1ULL << 63)

static inline void
vdp_queue_learn_mac_eth(struct vdp_queue *q, const struct rte_ether_hdr *eth)
{
	uint64_t mac = VDP_MAC_KNOWN;

	if (!rte_is_unicast_ether_addr(&eth->src_addr))
		return;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac |= (uint64_t)eth->src_addr.addr_bytes[i] << (8 * i);
	if (unlikely(mac != q->guest_mac))
		__atomic_store_n(&q->guest_mac, mac, __ATOMIC_RELAXED);
}

static inline void
vdp_queue_learn_mac(struct vdp_queue *q, const struct rte_mbuf *m)
{
	if (unlikely(m->data_len < sizeof(struct rte_ether_hdr)))
		return;
	vdp_queue_learn_mac_eth(q, rte_pktmbuf_mtod(m, const struct rte_ether_hdr *));
}

/*
 * Take q's kick fd out of the epoll it is registered in (rx interrupts,
 * vdevpeer_intr.h). Control thread, q not in a burst and not allowed in.
 */
static inline void
vdp_queue_kick_unregister(struct vdp_queue *q)
{
	if (q->kickfd >= 0 && q->kick_ep >= 0)
		epoll_ctl(q->kick_ep, EPOLL_CTL_DEL, q->kickfd, NULL);
	q->kick_ep = -1;
}

/* A drop reason's count on q: this ring's and earlier generations'. */
static inline uint64_t
vdp_queue_err(const struct vdp_queue *q, enum vdp_err e)
{
	return VDP_CNT_GET(q->err_acc[e]) + VDP_CNT_GET(q->vr.err[e]);
}

/*
 * Path of another copy of this driver loaded in the process before this
 * one (then this copy registers nothing), or NULL. vdevpeer_ethdev.c.
 */
const char *vdp_other_copy(void);

/* ---- the port ---- */

/* Per port isolation counters (xstats vmm_<name>). */
#define VDP_PS_LIST(_) \
	_(MSG_REFUSED, "messages_refused", \
	  "vhost-user messages refused before librte_vhost saw them") \
	_(PAUSE_TIMEOUTS, "pause_timeouts", \
	  "queues whose lcore did not leave a burst within 500 ms") \
	_(FAILED, "port_failures", "times the port was failed (link down until the next session)") \
	_(SIGBUS, "sigbus_contained", \
	  "accesses past the end of a shrunk guest memory file, contained") \
	_(ZC_MAP_REFUSED, "zc_maps_refused", \
	  "memory tables not registered for zero-copy (at most 2 per port)") \
	_(ZC_SNAPSHOT_PAGES, "zc_snapshot_pages", \
	  "guest pages under buffers held when their ring was handed back, copied to ours") \
	_(ZC_SCRUBBED, "zc_scrubbed_frames", \
	  "held frames zeroed instead (over the copy bound): never sent with guest memory") \
	_(RESUMED, "rings_resumed", \
	  "rings resumed from the state a crashed incarnation left (docs/user-guide.md)") \
	_(RESUME_DROPPED, "resume_dropped_frames", \
	  "held guest TX frames given back empty at such a resume (sent or not: at most once)") \
	_(RESUME_REFUSED, "resume_refused", \
	  "rings whose saved state did not fit them: the VMM's positions used") \
	_(LOG_STARTS, "dirty_log_starts", \
	  "times the VMM turned dirty-page logging on (a live migration of the guest began)") \
	_(RARP_ASKED, "rarp_requests", \
	  "RARP announces the VMM asked for after a migration (SEND_RARP; one pending at a time)") \
	_(RARP_SENT, "rarp_sent", \
	  "RARP frames from the guest's MAC handed to the application as received from it")

enum vdp_port_stat {
#define VDP_X_(e, name, desc) VDP_PS_##e,
	VDP_PS_LIST(VDP_X_)
#undef VDP_X_
	VDP_PS_NB
};

/* librte_vhost's table, and the next one while a message is applied */
#define VDP_LIB_FILES (2 * VDP_MAX_REGIONS)

/* vdp_port.rx_extra */
#define VDP_RX_FOLDED 1u
#define VDP_RX_RARP 2u
#define VDP_RARP_PENDING (1ULL << 63)

struct vdp_port {
	TAILQ_ENTRY(vdp_port) next;
	struct vdp_args args;
	struct rte_eth_dev *eth_dev;
	uint16_t port_id;
	pthread_mutex_t lock;

	uint64_t offered;
	uint64_t negotiated;
	uint64_t feat;             /* negotiated minus unmet dependencies: in use */
	uint32_t csum_on;          /* atomic: host-side offload allowed (devarg csum,
				    * rte_pmd_vdevpeer_set_csum) */
	bool rx_ol_csum;           /* the application takes partial checksums */
	uint64_t hold_cycles;      /* args.peer_hold_us in TSC cycles */
	bool rx_ol_lro;            /* ... and GSO frames (TCP_LRO) */

	int vid;                   /* vhost device id, -1 when none */
	bool registered;           /* vhost driver registered for args.peer */
	bool connected;            /* a VMM is on the socket */
	bool running;              /* the device is live (new_device) */
	bool started;              /* ethdev started */
	bool failed;               /* a bound was broken: down until the next session */
	bool link_down_pending;    /* ... bring the link down at vdp_port_unlock() */
	uint32_t msg_req;          /* a ring-changing message between pre and post */
	uint32_t msg_vring;        /* ... the vring SET_VRING_BASE names (UINT32_MAX: all) */
	uint16_t hdr_len;
	uint16_t nb_vrings;        /* vrings the guest set up */
	bool vring_enabled[VDP_MAX_VRINGS];  /* librte_vhost: ready (set up, enabled) */
	uint32_t pairs_logged;     /* queue pairs in use when last logged */
	/*
	 * Guest queue pairs beyond the port's rx queues: their TX rings are
	 * read by rx queue (pair % nb_rx_queues), through a queue of their
	 * own made when the ring is first loaded (vdp_port_queue_make), kept
	 * until the port closes. Set once, read by lcores (atomic).
	 */
	void *fold_rx[VDP_MAX_QUEUES];
	/* atomic, read by every rx burst: 0 unless fold_rx has entries
	 * (VDP_RX_FOLDED) or a RARP waits to be received (VDP_RX_RARP) */
	uint32_t rx_extra;
	/* the RARP to receive: MAC in bytes 0-5 | VDP_RARP_PENDING, 0 when
	 * none; set before the rx_extra bit, claimed whole (exchange) */
	uint64_t rarp;
	int mem_node;              /* NUMA node of most guest memory, -1 unknown */
	char fail_why[128];

	struct vdp_gmap *gmap;     /* the guest's memory as we mapped it, or NULL */
	uint32_t gmap_faults;      /* SIGBUS faults on its files already acted on */
	bool zc_live;              /* zero-copy in use with the current device */
	uint32_t nb_gmaps;         /* maps alive (vdp_gmem_lock) */
	uint32_t nb_gmaps_zc;      /* ... of them registered for zero-copy */
	/* the files of the memory table librte_vhost has mapped (SIGBUS
	 * containment covers its mapping too) */
	uint32_t nb_lib_files;
	struct vdp_gfile_id lib_files[VDP_LIB_FILES];
	uint64_t stat[VDP_PS_NB];
	TAILQ_HEAD(, vdp_queue) zombies;
	struct vdp_state *state;   /* rings' state for the next incarnation */
};

#endif /* VDEVPEER_H */
