/* The copy a bundle is signed in (src/bundle/mirror.c): private to the
 * caller until it is finished, hard links to the bundle's files, the
 * record of what it was made from and the check that nothing changed, the
 * exchange, and whole-bundle signing that refuses to lose a change made
 * meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle/bundle_int.h"

static char g_base[256];

static void put(const char *rel, const char *text)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", g_base, rel);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		fail_msg("cannot write %s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel, mode_t mode)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", g_base, rel);
	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chmod(p, mode), 0); /* whatever the umask */
}

static const char *at(const char *rel)
{
	static char p[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", g_base, rel);
	return p[k];
}

static int setup(void **st)
{
	(void)st;
	snprintf(g_base, sizeof(g_base), "/tmp/msign-mirror-XXXXXX");
	if (mkdtemp(g_base) == NULL)
		return -1;
	mk("B.app", 0755);
	mk("B.app/Contents", 0750);
	mk("B.app/Contents/Resources", 0755);
	put("B.app/Contents/Resources/a.txt", "a\n");
	put("B.app/Contents/Info.plist", "<plist/>\n");
	char p[1024];
	snprintf(p, sizeof(p), "%s/B.app/Contents/Resources/link", g_base);
	return symlink("../../../outside", p);
}

static int teardown(void **st)
{
	(void)st;
	return mb_tree_remove(g_base);
}

/* While msign writes in the copy no one else can reach into it (its top
 * folder is 0700 and the caller's); finished, it has the bundle's
 * attributes; its files are the bundle's own inodes; links keep their
 * target string. */
static void t_private_until_finished(void **st)
{
	(void)st;
	char *m = NULL;
	struct mb_tree_rec rec = { 0 };
	uint32_t lost = 0;
	assert_int_equal(mb_mirror_create(at("B.app"), &m, &rec, &lost, NULL), 0);
	assert_int_equal(lost, 0);
	struct stat top, orig, f1, f2, sub;
	assert_int_equal(stat(m, &top), 0);
	assert_int_equal(top.st_mode & 07777, 0700);
	assert_int_equal(top.st_uid, geteuid());
	char p[1024];
	snprintf(p, sizeof(p), "%s/Contents", m);
	assert_int_equal(stat(p, &sub), 0);
	assert_int_equal(sub.st_mode & 07777, 0750); /* below: the bundle's */
	snprintf(p, sizeof(p), "%s/Contents/Resources/a.txt", m);
	assert_int_equal(stat(p, &f1), 0);
	assert_int_equal(stat(at("B.app/Contents/Resources/a.txt"), &f2), 0);
	assert_true(f1.st_ino == f2.st_ino); /* a hard link */
	char target[64];
	snprintf(p, sizeof(p), "%s/Contents/Resources/link", m);
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	assert_int_equal(n, (ssize_t)strlen("../../../outside"));
	target[n] = '\0';
	assert_string_equal(target, "../../../outside");
	/* five entries recorded, by path */
	assert_int_equal(rec.n, 5);
	assert_string_equal(rec.v[0].rel, "Contents");
	assert_string_equal(rec.v[1].rel, "Contents/Info.plist");
	assert_int_equal(mb_mirror_finish(at("B.app"), m, &lost, NULL), 0);
	assert_int_equal(stat(m, &top), 0);
	assert_int_equal(stat(at("B.app"), &orig), 0);
	assert_int_equal(top.st_mode & 07777, orig.st_mode & 07777);
	assert_int_equal(mb_tree_remove(m), 0);
	assert_int_equal(access(m, F_OK), -1);
	free(m);
	mb_tree_rec_free(&rec);
}

/* Any change to the tree after it was copied is found: a file written in
 * place, one added, one removed, one replaced by a rename (an editor's
 * save). */
static void t_tree_same(void **st)
{
	(void)st;
	char *m = NULL;
	struct mb_tree_rec rec = { 0 };
	uint32_t lost = 0;
	struct msign_diag d;
	assert_int_equal(mb_mirror_create(at("B.app"), &m, &rec, &lost, NULL), 0);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, NULL), 0);
	assert_int_equal(mb_tree_same(m, &rec, NULL), MSIGN_E_IO); /* other inodes for folders */
	/* written in place: its size and mtime say so (the seal hashed the
	 * bytes before) */
	put("B.app/Contents/Resources/a.txt", "changed in place\n");
	msign_diag_clear(&d);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, &d), MSIGN_E_IO);
	assert_non_null(strstr(d.msg, "Contents/Resources/a.txt"));
	mb_tree_rec_free(&rec);
	assert_int_equal(mb_tree_remove(m), 0);
	free(m);
	assert_int_equal(mb_mirror_create(at("B.app"), &m, &rec, &lost, NULL), 0);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, NULL), 0);
	put("B.app/Contents/Resources/new.txt", "n\n");
	msign_diag_clear(&d);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, &d), MSIGN_E_IO);
	assert_non_null(strstr(d.msg, "Contents/Resources/new.txt"));
	assert_int_equal(unlink(at("B.app/Contents/Resources/new.txt")), 0);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, NULL), 0);
	put("B.app/Contents/Resources/a.tmp", "saved\n");
	assert_int_equal(rename(at("B.app/Contents/Resources/a.tmp"),
				at("B.app/Contents/Resources/a.txt")), 0);
	msign_diag_clear(&d);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, &d), MSIGN_E_IO);
	assert_non_null(strstr(d.msg, "Contents/Resources/a.txt"));
	assert_int_equal(unlink(at("B.app/Contents/Resources/a.txt")), 0);
	assert_int_equal(mb_tree_same(at("B.app"), &rec, NULL), MSIGN_E_IO);
	assert_int_equal(mb_tree_remove(m), 0);
	free(m);
	mb_tree_rec_free(&rec);
}

