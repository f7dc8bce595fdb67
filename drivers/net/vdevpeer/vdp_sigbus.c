/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIGBUS containment on guest memory files (see vdp_sigbus.h).
 *
 * The handler finds what is mapped at the faulting address in
 * /proc/self/maps (read with open/read/close and a stack buffer: all
 * async-signal-safe), and if it is a watched file, maps private zero pages
 * over the faulting page and the rest of that mapping (every later page is
 * past the file's new end as well: one scan per shrink, not one per page),
 * in units of the file's page size (a huge page on hugetlbfs). A thread
 * that faulted on a range another thread has replaced since finds it in
 * the list of replaced ranges, or finds the address anonymous now, and
 * simply retries.
 *
 * The table of watched files is written under a mutex and read by the
 * handler without it: entries are published with release stores; a stale
 * read at worst leaves one fault uncontained.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vdp_sigbus.h"

struct watched {
	uint64_t dev, ino;   /* written before refs goes non-zero (release) */
	uint32_t pgsz;
	uint32_t refs;       /* 0: free slot */
	uint32_t faults;     /* atomic: faults contained on this file */
};

static struct watched files[VDP_SIGBUS_FILES];
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction old_sigbus;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int installed;   /* 0: not yet, 1: done, -errno: failed */
static uint64_t contained;   /* atomic */

bool
vdp_sigbus_watch(uint64_t dev, uint64_t ino, uint32_t pgsz)
{
	struct watched *free_slot = NULL;
	bool ok = true;

	pthread_mutex_lock(&files_lock);
	for (int i = 0; i < VDP_SIGBUS_FILES; i++) {
		struct watched *g = &files[i];

		if (g->refs != 0 && g->dev == dev && g->ino == ino) {
			g->refs++;
			goto out;
		}
		if (g->refs == 0 && free_slot == NULL)
			free_slot = g;
	}
	if (free_slot == NULL) {
		ok = false;
		goto out;
	}
	free_slot->dev = dev;
	free_slot->ino = ino;
	free_slot->pgsz = pgsz;
	__atomic_store_n(&free_slot->faults, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&free_slot->refs, 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&files_lock);
	return ok;
}

void
vdp_sigbus_unwatch(uint64_t dev, uint64_t ino)
{
	pthread_mutex_lock(&files_lock);
	for (int i = 0; i < VDP_SIGBUS_FILES; i++) {
		struct watched *g = &files[i];

		if (g->refs != 0 && g->dev == dev && g->ino == ino) {
			__atomic_store_n(&g->refs, g->refs - 1, __ATOMIC_RELEASE);
			break;
		}
	}
	pthread_mutex_unlock(&files_lock);
}

uint32_t
vdp_sigbus_faults(uint64_t dev, uint64_t ino)
{
	uint32_t n = 0;

	pthread_mutex_lock(&files_lock);
	for (int i = 0; i < VDP_SIGBUS_FILES; i++) {
		struct watched *g = &files[i];

		if (g->refs != 0 && g->dev == dev && g->ino == ino) {
			n = __atomic_load_n(&g->faults, __ATOMIC_RELAXED);
			break;
		}
	}
	pthread_mutex_unlock(&files_lock);
	return n;
}

uint64_t
vdp_sigbus_contained(void)
{
	return __atomic_load_n(&contained, __ATOMIC_RELAXED);
}

uint32_t
vdp_sigbus_files(void)
{
	uint32_t n = 0;

	pthread_mutex_lock(&files_lock);
	for (int i = 0; i < VDP_SIGBUS_FILES; i++)
		if (files[i].refs != 0)
			n++;
	pthread_mutex_unlock(&files_lock);
	return n;
}

/* -- in the signal handler: async-signal-safe code only -- */

/* Ranges already replaced, newest last: a thread that faulted on one
 * before another replaced it must retry, not take its fault for someone
 * else's. */
#define VDP_REPLACED 64
static struct {
	uint64_t start, end;   /* atomics */
} replaced[VDP_REPLACED];
static uint32_t replaced_next;   /* atomic */

static bool
was_replaced(uint64_t addr)
{
	for (int i = 0; i < VDP_REPLACED; i++) {
		uint64_t s = __atomic_load_n(&replaced[i].start, __ATOMIC_ACQUIRE);
		uint64_t e = __atomic_load_n(&replaced[i].end, __ATOMIC_ACQUIRE);

		if (addr >= s && addr < e)
			return true;
	}
	return false;
}

static void
note_replaced(uint64_t start, uint64_t end)
{
	uint32_t i = __atomic_fetch_add(&replaced_next, 1, __ATOMIC_RELAXED) % VDP_REPLACED;

	__atomic_store_n(&replaced[i].start, start, __ATOMIC_RELEASE);
	__atomic_store_n(&replaced[i].end, end, __ATOMIC_RELEASE);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse a hex number at *s, advance past it. */
static uint64_t
parse_hex(const char **s, const char *end)
{
	uint64_t v = 0;
	int d;

	while (*s < end && (d = hexval(**s)) >= 0) {
		v = v << 4 | (uint64_t)d;
		(*s)++;
	}
	return v;
}

static uint64_t
parse_dec(const char **s, const char *end)
{
	uint64_t v = 0;

	while (*s < end && **s >= '0' && **s <= '9') {
		v = v * 10 + (uint64_t)(**s - '0');
		(*s)++;
	}
	return v;
}

struct maps_line {
	uint64_t start, stop, offset, dev, ino;
};

/*
 * One line of /proc/self/maps: "start-end perms offset maj:min inode path".
 * True when it covers addr; then *l is filled.
 */
static bool
maps_line_covers(const char *s, const char *end, uint64_t addr, struct maps_line *l)
{
	uint64_t maj, min;

	l->start = parse_hex(&s, end);
	if (s == end || *s++ != '-')
		return false;
	l->stop = parse_hex(&s, end);
	if (addr < l->start || addr >= l->stop)
		return false;
	while (s < end && *s == ' ')   /* perms */
		s++;
	while (s < end && *s != ' ')
		s++;
	while (s < end && *s == ' ')
		s++;
	l->offset = parse_hex(&s, end);
	while (s < end && *s == ' ')
		s++;
	maj = parse_hex(&s, end);
	if (s == end || *s++ != ':')
		return false;
	min = parse_hex(&s, end);
	while (s < end && *s == ' ')
		s++;
	l->ino = parse_dec(&s, end);
	l->dev = makedev(maj, min);
	return true;
}

/* The mapping at addr, read from /proc/self/maps with a stack buffer. */
static bool
mapping_of(uint64_t addr, struct maps_line *l)
{
	char buf[4096];
	size_t have = 0;
	bool found = false, skip = false;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		char *line = buf, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
			/* the rest of a line too long for the buffer is not a line */
			if (!skip && maps_line_covers(line, nl, addr, l)) {
				found = true;
				goto out;
			}
			skip = false;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf)) {   /* a line longer than the buffer */
			have = 0;
			skip = true;
		}
	}
