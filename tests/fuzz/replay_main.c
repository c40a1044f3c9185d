/*
 * replay_main.c - main() for fuzz targets built without libFuzzer: feed every
 * file of a corpus to LLVMFuzzerTestOneInput() once, so that `make test`
 * keeps every committed input (and every crash once found and fixed) passing
 * under the ordinary build and under `make san`.
 *
 * Usage: fuzz_<x>_replay PATH...   (each PATH a corpus directory or a file)
 * Prints "PASS <name> (N inputs)", where name is VT_FUZZ_NAME if defined,
 * else the program's base name (fuzz_<x>_replay). A missing corpus
 * directory counts as an empty one: git cannot hold an empty directory, and
 * a new target should not fail the suite before it has a corpus. A crash
 * is the failure signal; the name of each input goes to stderr first so the
 * log shows which one it was.
 *
 * What this file does not do: fuzz. tests/fuzz/run.sh builds the real
 * libFuzzer binaries.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as in libFuzzer. */
extern int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_read(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf = NULL;
	int rc = -1;

	if (!f)
		return -1;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0)
		goto out;
	/* Exactly the input's size, so that ASan catches a one-byte over-read. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		goto out;
	*data = buf;
	*size = (size_t)st.st_size;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int replay_file(const char *path)
{
	uint8_t *data;
	size_t size;

	if (replay_read(path, &data, &size) < 0) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int replay_skip(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replays the regular files of dir in name order; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	struct dirent **names;
	long count = 0;
	int n;

	n = scandir(dir, &names, replay_skip, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) < 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

static long replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			fprintf(stderr, "replay: no corpus at %s (counted as empty)\n", path);
			return 0;
		}
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path);
	return replay_file(path) < 0 ? -1 : 1;
}

static const char *replay_name(const char *argv0)
{
#ifdef VT_FUZZ_NAME
	(void)argv0;
	return VT_FUZZ_NAME;
#else
	const char *slash = strrchr(argv0, '/');

	return slash ? slash + 1 : argv0;
#endif
}

int main(int argc, char **argv)
{
	const char *name = replay_name(argc > 0 ? argv[0] : "fuzz_replay");
	long total = 0;
	int failed = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		long n = replay_path(argv[i]);

		if (n < 0)
			failed = 1;
		else
			total += n;
	}
	if (failed) {
		printf("FAIL %s: could not read the whole corpus (%ld inputs replayed)\n", name,
		       total);
		return 1;
	}
	printf("PASS %s (%ld inputs)\n", name, total);
	return 0;
}
