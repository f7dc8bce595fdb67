/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extended statistics of a net_vdevpeer port. Every counter is declared
 * once, in a list of (enum, name, what it counts): the families in
 * vdevpeer.h and vdp_ring.h. From them come the enums, the xstat names
 * below, and their documentation (rte_pmd_vdevpeer_xstat_doc, printed by
 * dpdk-vdevpeer --dump-xstats into docs/xstats.md).
 *
 * Order: the port's own counters, then each direction's (rx: frames the
 * guest sent, tx: frames put into its receive ring), then zero-copy's;
 * then, on a port with more than one queue, each queue's (per_queue()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "rte_pmd_vdevpeer.h"
#include "vdevpeer.h"
#include "vdevpeer_gmem.h"
#include "vdevpeer_port.h"
#include "vdevpeer_xstats.h"

struct vdp_xdef {
	const char *what;   /* prefix after the scope */
	const char *name;
	const char *desc;
};

/* the port's: no direction */
static const struct vdp_xdef port_defs[] = {
	{ "", "features_negotiated", "the features the guest acked (a bit mask)" },
	{ "", "features_active",
	  "the features in use: negotiated ones whose dependencies were met (bit mask)" },
#define VDP_X_(e, name, desc) { "vmm_", name, desc },
	VDP_PS_LIST(VDP_X_)
#undef VDP_X_
	{ "vmm_", "guest_memory_maps", "maps of the guest's memory alive now (current and held)" },
	{ "vmm_", "guest_memory_maps_zc", "... of them registered for zero-copy" },
};

/* each direction's, rx_ then tx_ */
static const struct vdp_xdef dir_defs[] = {
#define VDP_X_(e, name, desc) { "", name, desc },
	VDP_BIN_LIST(VDP_X_)
#undef VDP_X_
	{ "", "guest_notifications", "interrupts sent to the guest" },
#define VDP_X_(e, name, desc) { "guest_notifications_", name, desc },
	VDP_CALL_LIST(VDP_X_)
#undef VDP_X_
	{ "", "burst_budget_stops", "bursts cut short by their work budget (docs/security.md)" },
	{ "", "peer_packets",
	  "frames moved by the direct guest-to-guest path (no mbuf; rx: taken from this "
	  "guest, tx: put into its ring); included in the size counters" },
	{ "", "peer_held_bursts",
	  "rx only: direct-path bursts that left this guest's frames in its TX ring, the peer "
	  "having no receive buffer (waiting up to the devarg peer_hold_us)" },
	{ "", "peer_hold_expired",
	  "rx only: such waits that passed peer_hold_us; the frames were then dropped at the "
	  "peer (its tx_drop_no_rx_buf) until it took one again" },
#define VDP_X_(e, name, desc) { "", name, desc },
	VDP_OL_LIST(VDP_X_)
#undef VDP_X_
#define VDP_X_(e, name, desc) { "drop_", name, desc },
	VDP_ERR_LIST(VDP_X_)
#undef VDP_X_
};

/* zero-copy's, rx only */
static const struct vdp_xdef zc_defs[] = {
#define VDP_X_(e, name, desc) { "zc_", name, desc },
	VDP_ZC_LIST(VDP_X_)
#undef VDP_X_
	{ "zc_", "inflight", "guest buffers held now by frames not yet freed" },
};

/* The values below are filled in the order of the definitions above. */
#define VDP_X_PER_DIR (VDP_NB_BINS + 1 + VDP_CALL_NB + 4 + VDP_OL_NB + \
		       VDP_ERR_MAX - VDP_ERR_FIRST)
#define VDP_X_TOTAL (RTE_DIM(port_defs) + 2 * RTE_DIM(dir_defs) + RTE_DIM(zc_defs))

/* ---- names, and their documentation ---- */

/*
 * Entry i of the xstats: its name (dir "rx"/"tx" for a direction's, or
 * "{rx,tx}" to document both at once) and definition. false past the end.
 */
