/* Edit plans and their atomic commit (write.c): exact output bytes, mode
 * bits kept, the two-step edit (ranges copied while fill_fn completes the
 * plan), every failure leaving the destination and the folder as they
 * were, destinations refused, long names, the sweep's lock. Owners, ACLs
 * and other users are in tests/write/run.sh. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "write/write.h"
#include "write/strip.h"
#include "hash/hash.h"
#include "sign/sign.h"
#include "verify/verify.h"
#include "fixture.h"

static char dir[64];
static char src_path[128];
static uint8_t *src;
static size_t src_len;

static void write_file(const char *path, const uint8_t *data, size_t len,
		       mode_t mode)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Files in dir besides the source (and want, when not NULL). */
static int others(const char *want)
{
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "src") && (want == NULL || strcmp(e->d_name, want)))
			n++;
	closedir(dp);
	return n;
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/msign-write-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(src_path, sizeof(src_path), "%s/src", dir);
	src = load("hello_arm64", &src_len);
	assert_true(src_len > 4096);
	write_file(src_path, src, src_len, 0751);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	unlink(src_path);
	rmdir(dir);
	free(src);
	return 0;
}

/* The plan used below: bytes [100, 300) of the source, then [0, 50), then
 * 30 bytes of 'P' over output [10, 40) and 5 zero bytes past the copies. */
static uint8_t want[255];

static int plan_copies(const struct msign_image *img, struct msign_plan *p,
		       void *arg, struct msign_diag *d)
{
	(void)img; (void)arg; (void)d;
	p->out_len = sizeof(want);
	assert_int_equal(msign_plan_copy(p, 100, 0, 200), 0);
	assert_int_equal(msign_plan_copy(p, 0, 200, 50), 0);
	return 0;
}

enum fill_mode { FILL_PATCH, FILL_FAIL, FILL_ADD_COPY };

static int fill(const struct msign_image *img, struct msign_plan *p,
		struct msign_out *out, void *arg, struct msign_diag *d)
{
	(void)img;
	enum fill_mode m = *(enum fill_mode *)arg;
	if (m == FILL_FAIL)
		return msign_diag_set(d, MSIGN_E_CRYPTO, 0, "fill failed");
	if (m == FILL_ADD_COPY)
		assert_int_equal(msign_plan_copy(p, 0, 0, 10), 0);
	/* What the copier has put in the output, read back through the gate
	 * (sign hashes from there): the copied ranges, in output order. */
	uint8_t got[250];
	assert_int_equal(msign_out_wait(out, sizeof(got)), 0);
	assert_int_equal(pread(msign_out_fd(out), got, sizeof(got), 0),
			 (ssize_t)sizeof(got));
	assert_memory_equal(got, src + 100, 200);
	assert_memory_equal(got + 200, src, 50);
	uint8_t pp[30];
	memset(pp, 'P', sizeof(pp));
	return msign_plan_patch(p, 10, pp, sizeof(pp));
}

static int check_calls;
static int check_exact(const uint8_t *data, size_t len, void *arg,
		       struct msign_diag *d)
{
	(void)d;
	check_calls++;
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(data, want, sizeof(want));
	return *(int *)arg;
}

static void make_want(void)
{
	memcpy(want, src + 100, 200);
	memcpy(want + 200, src, 50);
	memset(want + 250, 0, 5);
	memset(want + 10, 'P', 30);
}

static void t_fill_writes_exact_bytes(void **st)
{
	(void)st;
	make_want();
	char out[160];
	snprintf(out, sizeof(out), "%s/out", dir);
	enum fill_mode m = FILL_PATCH;
	int ok = 0;
	check_calls = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(src_path, out, plan_copies, fill, &m,
					 check_exact, &ok, &d), 0);
	assert_int_equal(check_calls, 1);
	size_t len;
	uint8_t *got = load_path(out, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	free(got);
	struct stat sb;
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0751);
	assert_int_equal(others("out"), 0);
	unlink(out);
}

