#!/bin/sh
# Guest to guest: two guests peered, frames cross-connected unchanged.
# QNX:  io-pkt-v6-hc -d vdevpeer-net \
#         peer=/dev/qvm/qnx7-guest1/p2p,bind=/dev/vdevpeers/vp0,\
#         peer=/dev/qvm/qnx7-guest2/p2p,bind=/dev/vdevpeers/vp1
# The same set-up as an INI file for --config: the .ini of the same name.
# set-up comes with --config. With more than two guests use --fwd bridge.
exec dpdk-vdevpeer --no-pci -l 0,1 --file-prefix vdevpeer-g2g \
    --vdev 'net_vdevpeer0,peer=/run/vdevpeer/qnx7-guest1.sock,server=1,bind=vp0' \
    --vdev 'net_vdevpeer1,peer=/run/vdevpeer/qnx7-guest2.sock,server=1,bind=vp1' \
    -- --fwd io --pair vp0:vp1 --stats-period 10