static bool
xstat_entry(unsigned int i, bool both, char *name, size_t len, const char **desc)
{
	const unsigned int ndir = both ? 1 : 2;
	const struct vdp_xdef *d;
	const char *scope;

	if (i < RTE_DIM(port_defs)) {
		d = &port_defs[i];
		snprintf(name, len, "%s%s", d->what, d->name);
		*desc = d->desc;
		return true;
	}
	i -= RTE_DIM(port_defs);
	if (i < ndir * RTE_DIM(dir_defs)) {
		d = &dir_defs[i % RTE_DIM(dir_defs)];
		scope = both ? "{rx,tx}" : i < RTE_DIM(dir_defs) ? "rx" : "tx";
		snprintf(name, len, "%s_%s%s", scope, d->what, d->name);
		*desc = d->desc;
		return true;
	}
	i -= ndir * RTE_DIM(dir_defs);
	if (i < RTE_DIM(zc_defs)) {
		d = &zc_defs[i];
		snprintf(name, len, "rx_%s%s", d->what, d->name);
		*desc = d->desc;
		return true;
	}
	return false;
}

int
rte_pmd_vdevpeer_xstat_doc(unsigned int i, char *name, size_t len, const char **desc)
{
	const char *d;

	if (name == NULL || len == 0)
		return -EINVAL;
	if (!xstat_entry(i, true, name, len, &d))
		return -ENOENT;
	if (desc != NULL)
		*desc = d;
	return 0;
}

/*
 * Per queue, when a direction has more than one queue: after the totals,
 * rx_q<N>_<name> for every rx queue (its direction's counters, then
 * zero-copy's), then tx_q<N>_<name> for every tx queue, from the same
 * lists. One queue: the totals are that queue's, nothing is repeated.
 */
static unsigned int
per_queue(uint16_t nq)
{
	return nq > 1 ? nq : 0;
}

static unsigned int
xstat_total(const struct rte_eth_dev *dev)
{
	return VDP_X_TOTAL +
	       per_queue(dev->data->nb_rx_queues) * (RTE_DIM(dir_defs) + RTE_DIM(zc_defs)) +
	       per_queue(dev->data->nb_tx_queues) * RTE_DIM(dir_defs);
}

static void
xstat_name(const struct rte_eth_dev *dev, unsigned int i, char *name, size_t len)
{
	const unsigned int nrx = per_queue(dev->data->nb_rx_queues);
	const unsigned int rxw = RTE_DIM(dir_defs) + RTE_DIM(zc_defs);
	const struct vdp_xdef *d;
	const char *desc;

	if (i < VDP_X_TOTAL) {
		xstat_entry(i, false, name, len, &desc);
		return;
	}
	i -= VDP_X_TOTAL;
	if (i < nrx * rxw) {
		d = i % rxw < RTE_DIM(dir_defs) ? &dir_defs[i % rxw] :
		    &zc_defs[i % rxw - RTE_DIM(dir_defs)];
		snprintf(name, len, "rx_q%u_%s%s", i / rxw, d->what, d->name);
		return;
	}
	i -= nrx * rxw;
	d = &dir_defs[i % RTE_DIM(dir_defs)];
	snprintf(name, len, "tx_q%u_%s%s", i / (unsigned int)RTE_DIM(dir_defs),
		 d->what, d->name);
}

int
vdp_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
		     unsigned int size)
{
	const unsigned int total = xstat_total(dev);

	if (names == NULL || size < total)
		return (int)total;
	for (unsigned int i = 0; i < total; i++)
		xstat_name(dev, i, names[i].name, sizeof(names[i].name));
	return (int)total;
}

/* ---- values ---- */

/* Add a queue's direction counters to v[0 .. VDP_X_PER_DIR). */
static void
add_dir(const struct vdp_queue *q, struct rte_eth_xstat *v)
{
	unsigned int k = 0;

	for (int b = 0; b < VDP_NB_BINS; b++)
		v[k++].value += VDP_CNT_GET(q->bins[b]);
	v[k++].value += VDP_CNT_GET(q->calls);
	for (int c = 0; c < VDP_CALL_NB; c++)
		v[k++].value += VDP_CNT_GET(q->call_stat[c]);
	v[k++].value += VDP_CNT_GET(q->budget_acc) + VDP_CNT_GET(q->vr.budget_stops);
	v[k++].value += VDP_CNT_GET(q->peer);
	v[k++].value += VDP_CNT_GET(q->peer_held);
	v[k++].value += VDP_CNT_GET(q->peer_hold_over);
	for (int o = 0; o < VDP_OL_NB; o++)
		v[k++].value += VDP_CNT_GET(q->ol[o]);
	for (int e = VDP_ERR_FIRST; e < VDP_ERR_MAX; e++)
		v[k++].value += vdp_queue_err(q, e) +
				(e == VDP_ERR_NOT_READY ? VDP_CNT_GET(q->drop_paused) : 0);
}