/* A failing fill, a fill that adds a copied range, a failing check: the
 * destination keeps its bytes and no temporary file is left. */
static void t_failures_leave_nothing(void **st)
{
	(void)st;
	make_want();
	char out[160];
	snprintf(out, sizeof(out), "%s/out", dir);
	static const uint8_t before[] = "the old destination";
	write_file(out, before, sizeof(before), 0644);
	struct msign_diag d;
	size_t len;
	uint8_t *got;

	enum fill_mode m = FILL_FAIL;
	int ok = 0, bad = MSIGN_E_VERIFY;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(src_path, out, plan_copies, fill, &m,
					 check_exact, &ok, &d), MSIGN_E_CRYPTO);
	assert_string_equal(d.msg, "fill failed");

	m = FILL_ADD_COPY;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(src_path, out, plan_copies, fill, &m,
					 check_exact, &ok, &d), MSIGN_E_ARG);
	assert_string_equal(d.msg, "the plan's copied ranges changed during the commit");

	m = FILL_PATCH;
	check_calls = 0;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(src_path, out, plan_copies, fill, &m,
					 check_exact, &bad, &d), MSIGN_E_VERIFY);
	assert_int_equal(check_calls, 1);

	got = load_path(out, &len);
	assert_int_equal(len, sizeof(before));
	assert_memory_equal(got, before, sizeof(before));
	free(got);
	assert_int_equal(others("out"), 0);
	unlink(out);
}

/* Without fill_fn the plan is whole from the start (strip's way); a plan
 * that changes nothing writes nothing. */
static int plan_whole(const struct msign_image *img, struct msign_plan *p,
		      void *arg, struct msign_diag *d)
{
	plan_copies(img, p, arg, d);
	uint8_t pp[30];
	memset(pp, 'P', sizeof(pp));
	return msign_plan_patch(p, 10, pp, sizeof(pp));
}

static int plan_unchanged(const struct msign_image *img, struct msign_plan *p,
			  void *arg, struct msign_diag *d)
{
	(void)img; (void)p; (void)arg; (void)d;
	return MSIGN_PLAN_UNCHANGED;
}

/* A destination that is not a regular file is refused without being
 * opened (a FIFO would block an open) and stays what it was. */
