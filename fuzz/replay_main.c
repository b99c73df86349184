/* Standalone driver for fuzz targets, so `make check` exercises them
 * without libFuzzer: every file named (or found in a named folder) is run
 * as is, truncated at many lengths, and with each 32-bit word of its
 * header area and of its signature's first KiB replaced by the values
 * that break length arithmetic (0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
 * in both byte orders. Deterministic: no randomness, same runs each time.
 * Paths after --plain (a fuzzing corpus) run once each, as they are;
 * --mutate switches back. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msign/macho.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE (4u << 20)
#define HEADER_WINDOW 1024u
#define SIG_WINDOW 1024u

static unsigned long runs;
static bool mutate = true; /* --plain: corpus files run as they are */

static void run(const uint8_t *d, size_t n)
{
	LLVMFuzzerTestOneInput(d, n);
	runs++;
}

static void mutate_words(uint8_t *buf, size_t len, size_t from, size_t to)
{
	static const uint32_t vals[] = { 0, 1, 0x7fffffffu, 0x80000000u,
					 0xffffffffu };
	if (to > len)
		to = len;
	for (size_t at = from; at + 4 <= to; at += 4) {
		uint8_t save[4];
		memcpy(save, buf + at, 4);
		for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			for (int be = 0; be < 2; be++) {
				for (int k = 0; k < 4; k++)
					buf[at + (size_t)k] = (uint8_t)(vals[v] >>
						(be ? 24 - 8 * k : 8 * k));
				run(buf, len);
			}
		}
		memcpy(buf + at, save, 4);
	}
}

static void replay_buffer(uint8_t *buf, size_t len)
{
	run(buf, len);
	if (!mutate)
		return;
	for (size_t cut = 0; cut < len; cut += len / 61 + 1)
		run(buf, cut);
	mutate_words(buf, len, 0, HEADER_WINDOW);
	/* Signature windows: found with the parser, mutated on a copy. */
	struct msign_image *img = NULL;
	if (msign_image_parse(buf, len, &img, NULL) != 0)
		return;
	size_t starts[MSIGN_MAX_SLICES];
	uint32_t n = 0;
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[i];
		if (s->err == 0 && s->has_codesig)
			starts[n++] = (size_t)(s->off + s->cs_dataoff);
	}
	msign_image_free(img);
	for (uint32_t i = 0; i < n; i++)
		mutate_words(buf, len, starts[i], starts[i] + SIG_WINDOW);
}

static int replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return -1;
	uint8_t *buf = malloc(REPLAY_MAX_FILE);
	size_t len = buf ? fread(buf, 1, REPLAY_MAX_FILE, fp) : 0;
	fclose(fp);
	if (buf == NULL)
		return -1;
	replay_buffer(buf, len);
	free(buf);
	return 0;
}

static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0; /* an absent corpus folder is not an error */
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	DIR *dir = opendir(path);
	if (dir == NULL)
		return -1;
	struct dirent *e;
	int r = 0;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.' || strstr(e->d_name, ".md") ||
		    strstr(e->d_name, ".sh") || strstr(e->d_name, ".py") ||
		    strstr(e->d_name, ".txt"))
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			r |= replay_file(sub);
	}
	closedir(dir);
	return r;
}

int main(int argc, char **argv)
{
	int r = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--plain") == 0)
			mutate = false;
		else if (strcmp(argv[i], "--mutate") == 0)
			mutate = true;
		else
			r |= replay_path(argv[i]);
	}
	printf("%s: %lu runs, no crash\n", argv[0], runs);
	return r ? 1 : 0;
}
