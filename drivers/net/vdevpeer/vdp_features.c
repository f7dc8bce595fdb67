/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names of the virtio-net feature bits, for logs, the console and
 * telemetry. EAL-free: the tools and tests link it as they are.
 */
#include <stdio.h>

#include "vdp_features.h"

static const char *const vdp_feature_names[64] = {
	[VDP_F_CSUM] = "CSUM",
	[VDP_F_GUEST_CSUM] = "GUEST_CSUM",
	[2] = "CTRL_GUEST_OFFLOADS",
	[VDP_F_MTU] = "MTU",
	[VDP_F_MAC] = "MAC",
	[6] = "GSO",
	[VDP_F_GUEST_TSO4] = "GUEST_TSO4",
	[VDP_F_GUEST_TSO6] = "GUEST_TSO6",
	[VDP_F_GUEST_ECN] = "GUEST_ECN",
	[VDP_F_GUEST_UFO] = "GUEST_UFO",
	[VDP_F_HOST_TSO4] = "HOST_TSO4",
	[VDP_F_HOST_TSO6] = "HOST_TSO6",
	[VDP_F_HOST_ECN] = "HOST_ECN",
	[VDP_F_HOST_UFO] = "HOST_UFO",
	[VDP_F_MRG_RXBUF] = "MRG_RXBUF",
	[VDP_F_STATUS] = "STATUS",
	[VDP_F_CTRL_VQ] = "CTRL_VQ",
	[18] = "CTRL_RX",
	[19] = "CTRL_VLAN",
	[20] = "CTRL_RX_EXTRA",
	[VDP_F_GUEST_ANNOUNCE] = "GUEST_ANNOUNCE",
	[VDP_F_MQ] = "MQ",
	[23] = "CTRL_MAC_ADDR",
	[VDP_F_NOTIFY_ON_EMPTY] = "NOTIFY_ON_EMPTY",
	[26] = "LOG_ALL",
	[VDP_F_ANY_LAYOUT] = "ANY_LAYOUT",
	[VDP_F_INDIRECT_DESC] = "INDIRECT_DESC",
	[VDP_F_EVENT_IDX] = "EVENT_IDX",
	[VDP_F_PROTOCOL_FEATURES] = "PROTOCOL_FEATURES",
	[VDP_F_VERSION_1] = "VERSION_1",
	[VDP_F_ACCESS_PLATFORM] = "ACCESS_PLATFORM",
	[VDP_F_RING_PACKED] = "RING_PACKED",
	[VDP_F_IN_ORDER] = "IN_ORDER",
	[36] = "ORDER_PLATFORM",
	[37] = "SR_IOV",
	[38] = "NOTIFICATION_DATA",
};

const char *
vdp_feature_name(unsigned int bit)
{
	return bit < 64 ? vdp_feature_names[bit] : NULL;
}

const char *
vdp_feature_label(unsigned int bit, char tmp[VDP_FEATURE_LABEL_MAX])
{
	const char *name = vdp_feature_name(bit);

	if (name != NULL)
		return name;
	snprintf(tmp, VDP_FEATURE_LABEL_MAX, "bit%u", bit);
	return tmp;
}

int
vdp_features_str(uint64_t f, char *buf, size_t len)
{
	size_t used = 0;
	int n = 0;

	if (len > 0)
		buf[0] = '\0';
	for (unsigned int b = 0; b < 64; b++) {
		char tmp[VDP_FEATURE_LABEL_MAX];
		const char *name;

		if (!(f & VDP_BIT(b)))
			continue;
		name = vdp_feature_label(b, tmp);
		n = snprintf(buf + used, used < len ? len - used : 0, "%s%s",
			     used ? " " : "", name);
		used += (size_t)n;
	}
	if (used == 0)
		used = (size_t)snprintf(buf, len, "none");
	return (int)used;
}