out:
	close(fd);
	return found;
}

/* "/proc/self/map_files/<start>-<stop>" without printf. */
static void
map_files_path(char *buf, uint64_t start, uint64_t stop)
{
	static const char hex[] = "0123456789abcdef";
	const char *pre = "/proc/self/map_files/";
	char *o = buf;
	uint64_t v[2] = { start, stop };

	while (*pre)
		*o++ = *pre++;
	for (int k = 0; k < 2; k++) {
		char tmp[16];
		int n = 0;

		do {
			tmp[n++] = hex[v[k] & 15];
			v[k] >>= 4;
		} while (v[k] != 0);
		while (n > 0)
			*o++ = tmp[--n];
		if (k == 0)
			*o++ = '-';
	}
	*o = '\0';
}

/*
 * Where in [l->start, l->stop) the file behind the mapping ends now
 * (page aligned), or l->stop when that cannot be told: what lies past it
 * faults, all of it.
 */
static uint64_t
mapping_file_end(const struct maps_line *l, uint64_t pgsz)
{
	char path[64];
	struct stat st;
	uint64_t end;
	int fd, ret;

	map_files_path(path, l->start, l->stop);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return l->stop;
	ret = fstat(fd, &st);
	close(fd);
	if (ret != 0 || (uint64_t)st.st_size <= l->offset)
		return ret != 0 ? l->stop : l->start;
	end = l->start + ((uint64_t)st.st_size - l->offset + pgsz - 1) / pgsz * pgsz;
	return end < l->stop ? end : l->stop;
}

static void
vdp_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uint64_t addr = (uint64_t)(uintptr_t)si->si_addr;
	struct maps_line l;
	int saved_errno = errno;

	if (si->si_code == BUS_ADRERR) {
		/* another thread replaced it since the fault: retry */
		if (was_replaced(addr))
			goto retry;
		if (mapping_of(addr, &l)) {
			if (l.dev == 0 && l.ino == 0)
				goto retry;   /* anonymous now: cannot fault again */
			for (int i = 0; i < VDP_SIGBUS_FILES; i++) {
				struct watched *g = &files[i];
				uint64_t page;

				if (__atomic_load_n(&g->refs, __ATOMIC_ACQUIRE) == 0 ||
				    g->dev != l.dev || g->ino != l.ino || g->pgsz == 0)
					continue;
				/*
				 * Everything of the mapping past the file's new
				 * end would fault: replace it all at once (one
				 * fault per shrink, not one per page), and at
				 * least the faulting page.
				 */
				page = mapping_file_end(&l, g->pgsz);
				if (page > (addr & ~((uint64_t)g->pgsz - 1)))
					page = addr & ~((uint64_t)g->pgsz - 1);
				if (page < l.start)
					page = l.start;
				if (mmap((void *)(uintptr_t)page, l.stop - page,
					 PROT_READ | PROT_WRITE,
					 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
				    MAP_FAILED)
					break;
				note_replaced(page, l.stop);
				__atomic_add_fetch(&g->faults, 1, __ATOMIC_RELAXED);
				__atomic_add_fetch(&contained, 1, __ATOMIC_RELAXED);
				goto retry;
			}
		}
	}
	errno = saved_errno;
	/* Not ours: whoever had SIGBUS before decides. */
	if ((old_sigbus.sa_flags & SA_SIGINFO) && old_sigbus.sa_sigaction != NULL) {
		old_sigbus.sa_sigaction(sig, si, uctx);
	} else if (old_sigbus.sa_handler != SIG_IGN && old_sigbus.sa_handler != SIG_DFL) {
		old_sigbus.sa_handler(sig);
	} else {
		/* default action: put it back; returning faults again and dies */
		sigaction(SIGBUS, &old_sigbus, NULL);
	}
	return;
retry:
	errno = saved_errno;   /* returning retries the access */
}

int
vdp_sigbus_install(void)
{
	struct sigaction sa;

	pthread_mutex_lock(&install_lock);
	if (installed == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = vdp_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		installed = sigaction(SIGBUS, &sa, &old_sigbus) == 0 ? 1 : -errno;
	}
	pthread_mutex_unlock(&install_lock);
	return installed > 0 ? 0 : installed;
}