/* Add an rx queue's zero-copy counters to v[0 .. zc_defs). */
static void
add_zc(const struct vdp_queue *q, struct rte_eth_xstat *v)
{
	for (int z = 0; z < VDP_ZC_NB; z++)
		v[z].value += VDP_CNT_GET(q->zc.stat[z]);
	v[VDP_ZC_NB].value += __atomic_load_n(&q->zc.inflight, __ATOMIC_RELAXED);
}

static void
add_values(struct rte_eth_xstat *to, const struct rte_eth_xstat *from, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		to[k].value += from[k].value;
}

int
vdp_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int n)
{
	struct vdp_port *p = dev->data->dev_private;
	const unsigned int total = xstat_total(dev);
	const uint16_t nrx = dev->data->nb_rx_queues, ntx = dev->data->nb_tx_queues;
	struct rte_eth_xstat *perq;
	unsigned int i = 0;

	RTE_BUILD_BUG_ON(RTE_DIM(dir_defs) != VDP_X_PER_DIR);
	RTE_BUILD_BUG_ON(RTE_DIM(port_defs) != 2 + VDP_PS_NB + 2);
	RTE_BUILD_BUG_ON(RTE_DIM(zc_defs) != VDP_ZC_NB + 1);
	if (xs == NULL || n < total)
		return (int)total;
	memset(xs, 0, total * sizeof(*xs));
	for (unsigned int k = 0; k < total; k++)
		xs[k].id = k;
	xs[i++].value = p->running ? p->negotiated : 0;
	xs[i++].value = p->running ? p->feat : 0;
	pthread_mutex_lock(&p->lock);
	for (int s = 0; s < VDP_PS_NB; s++)
		xs[i++].value = p->stat[s];
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_lock(&vdp_gmem_lock);
	xs[i++].value = p->nb_gmaps;
	xs[i++].value = p->nb_gmaps_zc;
	pthread_mutex_unlock(&vdp_gmem_lock);
	/* each queue's counters read once: into its own entries (more than
	 * one queue), then added to the totals */
	perq = &xs[VDP_X_TOTAL];
	/* a folded guest pair counts with the rx queue that reads it */
	for (uint16_t k = 0; k < VDP_MAX_QUEUES && nrx != 0; k++) {
		const struct vdp_queue *q = vdp_port_rxq(p, k);
		struct rte_eth_xstat one[VDP_X_PER_DIR + VDP_ZC_NB + 1];
		struct rte_eth_xstat *own = per_queue(nrx) != 0 ?
			&perq[(k % nrx) * RTE_DIM(one)] : one;

		if (q == NULL)
			continue;
		memset(one, 0, sizeof(one));
		add_dir(q, one);
		add_zc(q, one + VDP_X_PER_DIR);
		if (own != one)
			add_values(own, one, RTE_DIM(one));
		add_values(&xs[i], one, VDP_X_PER_DIR);
		add_values(&xs[i + 2 * VDP_X_PER_DIR], one + VDP_X_PER_DIR, VDP_ZC_NB + 1);
	}
	perq += per_queue(nrx) * (VDP_X_PER_DIR + VDP_ZC_NB + 1);
	for (uint16_t qi = 0; qi < ntx; qi++) {
		const struct vdp_queue *q = dev->data->tx_queues[qi];
		struct rte_eth_xstat one[VDP_X_PER_DIR];
		struct rte_eth_xstat *own = per_queue(ntx) != 0 ?
			&perq[qi * VDP_X_PER_DIR] : one;

		if (q == NULL)
			continue;
		memset(one, 0, sizeof(one));
		add_dir(q, own);
		add_values(&xs[i + VDP_X_PER_DIR], own, VDP_X_PER_DIR);
	}
	return (int)total;
}
