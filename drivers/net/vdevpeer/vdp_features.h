/* SPDX-License-Identifier: BSD-3-Clause */
/* virtio-net feature bits as net_vdevpeer names them (no EAL). */
#ifndef VDP_FEATURES_H
#define VDP_FEATURES_H

/* ---- virtio features ---- */
/* Bit numbers (virtio 1.1 5.1.3, 6) */
#define VDP_F_CSUM            0
#define VDP_F_GUEST_CSUM      1
#define VDP_F_MTU             3
#define VDP_F_MAC             5
#define VDP_F_GUEST_TSO4      7
#define VDP_F_GUEST_TSO6      8
#define VDP_F_GUEST_ECN       9
#define VDP_F_GUEST_UFO       10
#define VDP_F_HOST_TSO4       11
#define VDP_F_HOST_TSO6       12
#define VDP_F_HOST_ECN        13
#define VDP_F_HOST_UFO        14
#define VDP_F_MRG_RXBUF       15
#define VDP_F_STATUS          16
#define VDP_F_CTRL_VQ         17
#define VDP_F_GUEST_ANNOUNCE  21
#define VDP_F_MQ              22
#define VDP_F_NOTIFY_ON_EMPTY 24
#define VDP_F_ANY_LAYOUT      27
#define VDP_F_INDIRECT_DESC   28
#define VDP_F_EVENT_IDX       29
#define VDP_F_LOG_ALL         26   /* vhost: dirty-page logging (migration) */
#define VDP_F_PROTOCOL_FEATURES 30
#define VDP_F_VERSION_1       32
#define VDP_F_ACCESS_PLATFORM 33
#define VDP_F_RING_PACKED     34
#define VDP_F_IN_ORDER        35

#define VDP_BIT(b) (1ULL << (b))

#include <stddef.h>
#include <stdint.h>

/* Checksum/segmentation offload bits net_vdevpeer implements. */
#define VDP_FEATURES_OFFLOAD ( \
	VDP_BIT(VDP_F_CSUM) | VDP_BIT(VDP_F_GUEST_CSUM) | \
	VDP_BIT(VDP_F_GUEST_TSO4) | VDP_BIT(VDP_F_GUEST_TSO6) | \
	VDP_BIT(VDP_F_GUEST_ECN) | VDP_BIT(VDP_F_HOST_TSO4) | \
	VDP_BIT(VDP_F_HOST_TSO6) | VDP_BIT(VDP_F_HOST_ECN))

/* UDP fragmentation offload: deprecated by virtio and Linux, never offered. */
#define VDP_FEATURES_UFO (VDP_BIT(VDP_F_GUEST_UFO) | VDP_BIT(VDP_F_HOST_UFO))

/*
 * The features a guest acked (f) that lack a feature they depend on
 * (virtio 1.1 5.1.3.1): GUEST_TSO4/6 and GUEST_UFO need GUEST_CSUM,
 * GUEST_ECN needs GUEST_TSO4 or 6; the same for the HOST_ side with CSUM.
 * QEMU passes such sets (csum=off,guest_csum=off keeps GUEST_TSO4). The
 * result is the mask to ignore: f & ~result is consistent.
 */
static inline uint64_t
vdp_features_unmet(uint64_t f)
{
	uint64_t drop = 0;

	if (!(f & VDP_BIT(VDP_F_GUEST_CSUM)))
		drop |= f & (VDP_BIT(VDP_F_GUEST_TSO4) | VDP_BIT(VDP_F_GUEST_TSO6) |
			     VDP_BIT(VDP_F_GUEST_UFO));
	if (!(f & VDP_BIT(VDP_F_CSUM)))
		drop |= f & (VDP_BIT(VDP_F_HOST_TSO4) | VDP_BIT(VDP_F_HOST_TSO6) |
			     VDP_BIT(VDP_F_HOST_UFO));
	if (!(f & ~drop & (VDP_BIT(VDP_F_GUEST_TSO4) | VDP_BIT(VDP_F_GUEST_TSO6))))
		drop |= f & VDP_BIT(VDP_F_GUEST_ECN);
	if (!(f & ~drop & (VDP_BIT(VDP_F_HOST_TSO4) | VDP_BIT(VDP_F_HOST_TSO6))))
		drop |= f & VDP_BIT(VDP_F_HOST_ECN);
	return drop;
}

/* vdp_features.c: the name of a feature bit (NULL when it has none), and
 * the names of the bits of f, space separated ("none" when f is 0), as
 * snprintf: the length it needed. */
const char *vdp_feature_name(unsigned int bit);
/* Its name, or "bit<N>" written into tmp when it has none. */
#define VDP_FEATURE_LABEL_MAX 16
const char *vdp_feature_label(unsigned int bit, char tmp[VDP_FEATURE_LABEL_MAX]);
int vdp_features_str(uint64_t f, char *buf, size_t len);

#endif /* VDP_FEATURES_H */
