#!/bin/sh
# Guest to host: one guest, a kernel interface vp0 for the host's own stack.
# QNX:  io-pkt-v6-hc -d vdevpeer-net peer=/dev/qvm/qnx7-arm-guest/p2p,bind=/dev/vdevpeers/vp0,mac=a0b0c0d0e0f0
#       ifconfig vp0 up; ifconfig vp0 192.168.1.1          (guest: ifconfig vt0 192.168.1.2)
# The QEMU guest connects to /run/vdevpeer/guest1.sock (vhost-user client).
# The same set-up as an INI file for --config: the .ini of the same name.
exec dpdk-vdevpeer --no-pci -l 0,1 --file-prefix vdevpeer-h2h \
    --vdev 'net_vdevpeer0,peer=/run/vdevpeer/guest1.sock,server=1,bind=vp0,mac=a2:b0:c0:d0:e0:f0' \
    -- --fwd io --host-if vp0 --stats-period 10
# then, once "Host interface vp0" is printed:
#   ip link set vp0 up && ip addr add 192.168.1.1/24 dev vp0
