/* Test-only: read a file of fixtures/ (or $MSIGN_FIXTURES) into memory.
 * Include after <cmocka.h>; the caller frees the buffer. */
#ifndef MSIGN_TEST_FIXTURE_H
#define MSIGN_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_FIXTURE (1u << 20)

/* A whole file (at most MAX_FIXTURE bytes) by its path. */
static inline uint8_t *load_path(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	uint8_t *buf = malloc(MAX_FIXTURE);
	assert_non_null(buf);
	*len = fread(buf, 1, MAX_FIXTURE, fp);
	fclose(fp);
	return buf;
}

static inline uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "fixtures", name);
	return load_path(path, len);
}

#endif
