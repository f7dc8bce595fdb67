/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copy or attach? The cost per frame of forwarding a frame from one guest
 * to another through net_vdevpeer, both ways the driver can take a guest's
 * frame, single thread, with EAL (no hugepages, IOVA as VA) for the mbufs.
 * Per burst of 32 frames:
 *
 *   guest A posts 32 TX chains (virtio-net header + frame, one descriptor)
 *   rte_eth_rx_burst on port A   the driver's real RX burst
 *                                (eth_vdevpeer_rx, vdevpeer_rxtx.c)
 *   rte_eth_tx_burst on port B   the driver's real TX burst
 *                                (eth_vdevpeer_tx): each frame written into
 *                                one of guest B's RX buffers
 *                                (vdp_split_enqueue_frame), mbufs freed
 *   guest B takes its used buffers and posts them again; guest A takes
 *   back the TX chains the driver gave back.
 *
 *   BM_fwd_copy/<size>  port A with zerocopy=off: the RX burst copies each
 *                       chain into mbufs (chain_to_mbuf / gather_to_mbuf,
 *                       2 KB mbufs, chained above that) and gives the
 *                       chain back at once.
 *   BM_fwd_zc/<size>    port A with zerocopy=on (every frame longer than
 *                       the header copy, so every size here; auto would
 *                       copy below VDP_ZC_THRESH_AUTO): the RX burst
 *                       attaches each chain (vdp_zc_try ->
 *                       vdp_zc_rx_chain: the first 128 bytes copied into
 *                       a head mbuf, the rest an extbuf mbuf over guest
 *                       A's buffer); freeing the
 *                       mbufs in the TX burst sets the chain's done flag,
 *                       and the next RX burst gives it back to guest A
 *                       (vdp_zc_drain -> vdp_zc_complete).
 *
 * Real: the ports, their queues and their guest memory maps are the
 * driver's own (rte_vdev_init, ethdev configure / queue setup / start,
 * vdp_gmap_load, vdp_gmap_use, vdp_zc_queue_ring, vdp_port_apply_queues;
 * torn down by the driver's close through rte_vdev_uninit), and every
 * frame goes through the burst functions above. Synthetic: no
 * VMM and no vhost-user session. Each guest's memory is a memfd (hugepage
 * free shared memory, as QEMU's memory-backend-memfd gives) that the
 * driver maps a second time itself, as it does a VMM's; what librte_vhost
 * would hand over for a new device (acked features: VERSION_1 only; the
 * memory table; the vring addresses and base 0) is fed in here, in the
 * order and with the calls of new_device / load_memmap / vdp_load_ring in
 * vdevpeer_vhost.c. The guests are the test driver (test/guest_ring.c)
 * with descriptors written once, so their work per frame is a few stores
 * and is included in the figures, the same in both modes. No call fds:
 * the guests poll.
 *
 * Each guest has 256 buffers of 9 KB (one ring's worth), so larger frames
 * do not stay in L1/L2. The zero-copy threshold VDP_ZC_THRESH_AUTO in
 * drivers/net/vdevpeer/vdevpeer_zcopy.c is where BM_fwd_zc becomes
 * cheaper than BM_fwd_copy. (Before this benchmark ran the driver, it
 * modelled only the mbuf work by hand: its figures were lower in both
 * modes by the ring work, which both modes share.)
 */
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_vhost.h>

#include "guest_ring.h"

extern "C" {
#include "vdevpeer.h"
#include "vdevpeer_gmem.h"
#include "vdevpeer_port.h"
#include "vdevpeer_rxtx.h"
#include "vdevpeer_zcopy.h"
}

namespace {

constexpr uint16_t kRingSize = 256;
constexpr uint32_t kBurst = 32;
constexpr uint32_t kMaxSize = 9216;
constexpr uint32_t kHdr = VDP_NET_HDR_LEN_MRG;    /* VERSION_1 */
constexpr uint64_t kGpaBase = 0x40000000ull;
constexpr size_t kGuestMem = 4u << 20;            /* ring + 256 buffers of 9 KB */
/* the features both guests ack: VERSION_1 (12-byte header), nothing else */
constexpr uint64_t kFeatures = VDP_BIT(VDP_F_VERSION_1);
/* vrings: even ones are the guest's RX (our TX queue), odd ones its TX */
constexpr uint16_t kGuestRxVring = 0, kGuestTxVring = 1;

struct rte_mempool *g_pool;
std::string g_sockdir;   /* the ports' vhost-user sockets (nobody connects) */

[[noreturn]] void
die(const char *what, int err = 0)
{
	std::fprintf(stderr, "bench_zcopy: %s%s%s\n", what, err != 0 ? ": " : "",
		     err != 0 ? std::strerror(err < 0 ? -err : err) : "");
	std::exit(2);
}

/* One guest: memfd memory, one ring, its buffers with descriptors written
 * once, and a FIFO of its free heads (as perf/bench_ring.cc). */
struct Guest {
	guest_mem m;
	guest_ring g;
	std::vector<uint16_t> free_heads = std::vector<uint16_t>(kRingSize);
	uint32_t fh_first = 0, fh_count = 0;

	Guest()
	{
		/* one view: the guest's; the driver maps the memfd itself */
		size_t sz = kGuestMem;

		if (guest_mem_init_regions(&m, kGpaBase, &sz, 1, GUEST_MEM_ONE_VIEW) != 0 ||
		    guest_ring_init(&g, &m, kRingSize, 0) != 0)
			die("guest set-up failed");
	}
	~Guest()
	{
		guest_ring_fini(&g);
		guest_mem_fini(&m);
	}
	Guest(const Guest &) = delete;
	Guest &operator=(const Guest &) = delete;

	/* n buffers of cap bytes, each one descriptor of len bytes, filled
	 * with fill (len bytes). */
	void add_buffers(uint32_t n, uint32_t cap, uint32_t len, bool write,
			 const std::vector<uint8_t> &fill)
	{
		for (uint32_t i = 0; i < n; i++) {
			uint16_t idx;
			int h = guest_desc_alloc(&g, 1, &idx);
			uint64_t gpa = guest_alloc(&m, cap, 64);

			if (h < 0 || gpa == 0)
				die("out of guest memory");
			g.desc[h].addr = gpa;
			g.desc[h].len = len;
			g.desc[h].flags = write ? VDP_DESC_F_WRITE : 0;
			if (!fill.empty())
				std::memcpy(guest_ptr(&m, gpa), fill.data(),
					    std::min<size_t>(len, fill.size()));
			free_heads[(fh_first + fh_count++) % kRingSize] = (uint16_t)h;
		}
	}

	/* Make up to n free buffers available. */
	void post(uint32_t n)
	{
		for (; n > 0 && fh_count > 0; n--) {
			guest_ring_push_head(&g, free_heads[fh_first], false);
			fh_first = (fh_first + 1) % kRingSize;
			fh_count--;
		}
		guest_ring_publish(&g);
	}

	/* Take back what the device used; *bad: elements not of len want
	 * (want 0: any), *last: the last head. */
	uint32_t reap(uint32_t want, uint32_t *bad, uint16_t *last)
	{
		uint32_t id, len, n = 0;

		while (guest_ring_pop_used(&g, &id, &len) == 1) {
			free_heads[(fh_first + fh_count++) % kRingSize] = (uint16_t)id;
			*bad += want != 0 && len != want;
			*last = (uint16_t)id;
			n++;
		}
		return n;
	}

	uint8_t *buf(uint16_t head) { return (uint8_t *)guest_ptr(&m, g.desc[head].addr); }
};

void
take_port(struct vdp_port *p, void *arg)
{
	*static_cast<struct vdp_port **>(arg) = p;
}

/* A net_vdevpeer port, made by the driver, listening on a socket nobody
 * connects to; attach() plays a guest's new device. */
struct Port {
	std::string name, sock;
	uint16_t id = UINT16_MAX;
	struct vdp_port *p = nullptr;

	Port(const char *tag, const char *zerocopy)
		: name(std::string("net_vdevpeer_bench_") + tag),
		  sock(g_sockdir + "/" + tag + ".sock")
	{
		std::string args = "peer=" + sock + ",server=1,bind=bench-" + tag +
				   ",zerocopy=" + zerocopy;
		struct rte_eth_conf conf = {};

		if (rte_vdev_init(name.c_str(), args.c_str()) != 0)
			die("rte_vdev_init failed");
		if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0 ||
		    vdp_port_with(id, nullptr, take_port, &p) != 0)
			die("port not found");
		if (rte_eth_dev_configure(id, 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(id, 0, kRingSize, rte_socket_id(), nullptr, g_pool) != 0 ||
		    rte_eth_tx_queue_setup(id, 0, kRingSize, rte_socket_id(), nullptr) != 0 ||
		    rte_eth_dev_start(id) != 0)
			die("port set-up failed");
	}
	~Port()
	{
		/* as when the VMM goes away: the driver drops the device state,
		 * hands back held buffers and unmaps its view of guest memory */
		rte_eth_dev_stop(id);
		rte_vdev_uninit(name.c_str());
		unlink(sock.c_str());
	}
	Port(const Port &) = delete;
	Port &operator=(const Port &) = delete;

	/*
	 * Guest gst's device comes up with ring v live, as new_device does it
	 * with what librte_vhost hands over (vdevpeer_vhost.c: new_device,
	 * load_memmap, load_rings, vdp_load_ring). librte_vhost's mapping of
	 * guest memory is the guest's own view here: the driver only uses it
	 * to translate ring addresses, and maps the memfd again itself.
	 */
	void attach(Guest &gst, uint16_t v)
	{
		const guest_mem &gm = gst.m;
		std::vector<uint8_t> tab(sizeof(struct rte_vhost_memory) +
					 sizeof(struct rte_vhost_mem_region));
		auto *mem = reinterpret_cast<struct rte_vhost_memory *>(tab.data());
		struct rte_vhost_mem_region *r = &mem->regions[0];
		struct vdp_queue *q;
		struct vdp_vring *vr;
		bool zc;
		int ret;

		mem->nregions = 1;
		r->guest_phys_addr = gm.gpa[0];
		r->guest_user_addr = (uint64_t)(uintptr_t)gm.gva;
		r->host_user_addr = (uint64_t)(uintptr_t)gm.gva;
		r->size = gm.size[0];
		r->mmap_addr = gm.gva;
		r->mmap_size = gm.size[0];
		r->fd = gm.fd[0];

		pthread_mutex_lock(&p->lock);
		/* new_device: the acked features, queues paused */
		p->negotiated = kFeatures;
		p->feat = p->negotiated & ~vdp_features_unmet(p->negotiated);
		if (vdp_queues_pause(p) != 0)
			die("pause failed");
		/* load_memmap */
		zc = p->args.zerocopy != VDP_ZC_OFF &&
		     !(p->negotiated & VDP_BIT(VDP_F_IN_ORDER)) &&
		     rte_eal_iova_mode() == RTE_IOVA_VA;
		ret = vdp_gmap_load(p, mem, zc);
		if (ret != 0)
			die("vdp_gmap_load failed", ret);
		p->zc_live = p->gmap->zc;
		if (p->args.zerocopy != VDP_ZC_OFF && !p->zc_live)
			die("guest memory not registered for zero-copy");
		/* load_rings */
		p->nb_vrings = 2;
		p->hdr_len = kHdr;
		/* vdp_load_ring(p, v, false): base 0 / 0, no call fd */
		q = vdp_port_queue(p, v);
		vr = &q->vr;
		q->ring_ok = false;
		if (vdp_vring_init(vr, vdp_gmap_xlate(p->gmap, gst.g.desc),
				   vdp_gmap_xlate(p->gmap, gst.g.avail),
				   vdp_gmap_xlate(p->gmap, gst.g.used), gst.g.size, 0, 0) != 0)
			die("vdp_vring_init refused the ring");
		vr->on_err = vdp_ring_err_log;
		vr->err_ctx = q;
		if (!vdp_vring_in_map(vr, &p->gmap->mm))
			die("ring outside guest memory");
		vr->event_idx = !!(p->negotiated & VDP_BIT(VDP_F_EVENT_IDX));
		vr->indirect = !!(p->negotiated & VDP_BIT(VDP_F_INDIRECT_DESC));
		vr->mrg_rxbuf = !!(p->negotiated & VDP_BIT(VDP_F_MRG_RXBUF));
		vr->hdr_len = p->hdr_len;
		vdp_gmap_use(q, p->gmap);
		vdp_split_suppress_kicks(vr);
		q->ring_ok = true;
		if (vdp_zc_queue_ring(q, false) != 0)
			die("no memory for the zero-copy state");
		/* the guest enabled the ring; the device is live */
		p->vring_enabled[v] = true;
		p->running = true;
		vdp_port_apply_queues(p);
		vdp_port_unlock(p);
		vdp_port_link_update(p, true);
		if (!__atomic_load_n(&q->allow, __ATOMIC_SEQ_CST))
			die("queue not started");
	}

	struct vdp_queue *queue(uint16_t v) { return vdp_port_queue(p, v); }
};

/* Guest A sends to guest B through ports A (zerocopy as given) and B. */
struct Rig {
	std::vector<uint8_t> frame;   /* header + frame, as guest A sends it */
	Guest a, b;
	Port pa, pb;

	Rig(uint32_t size, const char *zerocopy)
		: frame(kHdr + size, 0x5a), pa("a", zerocopy), pb("b", "off")
	{
		static const uint8_t eth[14] = {
			0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00,
		};

		std::memset(frame.data(), 0, kHdr);   /* no offload asked */
		std::memcpy(frame.data() + kHdr, eth, sizeof(eth));
		a.add_buffers(kRingSize, kHdr + kMaxSize, kHdr + size, false, frame);
		b.add_buffers(kRingSize, kHdr + kMaxSize, kHdr + kMaxSize, true, {});
		pa.attach(a, kGuestTxVring);
		pb.attach(b, kGuestRxVring);
		b.post(kRingSize);
	}
};

void
set_counters(benchmark::State &state, uint64_t frames)
{
	state.SetItemsProcessed((int64_t)frames);
	/* CPU seconds per frame, printed with an SI prefix ("15.2ns") */
	state.counters["time/frame"] = benchmark::Counter(
		(double)frames, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void
fwd(benchmark::State &state, bool zc)
{
	const uint32_t size = (uint32_t)state.range(0);
	Rig rig(size, zc ? "on" : "off");
	struct vdp_queue *rxq = rig.pa.queue(kGuestTxVring);
	struct rte_mbuf *pkts[kBurst];
	uint64_t rx = 0, delivered = 0;
	uint32_t bad = 0, bad_a = 0;
	uint16_t last = UINT16_MAX, last_a;

	if (zc != (rxq->zc.ctx != nullptr)) {
		state.SkipWithError("port A's zero-copy state is not as asked");
		return;
	}
	for (auto _ : state) {
		rig.a.post(kBurst);
		uint16_t n = rte_eth_rx_burst(rig.pa.id, 0, pkts, kBurst);

		rx += n;
		rte_eth_tx_burst(rig.pb.id, 0, pkts, n);   /* takes them all */
		delivered += rig.b.reap(kHdr + size, &bad, &last);
		rig.b.post(kRingSize);
		rig.a.reap(0, &bad_a, &last_a);
	}
	if (delivered != rx || bad != 0)
		state.SkipWithError("frames lost or of the wrong length");
	else if (last != UINT16_MAX &&
		 std::memcmp(rig.b.buf(last) + kHdr, rig.frame.data() + kHdr, size) != 0)
		state.SkipWithError("frame delivered with other bytes");
	else if (zc && VDP_CNT_GET(rxq->zc.stat[VDP_ZC_FRAMES]) != rx)
		state.SkipWithError("frames copied although zero-copy was on");
	set_counters(state, delivered);
}

void
BM_fwd_copy(benchmark::State &state)
{
	fwd(state, false);
}

void
BM_fwd_zc(benchmark::State &state)
{
	fwd(state, true);
}

void
sizes(benchmark::internal::Benchmark *b)
{
	b->ArgName("size");
	for (int64_t s : { 256, 512, 768, 1024, 1518, 4000, 9000 })
		b->Arg(s);
}

} /* namespace */

BENCHMARK(BM_fwd_copy)->Apply(sizes);
BENCHMARK(BM_fwd_zc)->Apply(sizes);

int
main(int argc, char **argv)
{
	/* no shared config, no telemetry socket: nothing left behind;
	 * IOVA as VA: zero-copy needs it (vdevpeer_zcopy.c) */
	std::string prefix = "bench-zcopy-" + std::to_string(getpid());
	const char *eal[] = { "bench_zcopy", "-l", "0", "--no-huge", "--no-pci", "-m", "256",
			      "--iova-mode=va", "--no-shconf", "--no-telemetry",
			      "--log-level", "lib.eal:error", "--log-level", "lib.vhost.*:error",
			      "--log-level", "pmd.net.vdevpeer.*:warning",
			      "--file-prefix", prefix.c_str() };
	int n = (int)(sizeof(eal) / sizeof(eal[0]));
	char dir[] = "/tmp/bench-zcopy-XXXXXX";

	if (rte_eal_init(n, const_cast<char **>(eal)) < 0) {
		std::fprintf(stderr, "bench_zcopy: EAL init failed\n");
		return 1;
	}
	if (mkdtemp(dir) == nullptr)
		die("cannot make a socket directory", errno);
	g_sockdir = dir;
	g_pool = rte_pktmbuf_pool_create("bench", 8192, 256, 0, 2048 + RTE_PKTMBUF_HEADROOM,
					 (int)rte_socket_id());
	if (g_pool == NULL) {
		std::fprintf(stderr, "bench_zcopy: no mbuf pool\n");
		return 1;
	}
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	rmdir(dir);
	std::string rundir = rte_eal_get_runtime_dir();
	rte_eal_cleanup();
	rmdir(rundir.c_str());  /* empty with --no-shconf --no-telemetry */
	return 0;
}
