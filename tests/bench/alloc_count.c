/*
 * alloc_count.c - an LD_PRELOAD library for make bench that counts the
 * calls to malloc, calloc, realloc and free of the process it is loaded
 * into, and the bytes asked for, and writes them at exit to the file
 * named by VT_ALLOC_COUNT_FILE: "allocs N bytes N frees N".
 *
 * Allocations per reading on the hot path come from two runs of the agent
 * with different numbers of readings: the difference in allocations over
 * the difference in readings leaves start-up and shutdown out.
 *
 * It wraps glibc's own entry points (__libc_malloc and friends), so no
 * symbol lookup happens inside an allocation. Counters are atomic: the
 * agent is single-threaded, but the libraries it loads may not be.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static atomic_ulong alloc_calls, alloc_bytes, free_calls;

__attribute__((visibility("default"))) void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&alloc_bytes, n, memory_order_relaxed);
	return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t n, size_t size)
{
	atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&alloc_bytes, n * size, memory_order_relaxed);
	return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&alloc_bytes, n, memory_order_relaxed);
	return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void free(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&free_calls, 1, memory_order_relaxed);
	__libc_free(p);
}

__attribute__((destructor)) static void vt_alloc_count_report(void)
{
	const char *path = getenv("VT_ALLOC_COUNT_FILE");
	FILE *f;

	if (!path || !(f = fopen(path, "w")))
		return;
	fprintf(f, "allocs %lu bytes %lu frees %lu\n", atomic_load(&alloc_calls),
		atomic_load(&alloc_bytes), atomic_load(&free_calls));
	fclose(f);
}
