/* The folder-chain check of dirsafe.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirsafe.h"
#include "msign/err.h"

#ifdef __APPLE__
#include <sys/acl.h>

/* macOS ACLs are not in st_mode: an allow entry that lets someone add or
 * remove entries (rename one away), or change the ACL or the owner, makes
 * the folder changeable by others.
 * Any such entry counts, whoever it names (a conservative reading: its
 * qualifier is not resolved). Compiled for macOS, not run here. */
static bool acl_lets_others_change(const char *p)
{
	acl_t acl = acl_get_link_np(p, ACL_TYPE_EXTENDED);
	if (acl == NULL)
		return false; /* none (ENOENT), or unreadable: the mode decides */
	bool lets = false;
	acl_entry_t e;
	for (int id = ACL_FIRST_ENTRY; !lets && acl_get_entry(acl, id, &e) == 0;
	     id = ACL_NEXT_ENTRY) {
		acl_tag_t tag;
		acl_permset_t ps;
		if (acl_get_tag_type(e, &tag) != 0 || tag != ACL_EXTENDED_ALLOW ||
		    acl_get_permset(e, &ps) != 0)
			continue;
		/* (writesecurity and chown let one grant oneself the rest) */
		lets = acl_get_perm_np(ps, ACL_ADD_FILE) == 1 ||
		       acl_get_perm_np(ps, ACL_ADD_SUBDIRECTORY) == 1 ||
		       acl_get_perm_np(ps, ACL_DELETE_CHILD) == 1 ||
		       acl_get_perm_np(ps, ACL_WRITE_SECURITY) == 1 ||
		       acl_get_perm_np(ps, ACL_CHANGE_OWNER) == 1;
	}
	acl_free(acl);
	return lets;
}
#else
/* Linux's POSIX ACLs show in the group bits (the mask), which are checked. */
static bool acl_lets_others_change(const char *p)
{
	(void)p;
	return false;
}
#endif

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
		else if (acl_lets_others_change(p)) /* sticky too: which wins was not looked up */
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
