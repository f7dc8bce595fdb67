/* SPDX-License-Identifier: BSD-3-Clause */
/* The bridge's MAC table; see bridge.h for who may run what. EAL-free. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

#define SLOTS_PER_BUCKET 4
#define MAC_MASK ((UINT64_C(1) << 48) - 1)

/* One slot: word = mac << 16 | port, 0 = empty (all-zero MACs are refused). */
struct bridge_slot {
	uint64_t word;
	uint32_t seen;               /* seconds, caller's clock */
	uint8_t is_static;           /* written under the lock only */
	uint8_t pad[3];
};

struct bridge_bucket {
	struct bridge_slot slot[SLOTS_PER_BUCKET];
} __attribute__((aligned(64)));

struct bridge_table {
	struct bridge_bucket *buckets;
	uint32_t mask;               /* nb_buckets - 1 */
	uint32_t aging;
	unsigned int count;          /* under the lock; read relaxed */
	char lock;                   /* writers' spinlock */
};

static void
tbl_lock(struct bridge_table *t)
{
	while (__atomic_test_and_set(&t->lock, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&t->lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static void
tbl_unlock(struct bridge_table *t)
{
	__atomic_clear(&t->lock, __ATOMIC_RELEASE);
}

static inline uint64_t
slot_load(const struct bridge_slot *s)
{
	return __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
}

/* Two independent bucket indexes from a MAC (multiplicative hashing). */
static inline void
mac_buckets(const struct bridge_table *t, uint64_t mac, uint32_t b[2])
{
	uint64_t h1 = mac * UINT64_C(0x9e3779b97f4a7c15);
	uint64_t h2 = (mac ^ (mac >> 29)) * UINT64_C(0xbf58476d1ce4e5b9);

	b[0] = (uint32_t)(h1 >> 32) & t->mask;
	b[1] = (uint32_t)(h2 >> 32) & t->mask;
	if (b[1] == b[0])
		b[1] = (b[0] + 1) & t->mask;
}

static struct bridge_slot *
find_slot(const struct bridge_table *t, uint64_t mac, uint64_t *word)
{
	uint32_t b[2];
	unsigned int i, j;

	mac_buckets(t, mac, b);
	for (i = 0; i < 2; i++) {
		struct bridge_bucket *bk = &t->buckets[b[i]];

		for (j = 0; j < SLOTS_PER_BUCKET; j++) {
			uint64_t w = slot_load(&bk->slot[j]);

			if (w != 0 && (w >> 16) == mac) {
				*word = w;
				return &bk->slot[j];
			}
		}
	}
	return NULL;
}

/* Under the lock: an empty slot in the emptier of the two buckets. */
static struct bridge_slot *
free_slot(struct bridge_table *t, uint64_t mac)
{
	struct bridge_slot *first[2] = { NULL, NULL };
	unsigned int used[2] = { 0, 0 }, i, j;
	uint32_t b[2];

	mac_buckets(t, mac, b);
	for (i = 0; i < 2; i++) {
		struct bridge_bucket *bk = &t->buckets[b[i]];

		for (j = 0; j < SLOTS_PER_BUCKET; j++) {
			if (bk->slot[j].word != 0)
				used[i]++;
			else if (first[i] == NULL)
				first[i] = &bk->slot[j];
		}
	}
	if (first[0] == NULL)
		return first[1];
	if (first[1] == NULL)
		return first[0];
	return used[1] < used[0] ? first[1] : first[0];
}

static inline bool
mac_valid(uint64_t mac)
{
	return mac != 0 && (mac & ~MAC_MASK) == 0 && !bridge_mac_is_group(mac);
}

struct bridge_table *
bridge_table_create(unsigned int nb_entries)
{
	struct bridge_table *t;
	unsigned int nb_buckets = 2;

	while (nb_buckets * SLOTS_PER_BUCKET < nb_entries && nb_buckets < (1u << 24))
		nb_buckets <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->buckets = aligned_alloc(64, nb_buckets * sizeof(*t->buckets));
	if (t->buckets == NULL) {
		free(t);
		return NULL;
	}
	memset(t->buckets, 0, nb_buckets * sizeof(*t->buckets));
	t->mask = nb_buckets - 1;
	t->aging = BRIDGE_DEFAULT_AGING;
	return t;
}

void
bridge_table_free(struct bridge_table *t)
{
	if (t == NULL)
		return;
	free(t->buckets);
	free(t);
}

unsigned int
bridge_table_capacity(const struct bridge_table *t)
{
	return (t->mask + 1) * SLOTS_PER_BUCKET;
}

unsigned int
bridge_table_count(const struct bridge_table *t)
{
	return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

uint16_t
bridge_mac_lookup(const struct bridge_table *t, uint64_t mac)
{
	uint64_t w;

	if (find_slot(t, mac, &w) == NULL)
		return BRIDGE_NO_PORT;
	return (uint16_t)w;
}

static inline void
touch(struct bridge_slot *s, uint32_t now)
{
	/* Written only when the second changed: no line bouncing per frame. */
	if (__atomic_load_n(&s->seen, __ATOMIC_RELAXED) != now)
		__atomic_store_n(&s->seen, now, __ATOMIC_RELAXED);
}

enum bridge_learn
bridge_mac_learn(struct bridge_table *t, uint64_t mac, uint16_t port, uint32_t now)
{
	struct bridge_slot *s;
	enum bridge_learn ret;
	uint64_t w;

	if (!mac_valid(mac))
		return BRIDGE_LEARN_INVALID;
	/* Fast path, no lock: known on this port. */
	s = find_slot(t, mac, &w);
	if (s != NULL && (uint16_t)w == port) {
		touch(s, now);
		return BRIDGE_LEARN_HIT;
	}
	tbl_lock(t);
	s = find_slot(t, mac, &w);      /* again: another writer may have been first */
	if (s != NULL && (uint16_t)w == port) {
		touch(s, now);
		ret = BRIDGE_LEARN_HIT;
	} else if (s != NULL && s->is_static) {
		ret = BRIDGE_LEARN_STATIC;
	} else if (s != NULL) {
		__atomic_store_n(&s->seen, now, __ATOMIC_RELAXED);
		__atomic_store_n(&s->word, mac << 16 | port, __ATOMIC_RELEASE);
		ret = BRIDGE_LEARN_MOVED;
	} else {
		s = free_slot(t, mac);
		if (s == NULL) {
			ret = BRIDGE_LEARN_FULL;
		} else {
			s->is_static = 0;
			__atomic_store_n(&s->seen, now, __ATOMIC_RELAXED);
			__atomic_store_n(&s->word, mac << 16 | port, __ATOMIC_RELEASE);
			__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELAXED);
			ret = BRIDGE_LEARN_NEW;
		}
	}
	tbl_unlock(t);
	return ret;
}

int
bridge_mac_add(struct bridge_table *t, uint64_t mac, uint16_t port,
	       bool is_static, uint32_t now)
{
	struct bridge_slot *s;
	uint64_t w;
	int ret = 0;

	if (!mac_valid(mac) || port == BRIDGE_NO_PORT)
		return -EINVAL;
	tbl_lock(t);
	s = find_slot(t, mac, &w);
	if (s == NULL) {
		s = free_slot(t, mac);
		if (s == NULL) {
			ret = -ENOSPC;
			goto out;
		}
		__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELAXED);
	}
	s->is_static = is_static;
	__atomic_store_n(&s->seen, now, __ATOMIC_RELAXED);
	__atomic_store_n(&s->word, mac << 16 | port, __ATOMIC_RELEASE);
out:
	tbl_unlock(t);
	return ret;
}

static void
slot_clear(struct bridge_table *t, struct bridge_slot *s)
{
	__atomic_store_n(&s->word, 0, __ATOMIC_RELEASE);
	s->is_static = 0;
	__atomic_store_n(&t->count, t->count - 1, __ATOMIC_RELAXED);
}

int
bridge_mac_del(struct bridge_table *t, uint64_t mac)
{
	struct bridge_slot *s;
	uint64_t w;
	int ret = -ENOENT;

	tbl_lock(t);
	s = find_slot(t, mac, &w);
	if (s != NULL) {
		slot_clear(t, s);
		ret = 0;
	}
	tbl_unlock(t);
	return ret;
}

unsigned int
bridge_mac_flush(struct bridge_table *t, uint16_t port, bool with_static)
{
	unsigned int n = 0, i, j;

	tbl_lock(t);
	for (i = 0; i <= t->mask; i++) {
		for (j = 0; j < SLOTS_PER_BUCKET; j++) {
			struct bridge_slot *s = &t->buckets[i].slot[j];

			if (s->word == 0 || (s->is_static && !with_static))
				continue;
			if (port != BRIDGE_NO_PORT && (uint16_t)s->word != port)
				continue;
			slot_clear(t, s);
			n++;
		}
	}
	tbl_unlock(t);
	return n;
}

void
bridge_set_aging(struct bridge_table *t, uint32_t seconds)
{
	__atomic_store_n(&t->aging, seconds, __ATOMIC_RELAXED);
}

uint32_t
bridge_get_aging(const struct bridge_table *t)
{
	return __atomic_load_n(&t->aging, __ATOMIC_RELAXED);
}

unsigned int
bridge_age(struct bridge_table *t, uint32_t now)
{
	uint32_t aging = bridge_get_aging(t);
	unsigned int n = 0, i, j;

	if (aging == 0)
		return 0;
	tbl_lock(t);
	for (i = 0; i <= t->mask; i++) {
		for (j = 0; j < SLOTS_PER_BUCKET; j++) {
			struct bridge_slot *s = &t->buckets[i].slot[j];
			uint32_t seen;

			if (s->word == 0 || s->is_static)
				continue;
			seen = __atomic_load_n(&s->seen, __ATOMIC_RELAXED);
			/* Signed difference: a refresh racing ahead of now is young. */
			if ((int32_t)(now - seen) <= (int32_t)aging)
				continue;
			slot_clear(t, s);
			n++;
		}
	}
	tbl_unlock(t);
	return n;
}

unsigned int
bridge_mac_dump(const struct bridge_table *t, uint32_t now,
		struct bridge_entry *out, unsigned int max)
{
	unsigned int n = 0, i, j;

	for (i = 0; i <= t->mask; i++) {
		for (j = 0; j < SLOTS_PER_BUCKET; j++) {
			const struct bridge_slot *s = &t->buckets[i].slot[j];
			uint64_t w = slot_load(s);
			int32_t age;

			if (w == 0)
				continue;
			if (n < max) {
				age = (int32_t)(now - __atomic_load_n(&s->seen, __ATOMIC_RELAXED));
				out[n].mac = w >> 16;
				out[n].port = (uint16_t)w;
				out[n].is_static = __atomic_load_n(&s->is_static, __ATOMIC_RELAXED);
				out[n].age = age < 0 ? 0 : (uint32_t)age;
			}
			n++;
		}
	}
	return n;
}

int
bridge_mac_parse(const char *s, uint64_t *mac)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 6; i++) {
		int hi, lo;
		char c;

		c = s[0];
		hi = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		     c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		c = hi < 0 ? 0 : s[1];
		lo = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		     c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (hi < 0 || lo < 0)
			return -EINVAL;
		v = v << 8 | (uint64_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -EINVAL;
			s++;
		}
	}
	if (*s != '\0')
		return -EINVAL;
	*mac = v;
	return 0;
}

void
bridge_mac_format(uint64_t mac, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 (unsigned int)(mac >> 40) & 0xff, (unsigned int)(mac >> 32) & 0xff,
		 (unsigned int)(mac >> 24) & 0xff, (unsigned int)(mac >> 16) & 0xff,
		 (unsigned int)(mac >> 8) & 0xff, (unsigned int)mac & 0xff);
}
