/* The folder-chain check of dirsafe.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirsafe.h"
#include "msign/err.h"

int msign_dir_chain_check(const char *dir, char *bad, size_t bad_len,
			  bool *others)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);
	*others = false;
	if (bad_len > 0)
		bad[0] = '\0';
	if (n == 0 || n >= sizeof(p) || dir[0] != '/')
		return MSIGN_E_ARG;
	memcpy(p, dir, n + 1);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	uid_t me = geteuid();
	for (;;) {
		struct stat st;
		int r = 0, e = 0;
		if (lstat(p, &st) != 0)
			r = (e = errno) == ENOENT ? MSIGN_E_NOT_FOUND : MSIGN_E_IO;
		else if (!S_ISDIR(st.st_mode))
			r = MSIGN_E_IO, e = ENOTDIR; /* a link or a file */
		else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
			 (st.st_mode & S_ISVTX) == 0)
			r = 1, *others = true;
		else if (st.st_uid != me && st.st_uid != 0)
			r = 1;
		if (r != 0) {
			snprintf(bad, bad_len, "%s", p);
			errno = e; /* for the caller's message */
			return r;
		}
		char *sl = strrchr(p, '/');
		if (sl == p && p[1] == '\0')
			return 0; /* / itself was the last */
		if (sl == p)
			sl[1] = '\0';
		else
			*sl = '\0';
	}
}
