/* Trust in a certificate signature (src/verify/trust.c) on the fixtures'
 * CMS (fixtures/pki: a test root, intermediate, leaf and TSA): anchors,
 * the time used, roles; every byte of the CMS flipped and every
 * truncation, which must give a verdict, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "macho/macho.h"
#include "sig/codesign.h"
#include "verify/trust.h"
#include "verify/verify.h"
#include "fixture.h"

/* 2060-01-01: after every fixture certificate's notAfter (2049). */
#define FAR_FUTURE 2840140800LL

struct cms_case {
	uint8_t *file;
	const uint8_t *cms, *cd0;
	size_t cms_len, cd0_len;
	struct msign_image *img;
	struct msign_sig sig;
};

static void open_case(const char *name, struct cms_case *c)
{
	size_t len;
	memset(c, 0, sizeof(*c));
	c->file = load(name, &len);
	assert_int_equal(msign_image_parse(c->file, len, &c->img, NULL), 0);
	assert_int_equal(msign_sig_parse(&c->img->slices[0], &c->sig, NULL), 0);
	assert_non_null(c->sig.cms);
	c->cms = msign_blob_payload(c->sig.cms);
	c->cms_len = msign_blob_payload_len(c->sig.cms);
	for (uint32_t k = 0; k < c->sig.ncds; k++)
		if (c->sig.cds[k].slot == MSIGN_CSSLOT_CODEDIRECTORY) {
			c->cd0 = c->sig.cds[k].blob;
			c->cd0_len = c->sig.cds[k].len;
		}
	assert_non_null(c->cd0);
}

static void close_case(struct cms_case *c)
{
	msign_image_free(c->img);
	free(c->file);
}

static struct msign_trust_anchors *root_anchor(void)
{
	char path[512];
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(path, sizeof(path), "%s/pki/root.pem", dir ? dir : "fixtures");
	const char *files[] = { path };
	struct msign_trust_anchors *a = NULL;
	assert_int_equal(msign_trust_anchors_load(files, 1, &a, NULL), 0);
	return a;
}

static struct msign_trust_result res;

static void t_anchors_and_time(void **st)
{
	(void)st;
	static const char *const names[] = { "cms_arm64", "cms_arm64_ber" };
	struct msign_trust_anchors *a = root_anchor();
	for (size_t i = 0; i < 2; i++) {
		struct cms_case c;
		open_case(names[i], &c);
		struct msign_trust_opts o = { 0 };
		/* Apple's roots only: the test root is no anchor. */
		assert_int_equal(msign_trust_check(c.cms, c.cms_len, c.cd0, c.cd0_len,
						   &o, &res, NULL), 0);
		assert_int_equal(res.kind, MSIGN_VERIFY_UNTRUSTED);
		assert_true(res.sig_ok);
		o.anchors = a;
		assert_int_equal(msign_trust_check(c.cms, c.cms_len, c.cd0, c.cd0_len,
						   &o, &res, NULL), 0);
		assert_int_equal(res.kind, MSIGN_VERIFY_VALID);
		assert_true(res.chain_ok && res.timestamp_ok && !res.apple);
		assert_int_equal(res.time_source, MSIGN_TRUST_TIME_TIMESTAMP);
		assert_true(res.validity_time == res.timestamp);
		assert_int_equal(res.ncerts, 3);
		assert_string_equal(res.certs[0].role, "leaf");
		assert_string_equal(res.certs[1].role, "intermediate");
		assert_string_equal(res.certs[2].role, "user anchor");
		assert_string_equal(res.certs[2].subject, "msign Test Root CA");
		/* Past every notAfter: the timestamp's time still decides. */
		o.now = FAR_FUTURE;
		o.check_expiration = true;
		assert_int_equal(msign_trust_check(c.cms, c.cms_len, c.cd0, c.cd0_len,
						   &o, &res, NULL), 0);
		assert_int_equal(res.kind, MSIGN_VERIFY_VALID);
		close_case(&c);
	}
	msign_trust_anchors_free(a);
}

static void t_anchor_file_errors(void **st)
{
	(void)st;
	struct msign_trust_anchors *a = NULL;
	const char *missing[] = { "/nonexistent/anchor.pem" };
	struct msign_diag d;
	msign_diag_clear(&d);
	assert_int_equal(msign_trust_anchors_load(missing, 1, &a, &d), MSIGN_E_IO);
	assert_null(a);
	char path[512];
	const char *dir = getenv("MSIGN_FIXTURES");
	snprintf(path, sizeof(path), "%s/facts.txt", dir ? dir : "fixtures");
	const char *not_pem[] = { path };
	msign_diag_clear(&d);
	assert_int_equal(msign_trust_anchors_load(not_pem, 1, &a, &d), MSIGN_E_ARG);
	assert_non_null(strstr(d.msg, "no PEM certificate"));
	assert_null(a);
}

static bool known_kind(int k)
{
	return k == MSIGN_VERIFY_VALID || k == MSIGN_VERIFY_MODIFIED ||
	       k == MSIGN_VERIFY_UNTRUSTED || k == MSIGN_VERIFY_EXPIRED ||
	       k == MSIGN_VERIFY_NOT_YET_VALID || k == MSIGN_VERIFY_BAD_FORMAT;
}

/* Every fifth byte flipped (each check is a signature verification and a
 * chain build: every byte takes 5 s plain and 16 s under ASan, too much
 * of make check's 5 minutes) and every eleventh truncation: a verdict, never a crash (run
 * under ASan by make check). */
static void t_hostile(void **st)
{
	(void)st;
	struct cms_case c;
	open_case("cms_arm64", &c);
	struct msign_trust_anchors *a = root_anchor();
	struct msign_trust_opts o = { .anchors = a };
	uint8_t *copy = malloc(c.cms_len);
	assert_non_null(copy);
	uint32_t valid = 0, n = 0;
	for (size_t i = 0; i < c.cms_len; i += 5) {
		memcpy(copy, c.cms, c.cms_len);
		copy[i] ^= 0x01;
		int r = msign_trust_check(copy, c.cms_len, c.cd0, c.cd0_len, &o, &res, NULL);
		assert_true(r == 0 || r == MSIGN_E_NOMEM);
		assert_true(known_kind(res.kind));
		valid += res.kind == MSIGN_VERIFY_VALID;
		n++;
	}
	for (size_t l = 0; l < c.cms_len; l += 11) {
		int r = msign_trust_check(c.cms, l, c.cd0, c.cd0_len, &o, &res, NULL);
		assert_true(r == 0 || r == MSIGN_E_NOMEM);
		assert_true(known_kind(res.kind));
	}
	/* Some bytes are not covered by any signature (the carried root's
	 * own signature, which the anchor replaces; zero padding), most are. */
	assert_true(valid < n / 4);
	free(copy);
	msign_trust_anchors_free(a);
	close_case(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_anchors_and_time),
		cmocka_unit_test(t_anchor_file_errors),
		cmocka_unit_test(t_hostile),
	};
	return cmocka_run_group_tests_name("trust", tests, NULL, NULL);
}