/* The exchange swaps the two folders; done twice, everything is back. */
static void t_exchange(void **st)
{
	(void)st;
	mk("X", 0755);
	put("X/x", "x\n");
	assert_int_equal(mb_exchange(at("B.app"), at("X"), NULL), 0);
	assert_int_equal(access(at("B.app/x"), F_OK), 0);
	assert_int_equal(access(at("X/Contents/Info.plist"), F_OK), 0);
	assert_int_equal(mb_exchange(at("B.app"), at("X"), NULL), 0);
	assert_int_equal(access(at("B.app/Contents/Info.plist"), F_OK), 0);
	assert_int_equal(access(at("X/x"), F_OK), 0);
}

/* A copy that cannot be removed as it is (a read-only top folder) is
 * removed all the same: it is the caller's. */
static void t_remove_readonly(void **st)
{
	(void)st;
	mk("R", 0755);
	mk("R/sub", 0755);
	put("R/sub/f", "f\n");
	assert_int_equal(chmod(at("R/sub"), 0500), 0);
	assert_int_equal(chmod(at("R"), 0500), 0);
	assert_int_equal(mb_tree_remove(at("R")), 0);
	assert_int_equal(access(at("R"), F_OK), -1);
}

/* The folders holding a bundle must be ones no other user can rename in:
 * a folder others may write without the sticky bit is refused. */
static void t_parent_safe(void **st)
{
	(void)st;
	struct msign_diag d;
	assert_int_equal(mb_parent_safe(at("B.app"), NULL), 0);
	mk("open", 0777);
	mk("open/C.app", 0755);
	msign_diag_clear(&d);
	assert_int_equal(mb_parent_safe(at("open/C.app"), &d), MSIGN_E_IO);
	assert_non_null(strstr(d.msg, "can be changed by other users"));
	assert_int_equal(chmod(at("open"), 01777), 0); /* as /tmp: sticky */
	assert_int_equal(mb_parent_safe(at("open/C.app"), NULL), 0);
	assert_int_equal(chmod(g_base, 0777), 0); /* an ancestor */
	assert_int_equal(mb_parent_safe(at("open/C.app"), NULL), MSIGN_E_IO);
	assert_int_equal(chmod(g_base, 0700), 0);
	assert_int_equal(mb_parent_safe("relative/path", NULL), MSIGN_E_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_private_until_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tree_same, setup, teardown),
		cmocka_unit_test_setup_teardown(t_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(t_remove_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(t_parent_safe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
