/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the bridge's MAC table (bridge.c), without EAL: learning,
 * moves, static entries, aging, flush, a full table, MAC parsing, and
 * lock-free readers racing writers on several threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

#define MAC(n) (UINT64_C(0x020000000000) | (uint64_t)(n))

static void
test_learn_move_lookup(void)
{
	struct bridge_table *t = bridge_table_create(64);

	CHECK(t != NULL);
	CHECK(bridge_table_capacity(t) == 64);
	CHECK(bridge_mac_lookup(t, MAC(1)) == BRIDGE_NO_PORT);
	CHECK(bridge_mac_learn(t, MAC(1), 3, 100) == BRIDGE_LEARN_NEW);
	CHECK(bridge_mac_learn(t, MAC(1), 3, 101) == BRIDGE_LEARN_HIT);
	CHECK(bridge_mac_lookup(t, MAC(1)) == 3);
	CHECK(bridge_mac_learn(t, MAC(1), 5, 102) == BRIDGE_LEARN_MOVED);
	CHECK(bridge_mac_lookup(t, MAC(1)) == 5);
	CHECK(bridge_table_count(t) == 1);
	/* port 0 is a port like any other */
	CHECK(bridge_mac_learn(t, MAC(2), 0, 100) == BRIDGE_LEARN_NEW);
	CHECK(bridge_mac_lookup(t, MAC(2)) == 0);
	/* group and zero MACs are never learned */
	CHECK(bridge_mac_learn(t, UINT64_C(0xffffffffffff), 1, 100) == BRIDGE_LEARN_INVALID);
	CHECK(bridge_mac_learn(t, UINT64_C(0x01005e000001), 1, 100) == BRIDGE_LEARN_INVALID);
	CHECK(bridge_mac_learn(t, 0, 1, 100) == BRIDGE_LEARN_INVALID);
	CHECK(bridge_table_count(t) == 2);
	CHECK(bridge_mac_del(t, MAC(2)) == 0);
	CHECK(bridge_mac_del(t, MAC(2)) == -ENOENT);
	CHECK(bridge_mac_lookup(t, MAC(2)) == BRIDGE_NO_PORT);
	CHECK(bridge_table_count(t) == 1);
	bridge_table_free(t);
}

