/* Whether a path's folders can be changed by someone else.
 *
 * A file msign makes and then hands on by path (a signing copy beside a
 * bundle, the --unsign copy dtrace runs) stays the file msign made only if
 * nobody else can rename a folder on the way to it: each one must belong
 * to the caller or root, and one that others may write must be sticky. */
#ifndef MSIGN_DIRSAFE_H
#define MSIGN_DIRSAFE_H

#include <stdbool.h>
#include <stddef.h>

/* Check dir (absolute, without symbolic links: a realpath) and every
 * folder above it up to /. 0: only the caller or root can change them;
 * 1: one can be changed by others, its path in bad (bad_len) and *others
 * true when others may write it (not sticky), false when another user
 * owns it; a negative MSIGN_E_* when one cannot be examined (its path in
 * bad too, errno saying why). */
int msign_dir_chain_check(const char *dir, char *bad, size_t bad_len,
			  bool *others);

#endif
