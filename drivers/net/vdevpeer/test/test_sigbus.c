/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the SIGBUS containment (vdp_sigbus.c), without EAL: a
 * memory file shrunk while several threads read it (they all go on, read
 * zeros, the faults are counted), a file that is not watched (the process
 * dies of SIGBUS as it would have), and a handler installed before ours
 * (it gets the faults that are not ours).
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vdp_sigbus.h"
#include "check.h"


/*
 * Built with AddressSanitizer, the runtime installs a SIGBUS handler of
 * its own before main: it would be "the handler installed before ours"
 * in the first child, which expects none. Without it (the runtime reads
 * this default, ASAN_OPTIONS still overrides it); nothing in other builds.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "handle_sigbus=0";
}

#define FILE_SIZE (16u << 20)
#define NTHREADS 4

/* A memfd of FILE_SIZE bytes filled with 0xa5, mapped shared. */
static uint8_t *
memfile(int *fd, struct stat *st)
{
	uint8_t *p;

	*fd = memfd_create("vdp-sigbus-test", MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, FILE_SIZE) != 0 || fstat(*fd, st) != 0)
		return NULL;
	p = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0xa5, FILE_SIZE);
	return p;
}

struct reader {
	const volatile uint8_t *p;
	int *go;
	uint64_t sum;      /* of bytes read after the shrink */
	unsigned int rounds;
};

static void *
reader_run(void *arg)
{
	struct reader *r = arg;

	while (!__atomic_load_n(r->go, __ATOMIC_ACQUIRE))
		;
	/* every page, from the end backwards and forwards, twice */
	for (r->rounds = 0; r->rounds < 2; r->rounds++) {
		for (size_t off = FILE_SIZE; off >= 4096; off -= 4096)
			r->sum += r->p[off - 4096];
		for (size_t off = 0; off < FILE_SIZE; off += 4096)
			r->sum += r->p[off];
	}
	return NULL;
}

static void
test_shrunk_watched(void)
{
	struct reader rd[NTHREADS];
	pthread_t th[NTHREADS];
	struct stat st;
	int fd, go = 0;
	uint8_t *p = memfile(&fd, &st);
	uint64_t before = vdp_sigbus_contained();

	if (!CHECK(p != NULL, "shrunk: memfd of %u MiB mapped", FILE_SIZE >> 20))
		return;
	CHECK(vdp_sigbus_install() == 0 && vdp_sigbus_watch(st.st_dev, st.st_ino, 4096),
	      "shrunk: handler installed, file watched");
	for (int i = 0; i < NTHREADS; i++) {
		rd[i] = (struct reader){ .p = p, .go = &go };
		pthread_create(&th[i], NULL, reader_run, &rd[i]);
	}
	/* the VMM shrinks its file: every page is past the end now */
	CHECK(ftruncate(fd, 0) == 0, "shrunk: file truncated under %d threads", NTHREADS);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	bool zeros = true;

	for (int i = 0; i < NTHREADS; i++)
		zeros &= rd[i].sum == 0 && rd[i].rounds == 2;
	CHECK(zeros, "shrunk: %d threads faulting at once all went on and read zeros", NTHREADS);
	CHECK(vdp_sigbus_faults(st.st_dev, st.st_ino) >= 1 &&
	      vdp_sigbus_faults(st.st_dev, st.st_ino) <= NTHREADS * 2 &&
	      vdp_sigbus_contained() - before == vdp_sigbus_faults(st.st_dev, st.st_ino),
	      "shrunk: %u faults counted (one per shrunk range, not one per page)",
	      vdp_sigbus_faults(st.st_dev, st.st_ino));
	vdp_sigbus_unwatch(st.st_dev, st.st_ino);
	CHECK(vdp_sigbus_faults(st.st_dev, st.st_ino) == 0 && vdp_sigbus_files() == 0,
	      "shrunk: unwatched, table empty");
	munmap(p, FILE_SIZE);
	close(fd);
}

/* In a child: touch a shrunk file that is not watched. */
static int
child_touch_unwatched(bool with_old_handler)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct stat st;
		int fd;
		uint8_t *p = memfile(&fd, &st);

		if (with_old_handler) {
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = _exit;   /* exit code: the signal number */
			sigaction(SIGBUS, &sa, NULL);
		}
		if (p == NULL || vdp_sigbus_install() != 0)
			_exit(99);
		(void)!ftruncate(fd, 0);
		return *(volatile uint8_t *)p;   /* SIGBUS */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

int
main(void)
{
	int status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the children first: the parent installs the handler below */
	status = child_touch_unwatched(false);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
	      "unwatched: a shrunk file nobody watches still kills with SIGBUS");
	status = child_touch_unwatched(true);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == SIGBUS,
	      "unwatched: the handler installed before ours gets the fault");
	test_shrunk_watched();
	return check_summary();
}