static void
test_static_and_aging(void)
{
	struct bridge_table *t = bridge_table_create(64);
	struct bridge_entry e[8];

	CHECK(bridge_get_aging(t) == BRIDGE_DEFAULT_AGING);
	bridge_set_aging(t, 10);
	CHECK(bridge_mac_add(t, MAC(7), 2, true, 0) == 0);
	CHECK(bridge_mac_add(t, UINT64_C(0x01005e000001), 2, true, 0) == -EINVAL);
	/* a static entry does not move by learning */
	CHECK(bridge_mac_learn(t, MAC(7), 4, 5) == BRIDGE_LEARN_STATIC);
	CHECK(bridge_mac_lookup(t, MAC(7)) == 2);
	CHECK(bridge_mac_learn(t, MAC(8), 1, 0) == BRIDGE_LEARN_NEW);
	CHECK(bridge_mac_learn(t, MAC(9), 1, 0) == BRIDGE_LEARN_NEW);
	CHECK(bridge_mac_learn(t, MAC(9), 1, 8) == BRIDGE_LEARN_HIT);  /* refreshed */
	CHECK(bridge_age(t, 10) == 0);        /* 10 s old: not older than aging */
	CHECK(bridge_age(t, 11) == 1);        /* MAC(8) goes */
	CHECK(bridge_mac_lookup(t, MAC(8)) == BRIDGE_NO_PORT);
	CHECK(bridge_mac_lookup(t, MAC(9)) == 1);
	CHECK(bridge_age(t, 19) == 1);        /* MAC(9), seen at 8 */
	CHECK(bridge_age(t, 1000) == 0);      /* static stays */
	CHECK(bridge_mac_lookup(t, MAC(7)) == 2);
	CHECK(bridge_mac_dump(t, 1000, e, 8) == 1);
	CHECK(e[0].mac == MAC(7) && e[0].port == 2 && e[0].is_static && e[0].age == 1000);
	/* a refresh from a clock slightly ahead of the ager's is young */
	CHECK(bridge_mac_learn(t, MAC(10), 1, 2000) == BRIDGE_LEARN_NEW);
	CHECK(bridge_age(t, 1999) == 0);
	/* flush: by port, dynamic only, then everything */
	CHECK(bridge_mac_learn(t, MAC(11), 2, 2000) == BRIDGE_LEARN_NEW);
	CHECK(bridge_mac_flush(t, 2, false) == 1);   /* MAC(11), not static MAC(7) */
	CHECK(bridge_mac_lookup(t, MAC(7)) == 2);
	CHECK(bridge_mac_flush(t, BRIDGE_NO_PORT, false) == 1); /* MAC(10) */
	CHECK(bridge_mac_flush(t, BRIDGE_NO_PORT, true) == 1);  /* MAC(7) */
	CHECK(bridge_table_count(t) == 0);
	/* re-adding a learned MAC as static makes it static */
	CHECK(bridge_mac_learn(t, MAC(12), 1, 0) == BRIDGE_LEARN_NEW);
	CHECK(bridge_mac_add(t, MAC(12), 3, true, 0) == 0);
	CHECK(bridge_table_count(t) == 1);
	CHECK(bridge_mac_learn(t, MAC(12), 1, 0) == BRIDGE_LEARN_STATIC);
	/* aging 0: never */
	CHECK(bridge_mac_learn(t, MAC(13), 1, 0) == BRIDGE_LEARN_NEW);
	bridge_set_aging(t, 0);
	CHECK(bridge_age(t, 100000) == 0);
	CHECK(bridge_mac_lookup(t, MAC(13)) == 1);
	bridge_table_free(t);
}

static void
test_full(void)
{
	struct bridge_table *t = bridge_table_create(8);   /* 2 buckets x 4 */
	unsigned int i, learned = 0, full = 0;

	for (i = 1; i <= 20; i++) {
		enum bridge_learn r = bridge_mac_learn(t, MAC(i), 1, 0);

		learned += r == BRIDGE_LEARN_NEW;
		full += r == BRIDGE_LEARN_FULL;
	}
	/* 2 buckets: every MAC has both as its choices, so all 8 slots fill */
	CHECK(learned == 8);
	CHECK(full == 12);
	CHECK(bridge_table_count(t) == 8);
	CHECK(bridge_mac_add(t, MAC(100), 1, true, 0) == -ENOSPC);
	bridge_table_free(t);

	/* two choices keep a big table usable to high load */
	t = bridge_table_create(4096);
	for (i = 1, learned = 0; i <= 4096; i++)
		learned += bridge_mac_learn(t, MAC(i * 7919), 1, 0) == BRIDGE_LEARN_NEW;
	printf("4096-slot table: %u of 4096 sequential-ish MACs placed\n", learned);
	CHECK(learned >= 4096 * 85 / 100);
	bridge_table_free(t);
}

static void
test_parse(void)
{
	char buf[32];
	uint64_t m;

	CHECK(bridge_mac_parse("02:00:00:aa:BB:0c", &m) == 0 && m == UINT64_C(0x020000aabb0c));
	CHECK(bridge_mac_parse("02-00-00-aa-bb-0c", &m) == 0);
	CHECK(bridge_mac_parse("02:00:00:aa:bb", &m) == -EINVAL);
	CHECK(bridge_mac_parse("02:00:00:aa:bb:0c:", &m) == -EINVAL);
	CHECK(bridge_mac_parse("0g:00:00:aa:bb:0c", &m) == -EINVAL);
	CHECK(bridge_mac_parse("", &m) == -EINVAL);
	bridge_mac_format(UINT64_C(0x020000aabb0c), buf, sizeof(buf));
	CHECK(strcmp(buf, "02:00:00:aa:bb:0c") == 0);
	{
		const uint8_t b[6] = { 0x02, 0, 0, 0xaa, 0xbb, 0x0c };

		CHECK(bridge_mac64(b) == UINT64_C(0x020000aabb0c));
	}
	CHECK(bridge_mac_is_group(UINT64_C(0xffffffffffff)));
	CHECK(bridge_mac_is_group(UINT64_C(0x333300000001)));
	CHECK(!bridge_mac_is_group(UINT64_C(0x525400000001)));
}

