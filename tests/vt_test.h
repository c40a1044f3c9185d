/*
 * vt_test.h - the tiny test harness used by unit and plugin tests.
 *
 * Each test is a function registered with VT_TEST(name); main() comes from
 * VT_TEST_MAIN(). Each test prints "PASS name" or "FAIL name: file:line: expr"
 * on stdout; tests/run.sh counts those lines. A failed CHECK ends that test.
 * VT_TEST_TMPDIR() gives a fresh directory for tests that touch files.
 */
#ifndef VT_TEST_H
#define VT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vt_test_case {
	const char *name;
	void (*fn)(int *failed);
};

#define VT_TEST_MAX 256
extern struct vt_test_case vt_test_cases[VT_TEST_MAX];
extern int vt_test_count;

#define VT_TEST(name)                                                          \
	static void name(int *vt_failed);                                      \
	__attribute__((constructor)) static void name##_register(void)         \
	{                                                                      \
		if (vt_test_count < VT_TEST_MAX)                               \
			vt_test_cases[vt_test_count++] =                       \
				(struct vt_test_case){ #name, name };          \
	}                                                                      \
	static void name(int *vt_failed)

#define CHECK(expr)                                                            \
	do {                                                                   \
		if (!(expr)) {                                                 \
			printf("FAIL %s: %s:%d: %s\n", vt_test_current,        \
			       __FILE__, __LINE__, #expr);                     \
			*vt_failed = 1;                                        \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                     \
	do {                                                                   \
		long long vt_a = (long long)(a), vt_b = (long long)(b);        \
		if (vt_a != vt_b) {                                            \
			printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n",     \
			       vt_test_current, __FILE__, __LINE__, #a, #b,    \
			       vt_a, vt_b);                                    \
			*vt_failed = 1;                                        \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *vt_sa = (a), *vt_sb = (b);                         \
		if (!vt_sa || !vt_sb || strcmp(vt_sa, vt_sb) != 0) {           \
			printf("FAIL %s: %s:%d: %s == \"%s\" (got \"%s\")\n",   \
			       vt_test_current, __FILE__, __LINE__, #a,        \
			       vt_sb ? vt_sb : "(null)",                       \
			       vt_sa ? vt_sa : "(null)");                      \
			*vt_failed = 1;                                        \
			return;                                                \
		}                                                              \
	} while (0)

extern const char *vt_test_current;

/* A fresh temporary directory for the running test (removed at exit). */
const char *vt_test_tmpdir(void);

#define VT_TEST_MAIN()                                                         \
	struct vt_test_case vt_test_cases[VT_TEST_MAX];                        \
	int vt_test_count;                                                     \
	const char *vt_test_current;                                           \
	static char vt_test_dir[256];                                          \
	const char *vt_test_tmpdir(void)                                       \
	{                                                                      \
		if (!vt_test_dir[0]) {                                         \
			snprintf(vt_test_dir, sizeof(vt_test_dir),             \
				 "/tmp/vt-test-XXXXXX");                       \
			if (!mkdtemp(vt_test_dir))                             \
				abort();                                       \
		}                                                              \
		return vt_test_dir;                                            \
	}                                                                      \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		int failures = 0;                                              \
		for (int i = 0; i < vt_test_count; i++) {                      \
			int failed = 0;                                        \
			if (argc > 1 && strcmp(argv[1], vt_test_cases[i].name)) \
				continue;                                      \
			vt_test_current = vt_test_cases[i].name;               \
			vt_test_cases[i].fn(&failed);                          \
			if (!failed)                                           \
				printf("PASS %s\n", vt_test_cases[i].name);    \
			failures += failed;                                    \
			fflush(stdout);                                        \
		}                                                              \
		if (vt_test_dir[0]) {                                          \
			char cmd[300];                                         \
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vt_test_dir); \
			if (system(cmd) != 0)                                  \
				fprintf(stderr, "could not remove %s\n",       \
					vt_test_dir);                          \
		}                                                              \
		return failures ? 1 : 0;                                       \
	}

#endif
