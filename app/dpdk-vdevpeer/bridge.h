/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bridge's MAC table (forwarding database). EAL-free: plain C11 and
 * GCC atomics, so that test/test_bridge.c exercises it without DPDK.
 *
 * Concurrency (why our own table and not rte_hash):
 *   - a key (48-bit MAC) and its value (16-bit port) fit together in one
 *     64-bit word, so every slot is read with ONE atomic load: a reader
 *     sees either the old entry, the new one or an empty slot, never a
 *     torn mix. Readers (bridge_mac_lookup, the hit path of
 *     bridge_mac_learn) take no lock and write nothing shared except a
 *     slot's last-seen second, and only when that second has changed;
 *   - writers (a new MAC, a move, add/del/flush/aging) serialise on one
 *     spinlock: they are rare next to lookups. Deleting is a store of 0;
 *     since nothing hangs off a slot there is nothing to reclaim, so no
 *     RCU grace period is needed (rte_hash in lock-free mode needs one
 *     before a key index is reused, and does not let the EAL-free unit
 *     test run);
 *   - each MAC hashes to two buckets of 4 slots (one cache line each);
 *     a new MAC goes into the emptier one ("two choices"), which keeps
 *     the table usable up to ~90 % load. A lookup reads at most 2 lines.
 * Any thread may call any function; time is passed in by the caller (a
 * coarse clock in seconds), which keeps the table testable.
 */
#ifndef VDEVPEER_BRIDGE_H
#define VDEVPEER_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BRIDGE_NO_PORT UINT16_MAX
#define BRIDGE_DEFAULT_AGING 300     /* seconds, as the usual bridges */
#define BRIDGE_DEFAULT_ENTRIES 4096

struct bridge_table;

/* A MAC as a host-order integer: mac[0] in bits 47..40. */
static inline uint64_t
bridge_mac64(const uint8_t mac[6])
{
	return ((uint64_t)mac[0] << 40) | ((uint64_t)mac[1] << 32) |
	       ((uint64_t)mac[2] << 24) | ((uint64_t)mac[3] << 16) |
	       ((uint64_t)mac[4] << 8) | mac[5];
}

static inline bool
bridge_mac_is_group(uint64_t mac)
{
	return (mac >> 40) & 1;        /* I/G bit: multicast or broadcast */
}

enum bridge_learn {
	BRIDGE_LEARN_HIT,            /* known on this port: refreshed */
	BRIDGE_LEARN_NEW,            /* added */
	BRIDGE_LEARN_MOVED,          /* was on another port, now on this one */
	BRIDGE_LEARN_STATIC,         /* static entry on another port: kept */
	BRIDGE_LEARN_FULL,           /* both buckets full: not learned */
	BRIDGE_LEARN_INVALID,        /* group or all-zero MAC: never learned */
};

struct bridge_entry {
	uint64_t mac;
	uint16_t port;
	bool is_static;
	uint32_t age;                /* seconds since last seen */
};

/* nb_entries is rounded up to a power of two (at least 8). NULL: no memory. */
struct bridge_table *bridge_table_create(unsigned int nb_entries);
void bridge_table_free(struct bridge_table *t);
unsigned int bridge_table_capacity(const struct bridge_table *t);
unsigned int bridge_table_count(const struct bridge_table *t);

/* Port where mac was seen, or BRIDGE_NO_PORT. Lock-free. */
uint16_t bridge_mac_lookup(const struct bridge_table *t, uint64_t mac);

/* Source learning: frame from mac arrived on port at time now (s). */
enum bridge_learn bridge_mac_learn(struct bridge_table *t, uint64_t mac,
				   uint16_t port, uint32_t now);

/*
 * Add or replace an entry (static: never ages, never moves by learning).
 * 0, -EINVAL (group/zero MAC), -ENOSPC (buckets full).
 */
int bridge_mac_add(struct bridge_table *t, uint64_t mac, uint16_t port,
		   bool is_static, uint32_t now);
/* 0 or -ENOENT. */
int bridge_mac_del(struct bridge_table *t, uint64_t mac);
/*
 * Remove the entries of port (BRIDGE_NO_PORT: all ports); static ones
 * only when with_static. Returns how many were removed.
 */
unsigned int bridge_mac_flush(struct bridge_table *t, uint16_t port,
			      bool with_static);
/* 0: entries never age. */
void bridge_set_aging(struct bridge_table *t, uint32_t seconds);
uint32_t bridge_get_aging(const struct bridge_table *t);
/* Remove dynamic entries not seen for more than the aging time. */
unsigned int bridge_age(struct bridge_table *t, uint32_t now);
/*
 * Copy up to max entries into out (in table order); returns the number of
 * entries in the table at the time (may exceed max).
 */
unsigned int bridge_mac_dump(const struct bridge_table *t, uint32_t now,
			     struct bridge_entry *out, unsigned int max);

/* "aa:bb:cc:dd:ee:ff" <-> integer. 0 or -EINVAL. */
int bridge_mac_parse(const char *s, uint64_t *mac);
void bridge_mac_format(uint64_t mac, char *buf, size_t len);

#endif /* VDEVPEER_BRIDGE_H */
