/* Shared by the fuzz targets: the input as a file (a memfd on Linux, an
 * unlinked temporary elsewhere), for the paths that open images from a
 * descriptor and then change the file behind them. */
#ifndef MSIGN_FUZZ_FILE_H
#define MSIGN_FUZZ_FILE_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A descriptor of an anonymous file holding data, or -1. */
static inline int fz_file(const uint8_t *data, size_t size)
{
#ifdef __linux__
	int fd = memfd_create("msign-fuzz", MFD_CLOEXEC);
#else
	char path[] = "/tmp/msign-fuzz-XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
#endif
	if (fd >= 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		fd = -1;
	}
	return fd;
}

#endif