static void t_fifo_destination_refused(void **st)
{
	(void)st;
	char out[160], want_msg[256];
	snprintf(out, sizeof(out), "%s/fifo", dir);
	assert_int_equal(mkfifo(out, 0644), 0);
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(src_path, out, plan_whole, NULL, NULL,
					 NULL, NULL, &d), MSIGN_E_IO);
	snprintf(want_msg, sizeof(want_msg), "cannot write %s: not a regular file", out);
	assert_string_equal(d.msg, want_msg);
	struct stat sb;
	assert_int_equal(lstat(out, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_int_equal(others("fifo"), 0);
	unlink(out);
}

/* The longest valid name (NAME_MAX bytes) can be written: the temporary's
 * name is cut to fit, and nothing is left behind. */
static void t_longest_name(void **st)
{
	(void)st;
	make_want();
	char name[256], out[400];
	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	int ok = 0;
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(src_path, out, plan_whole, NULL, NULL,
					 check_exact, &ok, &d), 0);
	size_t len;
	uint8_t *got = load_path(out, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	free(got);
	assert_int_equal(others(name), 0);
	unlink(out);
}

/* A stale-looking temporary (its pid is not running) whose writer holds
 * the lock is kept; once the lock is gone it is removed. */
static void t_sweep_honours_the_lock(void **st)
{
	(void)st;
	char out[160], tmp[200];
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(tmp, sizeof(tmp), "%s/.out.msign.99999999.abcdef", dir);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(msign_edit_file(src_path, out, plan_whole, NULL, NULL,
					 NULL, NULL, NULL), 0);
	assert_int_equal(access(tmp, F_OK), 0);
	close(fd);
	assert_int_equal(msign_edit_file(src_path, out, plan_whole, NULL, NULL,
					 NULL, NULL, NULL), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(others("out"), 0);
	unlink(out);
}

static void t_lost_text(void **st)
{
	(void)st;
	char buf[64];
	assert_int_equal(msign_write_lost_text(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	msign_write_lost_text(MSIGN_LOST_GROUP | MSIGN_LOST_SETID, buf, sizeof(buf));
	assert_string_equal(buf, "group, set-id bits");
	size_t n = msign_write_lost_text(MSIGN_LOST_OWNER | MSIGN_LOST_ACL, buf, 8);
	assert_int_equal(n, strlen("owner, ACL"));
	assert_string_equal(buf, "owner, ");
}

static void t_one_step_and_unchanged(void **st)
{
	(void)st;
	make_want();
	char out[160];
	snprintf(out, sizeof(out), "%s/out", dir);
	int ok = 0;
	assert_int_equal(msign_edit_file(src_path, out, plan_whole, NULL, NULL,
					 check_exact, &ok, NULL), 0);
	size_t len;
	uint8_t *got = load_path(out, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	free(got);
	unlink(out);
	check_calls = 0;
	assert_int_equal(msign_edit_file(src_path, out, plan_unchanged, fill,
					 NULL, check_exact, &ok, NULL), 0);
	assert_int_equal(check_calls, 0);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(others(NULL), 0);
}

/* A patch the plan adopts is freed with the plan, and at once when it is
 * refused (LeakSanitizer checks both under make asan-check). */
static void t_patch_adopt(void **st)
{
	(void)st;
	struct msign_plan p;
	msign_plan_init(&p);
	p.out_len = 100;
	uint8_t *in = malloc(10), *out = malloc(10);
	assert_non_null(in);
	assert_non_null(out);
	memset(in, 'A', 10);
	memset(out, 'B', 10);
	assert_int_equal(msign_plan_patch_adopt(&p, 90, in, 10), 0);
	assert_int_equal(msign_plan_patch_adopt(&p, 91, out, 10), MSIGN_E_BAD_RANGE);
	assert_int_equal(p.npatches, 1);
	assert_ptr_equal(p.patches[0].data, in);
	uint8_t *rendered = NULL;
	uint8_t srcbuf[100] = { 0 };
	assert_int_equal(msign_plan_render(&p, srcbuf, sizeof(srcbuf), &rendered, NULL), 0);
	assert_int_equal(rendered[89], 0);
	assert_int_equal(rendered[90], 'A');
	assert_int_equal(rendered[99], 'A');
	free(rendered);
	msign_plan_free(&p);
}

/* The input cut short after it was opened (before the copy): the copy
 * says so, not "cannot write" with an unrelated errno; nothing is left. */
static char cut_path[160];
static int plan_cut(const struct msign_image *img, struct msign_plan *p,
		    void *arg, struct msign_diag *d)
{
	(void)img; (void)arg; (void)d;
	assert_int_equal(truncate(cut_path, 150), 0);
	p->out_len = 300;
	return msign_plan_copy(p, 0, 0, 300);
}

static void t_input_cut_during_copy(void **st)
{
	(void)st;
	char out[160];
	snprintf(cut_path, sizeof(cut_path), "%s/cut", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_file(cut_path, src, src_len, 0644);
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_edit_file(cut_path, out, plan_cut, NULL, NULL,
					 NULL, NULL, &d), MSIGN_E_IO);
	assert_string_equal(d.msg, "the input is shorter than when it was opened: it changed while msign copied it");
	assert_int_equal(access(out, F_OK), -1);
	unlink(cut_path);
	assert_int_equal(others(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_fill_writes_exact_bytes),
		cmocka_unit_test(t_failures_leave_nothing),
		cmocka_unit_test(t_one_step_and_unchanged),
		cmocka_unit_test(t_patch_adopt),
		cmocka_unit_test(t_fifo_destination_refused),
		cmocka_unit_test(t_longest_name),
		cmocka_unit_test(t_sweep_honours_the_lock),
		cmocka_unit_test(t_lost_text),
		cmocka_unit_test(t_input_cut_during_copy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