/*
 * Concurrency: readers look up a fixed set of MACs, each of which a writer
 * keeps moving between two ports of its own (MAC i: ports 2i, 2i+1) while
 * others learn and age unrelated MACs. A reader must only ever see one of
 * the two ports or (never for these, since they are never deleted) none.
 */
#define NB_HOT 64
#define RACE_ROUNDS 200000

static struct bridge_table *race_t;
static int race_stop;
static unsigned long race_bad;

static void *
race_reader(void *arg)
{
	unsigned long bad = 0, n = 0;

	(void)arg;
	while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE)) {
		unsigned int i = n++ % NB_HOT;
		uint16_t p = bridge_mac_lookup(race_t, MAC(i + 1));

		if (p != 2 * i && p != 2 * i + 1)
			bad++;
	}
	__atomic_add_fetch(&race_bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

static void *
race_writer(void *arg)
{
	unsigned int w = (unsigned int)(uintptr_t)arg, r;

	for (r = 0; r < RACE_ROUNDS; r++) {
		unsigned int i = (r * 7 + w) % NB_HOT;

		bridge_mac_learn(race_t, MAC(i + 1), 2 * i + (r & 1), r);
		/* churn: unrelated MACs come and go */
		bridge_mac_learn(race_t, MAC(0x10000 + (r % 1000) + w * 1000), 9, r);
		if (r % 5000 == 0)
			bridge_age(race_t, r);
	}
	return NULL;
}

static void
test_concurrent(void)
{
	pthread_t rd[2], wr[2];
	unsigned int i;

	race_t = bridge_table_create(4096);
	bridge_set_aging(race_t, 100);
	for (i = 0; i < NB_HOT; i++)
		CHECK(bridge_mac_add(race_t, MAC(i + 1), 2 * i, false, 0) == 0);
	/* the hot MACs must never age out during the race */
	bridge_set_aging(race_t, UINT32_MAX / 4);
	for (i = 0; i < 2; i++)
		pthread_create(&rd[i], NULL, race_reader, NULL);
	for (i = 0; i < 2; i++)
		pthread_create(&wr[i], NULL, race_writer, (void *)(uintptr_t)i);
	for (i = 0; i < 2; i++)
		pthread_join(wr[i], NULL);
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		pthread_join(rd[i], NULL);
	CHECK(race_bad == 0);
	for (i = 0; i < NB_HOT; i++) {
		uint16_t p = bridge_mac_lookup(race_t, MAC(i + 1));

		CHECK(p == 2 * i || p == 2 * i + 1);
	}
	/* no duplicates: every MAC once */
	{
		struct bridge_entry *e = calloc(4096, sizeof(*e));
		unsigned int n = bridge_mac_dump(race_t, 0, e, 4096), j, k, dup = 0;

		CHECK(n == bridge_table_count(race_t));
		for (j = 0; j < n && j < 4096; j++)
			for (k = j + 1; k < n && k < 4096; k++)
				dup += e[j].mac == e[k].mac;
		CHECK(dup == 0);
		free(e);
	}
	bridge_table_free(race_t);
}

int
main(void)
{
	test_learn_move_lookup();
	test_static_and_aging();
	test_full();
	test_parse();
	test_concurrent();
	if (failures != 0) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("bridge MAC table: all checks passed\n");
	return 0;
}
