/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Micro-benchmarks of the per-frame helpers around the ring walkers,
 * single thread, no EAL: offload header checks and checksums
 * (vdp_offload.c) and the bridge's MAC table (app bridge.c).
 *
 * Offload, on frames a Linux guest sends (TCP with 12 bytes of timestamp
 * options; <frame> is one of plain_tcp4, tcp4_csum, tcp4_tso, tcp6_tso,
 * vlan_udp4_csum; TSO frames carry 45 segments of 1448 bytes):
 *
 *   BM_ol_parse/<frame>        vdp_ol_parse on the frame's header copy
 *                              (its first VDP_OL_HDR_MAX bytes, as the
 *                              driver reads them out of the mbuf).
 *   BM_ol_guest_tx/<frame>     vdp_ol_guest_tx: the guest's virtio-net
 *                              header checked against the frame and turned
 *                              into a request (plain, checksum, TSO) with
 *                              the features a Linux guest acks; what
 *                              eth_vdevpeer_rx does per frame that has a
 *                              header. It parses by itself: do not add
 *                              BM_ol_parse to it. plain_tcp4 (flags 0, no
 *                              GSO) is the early return.
 *   BM_csum/<size>             vdp_csum_init + feed + fold over size bytes
 *                              in one piece, then the complement: completing
 *                              a NEEDS_CSUM frame in software (the driver's
 *                              mbuf_csum_complete) whose L4 part is size
 *                              bytes. bytes/s counts those size bytes.
 *   BM_l4_csum/<size>          vdp_ol_l4_csum, full checksum of an
 *                              Ethernet/IPv4/TCP frame of size bytes (TCP
 *                              without options), the payload in pieces of
 *                              at most 2048 bytes as in an mbuf chain: what
 *                              host -> guest does for a guest without
 *                              GUEST_CSUM, and per software TSO segment.
 *                              bytes/s counts frame bytes.
 *
 * The data is hot in cache, as it is in the driver right after the copy
 * out of guest memory.
 *
 * Bridge, a table of <capacity> slots holding <entries> random unicast
 * MACs (capacity: the app's default 4096, or twice the entries when they
 * would not fit at a sane load); each lookup takes the next MAC from a
 * shuffled array of 8192 keys, so the branch predictor and the caches see
 * many keys and not one:
 *
 *   BM_bridge_lookup_hit/<entries>/<capacity>   bridge_mac_lookup, known MAC
 *   BM_bridge_lookup_miss/<entries>/<capacity>  bridge_mac_lookup, unknown
 *                                               MAC (both buckets read)
 *   BM_bridge_learn_hit/<entries>/<capacity>    bridge_mac_learn of a known
 *                                               MAC on its own port in the
 *                                               same second: the refresh
 *                                               every frame's source does
 *
 * Lookups are independent of each other, so the CPU may overlap a few of
 * them, as it can in a burst of frames.
 *
 * Counters: items_per_second (frames/s or lookups/s), time/frame or
 * time/lookup (CPU time), bytes_per_second for the checksums.
 */
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <unordered_set>
#include <vector>

#include "vdp_features.h"
#include "vdp_offload.h"

extern "C" {
#include "bridge.h"
}

