/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vdevpeer private definitions.
 *
 * Who runs what, and what may run at the same time:
 *
 *  - Burst functions (eth_vdevpeer_rx / eth_vdevpeer_tx) run on the lcore
 *    that polls the queue, one lcore per queue. They touch a queue's ring
 *    (struct vdp_vring) and the port's guest memory map only between
 *    vdp_queue_enter() and vdp_queue_leave().
 *  - vhost-user callbacks (new_device, destroy_device, vring_state_changed,
 *    pre/post message handlers) run on librte_vhost's event thread, one at
 *    a time per process. Before they change a ring or the memory map they
 *    pause the queues (vdp_queue_pause: clear `allow`, wait until `busy` is
 *    clear), and they resume them afterwards.
 *  - ethdev ops run on the application's control thread; those that change
 *    queue state take port->lock, as do the vhost callbacks, so the two
 *    never interleave.
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
 * buffer's done flag; and the reaper (EAL alarm thread, under the
 * zero-copy lock) frees orphaned buffer tables and unmaps retired guest
 * memory once nothing points into them. Everything else of a queue's
 * zero-copy state belongs to whoever owns the ring (lcore or, while
 * paused, the control thread).
 */
#ifndef VDEVPEER_H
#define VDEVPEER_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/queue.h>

#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "vdp_features.h"
#include "vdp_offload.h"
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
};

int vdp_args_parse(const char *name, const char *params, struct vdp_args *a);
void vdp_mac_from_name(const char *bind, struct rte_ether_addr *mac);
extern const char *const vdp_valid_args[];


/*
 * What this driver implements, hence the most it will ever offer: UFO
 * (HOST_UFO, GUEST_UFO) is not, nor are packed rings.
 */
#define VDP_FEATURES_IMPLEMENTED ( \
	VDP_BIT(VDP_F_MRG_RXBUF) | VDP_BIT(VDP_F_MQ) | \
	VDP_BIT(VDP_F_ANY_LAYOUT) | VDP_BIT(VDP_F_INDIRECT_DESC) | \
	VDP_BIT(VDP_F_EVENT_IDX) | VDP_BIT(VDP_F_VERSION_1) | \
	VDP_BIT(VDP_F_IN_ORDER) | VDP_FEATURES_OFFLOAD)

/* Features the vhost-user transport needs regardless of peerfeats. */
#define VDP_FEATURES_TRANSPORT VDP_BIT(VDP_F_PROTOCOL_FEATURES)

const char *vdp_feature_name(unsigned int bit);
int vdp_features_str(uint64_t f, char *buf, size_t len);

/* ---- statistics ---- */
/* Offload work counted per queue (xstats rx_/tx_ + name). */
enum vdp_ol_stat {
	VDP_OL_PARTIAL,     /* frames with a partial checksum (NEEDS_CSUM) */
	VDP_OL_GSO,         /* GSO frames */
	VDP_OL_SW_CSUM,     /* checksums completed in software */
	VDP_OL_SW_SEG,      /* segments made in software */
	VDP_OL_DATA_VALID,  /* frames delivered with DATA_VALID */
	VDP_OL_NB
};
extern const char *const vdp_ol_stat_names[VDP_OL_NB];

enum vdp_size_bin {
	VDP_BIN_64, VDP_BIN_65_127, VDP_BIN_128_255, VDP_BIN_256_511,
	VDP_BIN_512_1023, VDP_BIN_1024_1518, VDP_BIN_1519_MAX, VDP_NB_BINS
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

/* ---- zero-copy of guest TX buffers (vdevpeer_zcopy.c) ---- */
enum vdp_zc_mode { VDP_ZC_AUTO = 0, VDP_ZC_ON, VDP_ZC_OFF };

/* Per rx queue counters, xstats rx_zc_<name>. */
enum vdp_zc_stat {
	VDP_ZC_FRAMES,    /* frames whose payload was attached, not copied */
	VDP_ZC_COPIED,    /* frames copied although zero-copy was on */
	VDP_ZC_FALLBACKS, /* ... of which because of the in-flight bound */
	VDP_ZC_RECLAIMS,  /* tx_done_cleanup calls on the egress port */
	VDP_ZC_FORCED,    /* buffers still out at teardown: given up on */
	VDP_ZC_NB
};
extern const char *const vdp_zc_stat_names[VDP_ZC_NB];

struct vdp_zc_ctx;   /* a queue's held guest buffers (opaque) */
struct vdp_zc_map;   /* guest memory mapped by us (opaque) */
struct rte_vhost_memory;

/* teardown: how long to wait for held buffers before giving up on them */
#define VDP_ZC_QUIESCE_MS 500u

/* control thread, port lock held */
int vdp_zc_map_load(struct vdp_port *p, const struct rte_vhost_memory *mem,
		    struct vdp_memmap *mm);
void vdp_zc_map_retire(struct vdp_port *p);
void *vdp_zc_xlate(const struct vdp_port *p, void *lib_addr);
int vdp_zc_queue_ring(struct vdp_queue *q, bool keep_idx);
uint32_t vdp_zc_quiesce(struct vdp_port *p, unsigned int ms);
void vdp_zc_queue_orphan(struct vdp_queue *q);
/* data path (and control thread while the queue is paused) */
void vdp_zc_complete(struct vdp_queue *q, bool scan_all);
struct rte_mbuf *vdp_zc_rx_chain(struct vdp_queue *q, const struct vdp_chain *c,
				 const struct vdp_net_hdr *vh, uint32_t len);

struct vdp_queue {
	struct vdp_vring vr;       /* the guest's ring, valid while allowed */
	struct vdp_chain chain;    /* scratch for the walkers */

