#!/bin/sh
# Guest to world: three guests and an e1000/igb NIC (the uplink) in one
# L2 bridge; the host's own stack joins the segment through the host
# interface vp0 (a bridge member like the others).
# QNX:  io-pkt-v6-hc -d e1000 -d vdevpeer-net \
#         peer=/dev/qvm/qnx7-guest1/p2p,bind=/dev/vdevpeers/vp0,\
#         peer=/dev/qvm/qnx7-guest2/p2p,bind=/dev/vdevpeers/vp1,\
#         peer=/dev/qvm/linux-guest/p2p,bind=/dev/vdevpeers/vp2
#       (+ an io-pkt bridge over e1000 and vp0..vp2)
# The NIC must be bound to vfio-pci first:
#   dpdk-devbind.py -b vfio-pci 0000:02:00.0
# Use -a for the NIC instead of --no-pci (which would hide it). Guests' MACs
# must differ from each other and from the ports' own MACs (the bridge
# refuses duplicates at start). The host interface is optional: drop
# --host-if vp0 to keep the host's stack out of the segment.
# The same set-up as an INI file for --config: the .ini of the same name.
exec dpdk-vdevpeer -a 0000:02:00.0 -l 0,1 --file-prefix vdevpeer-g2w \
    --vdev 'net_vdevpeer0,peer=/run/vdevpeer/qnx7-guest1.sock,server=1,bind=vp0' \
    --vdev 'net_vdevpeer1,peer=/run/vdevpeer/qnx7-guest2.sock,server=1,bind=vp1' \
    --vdev 'net_vdevpeer2,peer=/run/vdevpeer/linux-guest.sock,server=1,bind=vp2' \
    -- --fwd bridge --uplink 0000:02:00.0 --host-if vp0 \
       --bridge-aging 300 --stats-period 10