namespace {

/* ---- frames ---- */

constexpr uint16_t kMss = 1448;
constexpr uint32_t kTsoSegs = 45;     /* 65160 bytes: a 64 KiB GSO frame */
constexpr uint32_t kTcpOpts = 12;     /* NOP, NOP, timestamps */

/* What a Linux virtio-net guest acks, offloads included. */
constexpr uint64_t kFeats = VDP_BIT(VDP_F_CSUM) | VDP_BIT(VDP_F_GUEST_CSUM) |
	VDP_BIT(VDP_F_GUEST_TSO4) | VDP_BIT(VDP_F_GUEST_TSO6) |
	VDP_BIT(VDP_F_GUEST_ECN) | VDP_BIT(VDP_F_HOST_TSO4) |
	VDP_BIT(VDP_F_HOST_TSO6) | VDP_BIT(VDP_F_HOST_ECN) |
	VDP_BIT(VDP_F_MRG_RXBUF) | VDP_BIT(VDP_F_VERSION_1);

enum FrameKind {
	kPlainTcp4,
	kTcp4Csum,
	kTcp4Tso,
	kTcp6Tso,
	kVlanUdp4Csum,
};

/* A frame, the virtio-net header that goes with it, what it should give. */
struct Frame {
	std::vector<uint8_t> b;
	vdp_net_hdr vh = {};
	vdp_ol_hdrs h = {};
	vdp_ol_kind want = VDP_OL_PLAIN;
};

/*
 * Ethernet (one 802.1Q tag with vlan), IPv4 or IPv6, TCP (20 + topts
 * bytes) or UDP, pay bytes of payload. The L4 checksum is partial (the
 * pseudo-header sum a guest leaves with NEEDS_CSUM) or, with full, done.
 */
Frame
build_frame(int ipv, bool vlan, uint8_t proto, uint32_t topts, uint32_t pay, bool full)
{
	static const uint8_t dst[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t src[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	Frame f;
	uint32_t l2 = vlan ? 18 : 14, l3 = ipv == 4 ? 20 : 40;
	uint32_t l4 = proto == VDP_IPPROTO_TCP ? 20 + topts : 8;
	uint8_t *p, *ip, *t;

	f.b.assign(l2 + l3 + l4 + pay, 0);
	p = f.b.data();
	std::memcpy(p, dst, 6);
	std::memcpy(p + 6, src, 6);
	if (vlan) {
		vdp_put_be16(p + 12, 0x8100);
		vdp_put_be16(p + 14, 10);          /* VID 10, priority 0 */
	}
	vdp_put_be16(p + l2 - 2, ipv == 4 ? 0x0800 : 0x86dd);

	ip = p + l2;
	if (ipv == 4) {
		ip[0] = 0x45;
		vdp_put_be16(ip + 2, (uint16_t)(l3 + l4 + pay));
		vdp_put_be16(ip + 4, 0x2a2a);      /* id */
		vdp_put_be16(ip + 6, 0x4000);      /* DF */
		ip[8] = 64;
		ip[9] = proto;
		std::memcpy(ip + 12, "\xc0\xa8\x01\x02\xc0\xa8\x01\x03", 8);
		vdp_ipv4_hdr_csum(ip);
	} else {
		ip[0] = 0x60;
		vdp_put_be16(ip + 4, (uint16_t)(l4 + pay));
		ip[6] = proto;
		ip[7] = 64;
		ip[8] = 0xfd;                      /* fd00::2 -> fd00::3 */
		ip[23] = 2;
		ip[24] = 0xfd;
		ip[39] = 3;
	}

	t = ip + l3;
	vdp_put_be16(t, 40000);
	vdp_put_be16(t + 2, 5201);
	if (proto == VDP_IPPROTO_TCP) {
		vdp_put_be16(t + 4, 0x1000);       /* seq, ack: anything */
		vdp_put_be16(t + 8, 0x2000);
		t[12] = (uint8_t)((l4 / 4) << 4);
		t[13] = 0x10 | VDP_TCP_F_PSH;      /* ACK PSH */
		vdp_put_be16(t + 14, 502);
		if (topts == 12) {
			t[20] = 1;                 /* NOP NOP TS(10) */
			t[21] = 1;
			t[22] = 8;
			t[23] = 10;
		}
	} else {
		vdp_put_be16(t + 4, (uint16_t)(l4 + pay));
	}
	for (uint32_t i = 0; i < pay; i++)
		t[l4 + i] = (uint8_t)(i * 13 + 7);

	f.h.l2_len = (uint16_t)l2;
	f.h.l3_len = (uint16_t)l3;
	f.h.l4_len = (uint16_t)l4;
	f.h.ipv = (uint8_t)ipv;
	f.h.l4_proto = proto;
	vdp_iov piece = { t + l4, pay };
	vdp_ol_l4_csum(p, &f.h, l4, &piece, 1, l4 + pay, !full);
	return f;
}

/* The header and frame of one case. */
Frame
make_case(FrameKind k)
{
	Frame f;

	switch (k) {
	case kPlainTcp4:
		f = build_frame(4, false, VDP_IPPROTO_TCP, kTcpOpts, kMss, true);
		break;
	case kTcp4Csum:
	case kTcp4Tso:
		f = build_frame(4, false, VDP_IPPROTO_TCP, kTcpOpts,
				k == kTcp4Tso ? kTsoSegs * kMss : kMss, false);
		break;
	case kTcp6Tso:
		f = build_frame(6, false, VDP_IPPROTO_TCP, kTcpOpts, kTsoSegs * kMss, false);
		break;
	case kVlanUdp4Csum:
		f = build_frame(4, true, VDP_IPPROTO_UDP, 0, 1400, false);
		break;
	}
	if (k == kPlainTcp4)
		return f;                          /* header all zero */
	f.vh.flags = VDP_HDR_F_NEEDS_CSUM;
	f.vh.csum_start = (uint16_t)(f.h.l2_len + f.h.l3_len);
	f.vh.csum_offset = f.h.l4_proto == VDP_IPPROTO_TCP ? VDP_TCP_CSUM_OFF :
							     VDP_UDP_CSUM_OFF;
	f.want = VDP_OL_CSUM;
	if (k == kTcp4Tso || k == kTcp6Tso) {
		f.vh.gso_type = k == kTcp4Tso ? VDP_GSO_TCPV4 : VDP_GSO_TCPV6;
		f.vh.gso_size = kMss;
		f.vh.hdr_len = (uint16_t)(f.h.l2_len + f.h.l3_len + f.h.l4_len);
		f.want = VDP_OL_TSO;
	}
	return f;
}

void
set_counters(benchmark::State &state, uint64_t items, const char *per = "time/frame")
{
	state.SetItemsProcessed((int64_t)items);
	/* CPU seconds per item, printed with an SI prefix ("15.2ns"). */
	state.counters[per] = benchmark::Counter(
		(double)items,
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void
BM_ol_parse(benchmark::State &state, FrameKind k)
{
	const Frame f = make_case(k);
	const uint32_t len = (uint32_t)f.b.size();
	const uint32_t avail = std::min(len, VDP_OL_HDR_MAX);
	uint8_t hdr[VDP_OL_HDR_MAX];
	vdp_ol_hdrs h;
	uint64_t frames = 0;

	std::memcpy(hdr, f.b.data(), avail);
	if (!vdp_ol_parse(hdr, avail, len, &h) || h.l4_proto != f.h.l4_proto ||
	    h.l2_len != f.h.l2_len || h.l4_len != f.h.l4_len) {
		state.SkipWithError("frame not parsed as built");
		return;
	}
	for (auto _ : state) {
		benchmark::DoNotOptimize(hdr);
		bool ok = vdp_ol_parse(hdr, avail, len, &h);
		benchmark::DoNotOptimize(ok);
		benchmark::DoNotOptimize(h);
		frames++;
	}
	set_counters(state, frames);
}

void
BM_ol_guest_tx(benchmark::State &state, FrameKind k)
{
	const Frame f = make_case(k);
	const uint32_t len = (uint32_t)f.b.size();
	const uint32_t avail = std::min(len, VDP_OL_HDR_MAX);
	uint8_t hdr[VDP_OL_HDR_MAX];
	vdp_net_hdr vh = f.vh;
	vdp_ol_req r;
	uint64_t frames = 0;

	std::memcpy(hdr, f.b.data(), avail);
	if (vdp_ol_guest_tx(&vh, kFeats, hdr, avail, len, &r) != VDP_ERR_NONE ||
	    r.kind != f.want || (f.want == VDP_OL_TSO && r.nsegs != kTsoSegs)) {
		state.SkipWithError("header not translated as expected");
		return;
	}
	for (auto _ : state) {
		benchmark::DoNotOptimize(hdr);
		benchmark::DoNotOptimize(vh);
		enum vdp_err e = vdp_ol_guest_tx(&vh, kFeats, hdr, avail, len, &r);
		benchmark::DoNotOptimize(e);
		benchmark::DoNotOptimize(r);
		frames++;
	}
	set_counters(state, frames);
}

/* ---- checksums ---- */

void
BM_csum(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	std::vector<uint8_t> buf(size);
	std::mt19937 rng(1);
	uint64_t frames = 0;

	for (auto &x : buf)
		x = (uint8_t)rng();
	for (auto _ : state) {
		vdp_csum c;

		vdp_csum_init(&c);
		vdp_csum_feed(&c, buf.data(), size);
		uint16_t x = (uint16_t)~vdp_csum_fold(&c);
		benchmark::DoNotOptimize(x);
		frames++;
	}
	set_counters(state, frames);
	state.SetBytesProcessed((int64_t)(frames * size));
}

void
BM_l4_csum(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	constexpr uint32_t kHl = 14 + 20 + 20;
	constexpr uint32_t kPiece = 2048;
	Frame f = build_frame(4, false, VDP_IPPROTO_TCP, 0, size - kHl, true);
	std::vector<vdp_iov> pay;
	uint64_t frames = 0;

	/* the first mbuf holds the headers too */
	for (uint32_t off = kHl, room = kPiece - kHl; off < size; room = kPiece) {
		uint32_t n = std::min(room, size - off);

		pay.push_back(vdp_iov{ f.b.data() + off, n });
		off += n;
	}
	for (auto _ : state) {
		vdp_ol_l4_csum(f.b.data(), &f.h, f.h.l4_len, pay.data(), (uint32_t)pay.size(),
			       size - f.h.l2_len - f.h.l3_len, false);
		benchmark::ClobberMemory();
		frames++;
	}
	/* the result still checks: sum over pseudo header + L4 is all ones */
	vdp_csum c;
	vdp_csum_init(&c);
	vdp_csum_pseudo(&c, f.b.data() + 14, 4, VDP_IPPROTO_TCP, size - 34);
	vdp_csum_feed(&c, f.b.data() + 34, size - 34);
	if (vdp_csum_fold(&c) != 0xffff)
		state.SkipWithError("wrong checksum");
	set_counters(state, frames);
	state.SetBytesProcessed((int64_t)(frames * size));
}

/* ---- bridge MAC table ---- */

constexpr uint32_t kKeys = 8192;          /* power of two */
constexpr uint32_t kNow = 1000;           /* seconds: one second throughout */

inline uint16_t
port_of(uint64_t mac)
{
	return (uint16_t)(mac & 3);            /* 4 ports */
}

/* A populated table and a shuffled array of MACs to look up. */
struct Fdb {
	bridge_table *t = nullptr;
	std::vector<uint64_t> known, keys;

	~Fdb() { bridge_table_free(t); }

	/* false: could not be built (no memory, table full) */
	bool setup(uint32_t entries, uint32_t capacity, bool hit)
	{
		std::mt19937_64 rng(42);
		std::unordered_set<uint64_t> seen;

		/* random unicast, locally administered MACs, all different */
		auto fresh = [&]() {
			for (;;) {
				uint64_t m = rng() & ((UINT64_C(1) << 48) - 1);

				m &= ~(UINT64_C(1) << 40);  /* I/G: unicast */
				m |= UINT64_C(1) << 41;     /* U/L: local */
				if (seen.insert(m).second)
					return m;
			}
		};
		t = bridge_table_create(capacity);
		if (t == nullptr)
			return false;
		for (uint32_t i = 0; i < entries; i++) {
			uint64_t m = fresh();

			if (bridge_mac_learn(t, m, port_of(m), kNow) != BRIDGE_LEARN_NEW)
				return false;
			known.push_back(m);
		}
		for (uint32_t i = 0; i < kKeys; i++)
			keys.push_back(hit ? known[i % entries] : fresh());
		std::shuffle(keys.begin(), keys.end(), rng);
		return true;
	}
};

/* bridge_mac_lookup over the set-up's keys: all known (hit) or none. */
void
bridge_lookup(benchmark::State &state, bool hit)
{
	Fdb fdb;
	uint64_t n = 0, found = 0;
	uint32_t i = 0;

	if (!fdb.setup((uint32_t)state.range(0), (uint32_t)state.range(1), hit)) {
		state.SkipWithError("table set-up failed");
		return;
	}
	for (auto _ : state) {
		uint16_t port = bridge_mac_lookup(fdb.t, fdb.keys[i++ & (kKeys - 1)]);

		benchmark::DoNotOptimize(port);
		found += port != BRIDGE_NO_PORT;
		n++;
	}
	if (found != (hit ? n : 0))
		state.SkipWithError(hit ? "a known MAC was not found" :
					  "an unknown MAC was found");
	set_counters(state, n, "time/lookup");
}

void
BM_bridge_lookup_hit(benchmark::State &state)
{
	bridge_lookup(state, true);
}

void
BM_bridge_lookup_miss(benchmark::State &state)
{
	bridge_lookup(state, false);
}

void
BM_bridge_learn_hit(benchmark::State &state)
{
	Fdb fdb;
	uint64_t n = 0, hits = 0;
	uint32_t i = 0;

	if (!fdb.setup((uint32_t)state.range(0), (uint32_t)state.range(1), true)) {
		state.SkipWithError("table set-up failed");
		return;
	}
	for (auto _ : state) {
		uint64_t mac = fdb.keys[i++ & (kKeys - 1)];
		enum bridge_learn r = bridge_mac_learn(fdb.t, mac, port_of(mac), kNow);

		benchmark::DoNotOptimize(r);
		hits += r == BRIDGE_LEARN_HIT;
		n++;
	}
	if (hits != n)
		state.SkipWithError("a refresh was not a hit");
	set_counters(state, n, "time/lookup");
}

void
csum_sizes(benchmark::internal::Benchmark *b)
{
	b->ArgName("size");
	for (int64_t s : { 64, 256, 512, 1518, 9000 })
		b->Arg(s);
}

void
fdb_sizes(benchmark::internal::Benchmark *b)
{
	b->ArgNames({ "entries", "capacity" });
	/* the app's default table (4096 slots); 4096 entries need 8192 */
	b->Args({ 16, BRIDGE_DEFAULT_ENTRIES });
	b->Args({ 1024, BRIDGE_DEFAULT_ENTRIES });
	b->Args({ 4096, 2 * BRIDGE_DEFAULT_ENTRIES });
}

} /* namespace */

BENCHMARK_CAPTURE(BM_ol_parse, plain_tcp4, kPlainTcp4);
BENCHMARK_CAPTURE(BM_ol_parse, tcp4_csum, kTcp4Csum);
BENCHMARK_CAPTURE(BM_ol_parse, tcp4_tso, kTcp4Tso);
BENCHMARK_CAPTURE(BM_ol_parse, tcp6_tso, kTcp6Tso);
BENCHMARK_CAPTURE(BM_ol_parse, vlan_udp4_csum, kVlanUdp4Csum);
BENCHMARK_CAPTURE(BM_ol_guest_tx, plain_tcp4, kPlainTcp4);
BENCHMARK_CAPTURE(BM_ol_guest_tx, tcp4_csum, kTcp4Csum);
BENCHMARK_CAPTURE(BM_ol_guest_tx, tcp4_tso, kTcp4Tso);
BENCHMARK_CAPTURE(BM_ol_guest_tx, tcp6_tso, kTcp6Tso);
BENCHMARK_CAPTURE(BM_ol_guest_tx, vlan_udp4_csum, kVlanUdp4Csum);
BENCHMARK(BM_csum)->Apply(csum_sizes);
BENCHMARK(BM_l4_csum)->Apply(csum_sizes);
BENCHMARK(BM_bridge_lookup_hit)->Apply(fdb_sizes);
BENCHMARK(BM_bridge_lookup_miss)->Apply(fdb_sizes);
BENCHMARK(BM_bridge_learn_hit)->Apply(fdb_sizes);

BENCHMARK_MAIN();