	uint32_t allow;            /* atomic: the lcore may touch the ring */
	uint32_t busy;             /* atomic: the lcore is inside a burst */
	int callfd;                /* guest interrupt eventfd, -1 if none */
	bool ring_ok;              /* ring initialised for the current device */

	struct vdp_port *port;
	struct rte_mempool *mp;    /* rx queues only */
	uint16_t qid;              /* ethdev queue id */
	uint16_t vring_idx;        /* virtqueue index */
	bool is_rx;                /* ethdev rx = guest TX ring */

	uint64_t pkts;
	uint64_t bytes;
	uint64_t calls;            /* guest interrupts sent */
	uint64_t bins[VDP_NB_BINS];
	uint64_t err_acc[VDP_ERR_MAX]; /* counts of earlier ring generations */
	uint64_t budget_acc;       /* ... and their vr.budget_stops */
	uint64_t ol[VDP_OL_NB];    /* offload work, by kind */
	/* rx: segments made in software not yet handed out */
	uint16_t pend_head;
	uint16_t pend_n;
	struct rte_mbuf *pend[VDP_GSO_MAX_SEGS];
	uint64_t drop_paused;      /* tx frames dropped while the queue was paused */
	uint64_t guest_mac;        /* rx: learned source MAC + VDP_MAC_KNOWN, 0 = none */
	uint64_t log_tsc;          /* data-path log rate limiting */
	uint32_t log_count;
	/* zero-copy (rx queues): NULL when every frame is copied */
	struct vdp_zc_ctx *zc;
	uint32_t zc_thresh;        /* frames this long and longer are attached */
	uint32_t zc_inflight;      /* guest buffers held (owner writes) */
	uint64_t zc_stat[VDP_ZC_NB];
	bool zc_egress;            /* reclaim from (zc_eport, zc_equeue) */
	uint16_t zc_eport, zc_equeue;
} __rte_cache_aligned;

/*
 * The guest's MAC, learned from the source address of the first frame of
 * each rx burst (one 6-byte compare per burst, not per frame). Packed in a
 * u64 so the control thread reads it whole.
 */
#define VDP_MAC_KNOWN (1ULL << 63)

static inline void
vdp_queue_learn_mac(struct vdp_queue *q, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth;
	uint64_t mac = VDP_MAC_KNOWN;

	if (unlikely(m->data_len < sizeof(*eth)))
		return;
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_unicast_ether_addr(&eth->src_addr))
		return;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac |= (uint64_t)eth->src_addr.addr_bytes[i] << (8 * i);
	if (unlikely(mac != q->guest_mac))
		__atomic_store_n(&q->guest_mac, mac, __ATOMIC_RELAXED);
}

/* ---- the port ---- */
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
	bool rx_ol_lro;            /* ... and GSO frames (TCP_LRO) */

	int vid;                   /* vhost device id, -1 when none */
	bool registered;           /* vhost driver registered for args.peer */
	bool connected;            /* a VMM is on the socket */
	bool running;              /* the device is live (new_device) */
	bool started;              /* ethdev started */
	bool reconf;               /* queues paused by a pre_msg_handle */
	uint16_t hdr_len;
	uint16_t nb_vrings;        /* vrings the guest set up */
	bool vring_enabled[VDP_MAX_VRINGS];

	struct rte_vhost_memory *vmem; /* from rte_vhost_get_mem_table */
	struct vdp_memmap mm;
	struct vdp_zc_map *zmap;   /* our own mapping of guest memory, or NULL */
	bool zc_live;              /* zero-copy in use with the current device */
};

/* Burst hooks: hand back guest buffers whose mbufs were freed; try
 * zero-copy for one guest TX chain (NULL: copy it). */
static inline void
vdp_zc_drain(struct vdp_queue *q)
{
	if (q->zc_inflight != 0)
		vdp_zc_complete(q, false);
}

static inline struct rte_mbuf *
vdp_zc_try(struct vdp_queue *q, const struct vdp_chain *c,
	   const struct vdp_net_hdr *vh, uint32_t len)
{
	if (q->zc == NULL)
		return NULL;
	if (len < q->zc_thresh) {
		q->zc_stat[VDP_ZC_COPIED]++;
		return NULL;
	}
	return vdp_zc_rx_chain(q, c, vh, len);
}

/* vdevpeer_vhost.c */
int vdp_vhost_register(struct vdp_port *p);
void vdp_vhost_unregister(struct vdp_port *p);
void vdp_port_apply_queues(struct vdp_port *p);
int vdp_load_ring(struct vdp_port *p, uint16_t v, bool keep_idx);
void vdp_queue_pause(struct vdp_queue *q);

/* vdevpeer_rxtx.c */
uint16_t eth_vdevpeer_rx(void *q, struct rte_mbuf **pkts, uint16_t n);
uint16_t eth_vdevpeer_tx(void *q, struct rte_mbuf **pkts, uint16_t n);
void vdp_ring_err_log(void *ctx, enum vdp_err err, uint32_t a, uint32_t b);
void vdp_queue_pend_free(struct vdp_queue *q);
/* (software) offload of one mbuf for a port without the hardware offload */
int vdp_sw_offload(struct rte_mbuf *m, uint64_t tx_capa, struct rte_mempool *mp,
		   struct rte_mbuf **out, uint16_t max);

/* vdevpeer_ethdev.c */
struct vdp_port *vdp_port_by_path(const char *path);
void vdp_port_link_update(struct vdp_port *p, bool up);
struct vdp_queue *vdp_port_queue(struct vdp_port *p, uint16_t vring_idx);

#endif /* VDEVPEER_H */
