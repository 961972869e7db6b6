/*
 * replay.c: runs a fuzz target over files (the seed corpus and the crash
 * regressions) without libFuzzer, so `make check` exercises every input
 * ever found, under ASan/UBSan in the sanitizer build.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feed one file to the target. */
static int
replay_file(const char *path)
{
	size_t len;
	char *data = bj_test_slurp(path, &len);

	if (data == NULL)
		return -1;
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int files = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *de;

		if (d == NULL) {
			if (replay_file(argv[i]) == 0)
				files++;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char path[4096];
			struct stat st;
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			if (de->d_name[0] == '.')
				continue;	/* .keep and the like */
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) == 0)
				files++;
		}
		closedir(d);
	}
	printf("%s: %d inputs replayed without a crash\n", argv[0], files);
	return files > 0 ? 0 : 1;
}
