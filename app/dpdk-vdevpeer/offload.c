/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checksum/segmentation offload towards ports that are not net_vdevpeer
 * (uplink NICs, TAP, AF_PACKET): frames from guests carry TX offload flags
 * (partial checksums, TSO); what the egress port's tx_offload_capa covers
 * goes through rte_eth_tx_prepare, the rest is done in software by the
 * PMD's helper rte_pmd_vdevpeer_tx_sw_offload. net_vdevpeer ports need
 * none of this: they take every flag and fall back to software themselves.
 *
 * offload_tx_sw runs on the worker that owns the stream (fwd_stream_tx).
 */
#include <rte_ethdev.h>
#include <rte_pmd_vdevpeer.h>

#include "offload.h"

bool app_tx_sw_offload[RTE_MAX_ETHPORTS];
static uint64_t app_tx_capa[RTE_MAX_ETHPORTS];
static struct rte_mempool *app_tx_pool[RTE_MAX_ETHPORTS];

/* Offloads the app asks of every port that advertises them. */
#define APP_RX_OFFLOADS (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | \
			 RTE_ETH_RX_OFFLOAD_TCP_LRO)
#define APP_TX_OFFLOADS (RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | \
			 RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM | \
			 RTE_ETH_TX_OFFLOAD_TCP_TSO)

void
offload_port_conf(uint16_t port, const struct rte_eth_dev_info *info,
		  struct rte_eth_conf *conf, struct rte_mempool *pool)
{
	conf->rxmode.offloads = info->rx_offload_capa & APP_RX_OFFLOADS;
	if (conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO)
		conf->rxmode.max_lro_pkt_size = info->max_lro_pkt_size;
	conf->txmode.offloads = info->tx_offload_capa & APP_TX_OFFLOADS;
	app_tx_capa[port] = conf->txmode.offloads;
	app_tx_pool[port] = pool;
	app_tx_sw_offload[port] = !rte_pmd_vdevpeer_is_vdevpeer(port);
}

/* Frames per software-segmented burst: a 64 KiB frame at MSS 536 is 123. */
#define APP_SW_OL_MAX 512

uint32_t
offload_tx_sw(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb,
	      uint32_t *dropped)
{
	struct rte_mbuf *out[APP_SW_OL_MAX];
	uint16_t n = 0, i, prep, sent;
	uint32_t total = 0;

	for (i = 0; i < nb; i++) {
		uint16_t k;

		if (APP_SW_OL_MAX - n < 256) {
			/* recursion ends: no flags left */
			total += offload_tx_sw(port, queue, out, n, dropped);
			n = 0;
		}
		if (!(pkts[i]->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG |
					   RTE_MBUF_F_TX_IP_CKSUM))) {
			out[n++] = pkts[i];
			continue;
		}
		k = rte_pmd_vdevpeer_tx_sw_offload(pkts[i], app_tx_capa[port],
						   app_tx_pool[port], &out[n],
						   (uint16_t)(APP_SW_OL_MAX - n));
		if (k == 0)
			(*dropped)++;
		n = (uint16_t)(n + k);
	}
	if (n == 0)
		return total;
	/* what the port's hardware does: let its driver fix the headers up */
	prep = rte_eth_tx_prepare(port, queue, out, n);
	sent = rte_eth_tx_burst(port, queue, out, prep);
	if (unlikely(sent < n)) {
		*dropped += n - sent;
		rte_pktmbuf_free_bulk(&out[sent], n - sent);
	}
	return total + sent;
}
