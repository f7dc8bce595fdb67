/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * txonly: send 64-byte UDP/IPv4 frames on every started port, receive
 * nothing. Source MAC: the port's; destination: broadcast, so that a guest
 * takes them whatever its MAC. Addresses from the benchmarking range
 * 198.18.0.0/15 (RFC 2544), so the frames cannot be mistaken for real
 * traffic.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "fwd.h"
#include "vdevpeer_app.h"

#define TXONLY_FRAME_LEN 60   /* 64 on the wire with the FCS */

static void
txonly_fill(struct rte_mbuf *m, uint16_t port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ip_len = TXONLY_FRAME_LEN - sizeof(*eth);

	memset(eth, 0, TXONLY_FRAME_LEN);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_eth_macaddr_get(port, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 19, 0, 1));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(9);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16(ip_len - sizeof(*ip));
	m->data_len = TXONLY_FRAME_LEN;
	m->pkt_len = TXONLY_FRAME_LEN;
}

static void
txonly_stream_fwd(struct fwd_stream *fs)
{
	struct rte_mbuf *pkts[APP_MAX_BURST];
	uint16_t i;

	if (rte_pktmbuf_alloc_bulk(fs->pool, pkts, fs->burst) != 0)
		return;  /* pool dry: the tx rings still hold our frames */
	for (i = 0; i < fs->burst; i++)
		txonly_fill(pkts[i], fs->tx_port);
	fwd_stream_tx(fs, pkts, fs->burst);
}

const struct fwd_engine fwd_txonly_engine = {
	.name = "txonly",
	.help = "send 64-byte UDP frames on every port, receive nothing",
	.needs_pairs = false,
	.tx_only = true,
	.stream_fwd = txonly_stream_fwd,
};
