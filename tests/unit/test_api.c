/* The public writing and verifying API (msign/sign.h, msign/verify.h), on
 * files, through nothing but what those headers declare: what a program
 * linked against libmsign can do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "msign/err.h"
#include "msign/info.h"
#include "msign/sign.h"
#include "msign/verify.h"
#include "fixture.h"
#include "pki.h"

#define UNSIGNED "hello_arm64.unsigned"
#define LC_SEGMENT_64 0x19u

static char dir[256];

static int api_setup(void **st)
{
	(void)st;
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/msign-api.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int api_teardown(void **st)
{
	(void)st;
	static const char *names[] = { "a", "b", "c", "key.pem", "cert.pem",
				       "chain.pem", "id.p12" };
	char p[300];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		(void)unlink(p);
	}
	return rmdir(dir);
}

static const char *tmp(const char *name)
{
	static char p[4][300];
	static unsigned k;
	char *s = p[k++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

static void put(const char *path, const uint8_t *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void copy_fixture(const char *name, const char *to)
{
	size_t len;
	uint8_t *buf = load(name, &len);
	put(to, buf, len);
	free(buf);
}

static bool same_file(const char *a, const char *b)
{
	size_t na, nb;
	uint8_t *x = load_path(a, &na), *y = load_path(b, &nb);
	bool same = na == nb && memcmp(x, y, na) == 0;
	free(x);
	free(y);
	return same;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The test's own walk of a thin little-endian 64-bit Mach-O's segments:
 * the offset of segment seg's command, and of section sect's bytes. */
static size_t seg_cmd(const uint8_t *f, size_t len, const char *seg)
{
	uint32_t ncmds = le32(f + 16);
	size_t at = 32;
	for (uint32_t i = 0; i < ncmds && at + 8 <= len; i++) {
		if (le32(f + at) == LC_SEGMENT_64 && strncmp((const char *)f + at + 8, seg, 16) == 0)
			return at;
		at += le32(f + at + 4);
	}
	fail_msg("no segment %s", seg);
	return 0;
}

static size_t sect_off(const uint8_t *f, size_t len, const char *seg,
		       const char *sect)
{
	size_t at = seg_cmd(f, len, seg);
	uint32_t nsects = le32(f + at + 64);
	for (uint32_t i = 0; i < nsects; i++) {
		const uint8_t *s = f + at + 72 + (size_t)i * 80;
		if (strncmp((const char *)s, sect, 16) == 0)
			return le32(s + 48);
	}
	fail_msg("no section %s,%s", seg, sect);
	return 0;
}

static msign_sign_options *opts_hello(void)
{
	msign_sign_options *o = msign_sign_options_new();
	assert_non_null(o);
	assert_int_equal(msign_sign_options_set_identifier(o, "com.example.hello"), 0);
	assert_int_equal(msign_sign_options_set_flags(o, MSIGN_CS_RUNTIME), 0);
	return o;
}

static void verify_ok(const char *path)
{
	struct msign_diag d;
	int kind = -1;
	assert_int_equal(msign_verify_file(path, NULL, 0, &kind, &d), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);
	assert_int_equal(d.code, 0);
	kind = -1;
	assert_int_equal(msign_verify_file(path, "arm64", MSIGN_VERIFY_F_STRICT,
					   &kind, NULL), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);
}

static void t_sign_verify_strip(void **st)
{
	(void)st;
	const char *a = tmp("a"), *b = tmp("b"), *c = tmp("c");
	copy_fixture(UNSIGNED, a);
	msign_sign_options *o = opts_hello();
	struct msign_diag d;
	/* to another file: the input is left as it was */
	assert_int_equal(msign_sign_file(a, b, o, &d), 0);
	assert_int_equal(d.code, 0);
	copy_fixture(UNSIGNED, c);
	assert_true(same_file(a, c));
	verify_ok(b);
	/* in place */
	assert_int_equal(msign_sign_file(a, a, o, &d), 0);
	verify_ok(a);
	assert_true(same_file(a, b));

	/* again without force: refused, the file untouched */
	assert_int_equal(msign_sign_file(a, a, o, &d), MSIGN_E_ALREADY_SIGNED);
	assert_int_equal(d.code, MSIGN_E_ALREADY_SIGNED);
	assert_true(d.msg[0] != '\0');
	assert_true(same_file(a, b));
	assert_string_not_equal(msign_strerror(MSIGN_E_ALREADY_SIGNED),
				msign_strerror(12345));
	assert_int_equal(msign_sign_options_set_force(o, true), 0);
	assert_int_equal(msign_sign_file(a, a, o, &d), 0);
	verify_ok(a);
	assert_true(same_file(a, b)); /* re-signing gives the same bytes */
	msign_sign_options_free(o);

	/* strip: the unsigned file back, except __LINKEDIT's vmsize, which
	 * keeps signing's growth as codesign's allocator does (README, msign
	 * strip) */
	assert_int_equal(msign_strip_file(a, a, NULL, &d), 0);
	assert_int_equal(d.code, 0);
	size_t n, nu, ns;
	uint8_t *got = load_path(a, &n);
	uint8_t *want = load(UNSIGNED, &nu);
	uint8_t *sig = load_path(b, &ns);
	assert_int_equal(n, nu);
	size_t le = seg_cmd(want, nu, "__LINKEDIT") + 32; /* vmsize */
	assert_memory_equal(got, want, le);
	assert_memory_equal(got + le, sig + le, 8);
	assert_memory_not_equal(got + le, want + le, 8);
	assert_memory_equal(got + le + 8, want + le + 8, n - le - 8);
	free(sig);
	free(want);
	free(got);
	/* and of that file, strip(sign()) gives it back exactly */
	assert_int_equal(msign_sign_file(a, b, NULL, &d), 0);
	verify_ok(b);
	assert_int_equal(msign_strip_file(b, c, NULL, &d), 0);
	assert_true(same_file(a, c));
	/* nothing to remove: a success, an exact copy */
	assert_int_equal(msign_strip_file(a, c, NULL, &d), 0);
	assert_true(same_file(a, c));
	assert_int_equal(msign_strip_file(a, c, "x86_64", &d), MSIGN_E_NOT_FOUND);
	assert_int_equal(d.code, MSIGN_E_NOT_FOUND);
}

static void t_tampered(void **st)
{
	(void)st;
	const char *a = tmp("a");
	copy_fixture(UNSIGNED, a);
	msign_sign_options *o = opts_hello();
	struct msign_diag d;
	assert_int_equal(msign_sign_file(a, a, o, &d), 0);
	msign_sign_options_free(o);
	size_t n;
	uint8_t *f = load_path(a, &n);
	size_t at = sect_off(f, n, "__TEXT", "__text");
	assert_true(at > 0 && at < n);
	f[at] ^= 0x01;
	put(a, f, n);
	free(f);
	int kind = -1;
	assert_int_equal(msign_verify_file(a, NULL, 0, &kind, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_MODIFIED);
	assert_int_equal(d.code, MSIGN_E_VERIFY);
	assert_non_null(strstr(d.msg, "does not match its hash"));
	assert_int_equal(d.file_off, 0); /* a thin file's one slice */
	assert_string_equal(msign_verify_message(kind),
			    "invalid signature (code or signature have been modified)");
}

static void t_verify_refusals(void **st)
{
	(void)st;
	struct msign_diag d;
	int kind = -1;
	const char *a = tmp("a");
	copy_fixture(UNSIGNED, a);
	assert_int_equal(msign_verify_file(a, NULL, 0, &kind, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_NOT_SIGNED);
	copy_fixture("README.md", a); /* no Mach-O at all */
	kind = -1;
	assert_int_equal(msign_verify_file(a, NULL, 0, &kind, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_BAD_MACHO);
	assert_int_equal(d.code, MSIGN_E_VERIFY);
	/* could not run: *kind not written */
	const char *gone = tmp("nonexistent");
	kind = -1;
	assert_int_equal(msign_verify_file(gone, NULL, 0, &kind, &d), MSIGN_E_IO);
	assert_int_equal(kind, -1);
	assert_int_equal(d.code, MSIGN_E_IO);
	assert_string_equal(d.msg, "No such file or directory");
	copy_fixture("hello_arm64", a);
	assert_int_equal(msign_verify_file(a, "x86_64", 0, &kind, &d), MSIGN_E_NOT_FOUND);
	assert_int_equal(msign_verify_file(a, NULL, 0x80, &kind, &d), MSIGN_E_ARG);
	assert_int_equal(msign_verify_file(NULL, NULL, 0, &kind, &d), MSIGN_E_ARG);
	assert_int_equal(kind, -1);
	assert_int_equal(msign_verify_file(a, NULL, 0, NULL, NULL), 0);
}

static void t_bad_options(void **st)
{
	(void)st;
	msign_sign_options *o = msign_sign_options_new();
	assert_non_null(o);
	static const char ent[] = "<plist><dict/></plist>";
	assert_int_equal(msign_sign_options_set_flags(o, MSIGN_CS_ADHOC), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_flags(o, MSIGN_CS_LINKER_SIGNED), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_flags(o, MSIGN_CS_RUNTIME | 0x4u), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_flags(o, MSIGN_SIGN_FLAGS), 0);
	assert_int_equal(msign_sign_options_set_hash_types(o, 1u << 7), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_hash_types(o, MSIGN_SIGN_HASH_SHA1 |
							      MSIGN_SIGN_HASH_SHA384), 0);
	assert_int_equal(msign_sign_options_set_page_size(o, 1000), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_page_size(o, 256), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_page_size(o, 1u << 25), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_page_size(o, 4096), 0);
	assert_int_equal(msign_sign_options_set_identifier(o, ""), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_identifier(o, "a\nb"), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_identifier_prefix(o, "x\033"), MSIGN_E_ARG);
	char longid[1025];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[1024] = '\0';
	assert_int_equal(msign_sign_options_set_identifier(o, longid), MSIGN_E_ARG);
	longid[1023] = '\0';
	assert_int_equal(msign_sign_options_set_identifier(o, longid), 0);
	assert_int_equal(msign_sign_options_set_identifier(o, NULL), 0);
	assert_int_equal(msign_sign_options_set_entitlements(o, ent, 0), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_entitlements(o, ent, (1u << 20) + 1),
			 MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_entitlements(o, ent, strlen(ent)), 0);
	assert_int_equal(msign_sign_options_set_arch(o, ""), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_identifier(NULL, "x"), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_force(NULL, true), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_threads(NULL, 1), MSIGN_E_ARG);
	msign_sign_options_free(o);
	msign_sign_options_free(NULL);

	/* Values that do not go together fail when signing; nothing written. */
	const char *a = tmp("a"), *b = tmp("b");
	copy_fixture(UNSIGNED, a);
	copy_fixture(UNSIGNED, b);
	struct msign_diag d;
	o = msign_sign_options_new();
	assert_non_null(o);
	assert_int_equal(msign_sign_options_set_linker_signed(o, true), 0);
	assert_int_equal(msign_sign_options_set_flags(o, MSIGN_CS_RUNTIME), 0);
	assert_int_equal(msign_sign_file(a, a, o, &d), MSIGN_E_ARG);
	assert_int_equal(d.code, MSIGN_E_ARG);
	assert_true(same_file(a, b));
	assert_int_equal(msign_sign_options_set_flags(o, 0), 0);
	assert_int_equal(msign_sign_options_set_arch(o, "x86_64"), 0);
	assert_int_equal(msign_sign_file(a, a, o, &d), MSIGN_E_NOT_FOUND);
	assert_int_equal(msign_sign_options_set_arch(o, NULL), 0);
	assert_int_equal(msign_sign_file(NULL, a, o, &d), MSIGN_E_ARG);
	assert_true(same_file(a, b));
	/* the same handle, now consistent: a linker signature that verifies */
	assert_int_equal(msign_sign_file(a, a, o, &d), 0);
	verify_ok(a);
	msign_sign_options_free(o);
}

static void t_entitlements_and_lost(void **st)
{
	(void)st;
	const char *a = tmp("a");
	copy_fixture(UNSIGNED, a);
	static const char ent[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<plist version=\"1.0\"><dict>"
		"<key>com.apple.security.get-task-allow</key><true/>"
		"</dict></plist>\n";
	msign_sign_options *o = opts_hello();
	assert_int_equal(msign_sign_options_set_entitlements(o, ent, strlen(ent)), 0);
	assert_int_equal(msign_sign_options_set_threads(o, 2), 0);
	struct msign_diag d;
	assert_int_equal(msign_sign_file(a, a, o, &d), 0);
	verify_ok(a);
	/* not a dictionary: refused when signing */
	assert_int_equal(msign_sign_options_set_entitlements(o, "<plist><array/></plist>", 23), 0);
	assert_int_equal(msign_sign_options_set_force(o, true), 0);
	assert_int_equal(msign_sign_file(a, a, o, &d), MSIGN_E_PLIST);
	msign_sign_options_free(o);

	char buf[64];
	assert_int_equal(msign_write_lost_text(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	msign_write_lost_text(MSIGN_LOST_OWNER | MSIGN_LOST_SETID, buf, sizeof(buf));
	assert_string_equal(buf, "owner, set-id bits");
}

static void write_pem(const char *path, X509 *a, X509 *b, EVP_PKEY *key)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL), 1);
	if (a != NULL)
		assert_int_equal(PEM_write_X509(fp, a), 1);
	if (b != NULL)
		assert_int_equal(PEM_write_X509(fp, b), 1);
	assert_int_equal(fclose(fp), 0);
}

/* A certificate signature through the public API alone, with a chain made
 * here by OpenSSL (a Developer ID style leaf under a root that is not
 * Apple's): what the library reads back is what was asked for. */
static void t_certificate_signing(void **st)
{
	(void)st;
	EVP_PKEY *rk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256"),
		 *lk = EVP_EC_gen("P-256");
	X509 *root = make_cert("API Root", NULL, "API Org", rk, NULL, NULL, true, NULL, false);
	X509 *ca = make_cert("API CA", NULL, "API Org", ck, root, rk, true,
			     "1.2.840.113635.100.6.2.6", false);
	X509 *leaf = make_cert("Developer ID Application: API (TEAM42)", "TEAM42",
			       "API Org", lk, ca, ck, false, "1.2.840.113635.100.6.1.13", false);
	const char *key = tmp("key.pem"), *cert = tmp("cert.pem"), *chain = tmp("chain.pem");
	write_pem(key, NULL, NULL, lk);
	write_pem(cert, leaf, NULL, NULL);
	write_pem(chain, ca, root, NULL);
	struct msign_diag d;
	msign_sign_identity *id = NULL;
	assert_int_equal(msign_sign_identity_load_pem(key, cert, chain, "Nobody", &id, &d),
			 MSIGN_E_NOT_FOUND);
	assert_null(id);
	assert_int_equal(d.code, MSIGN_E_NOT_FOUND);
	assert_int_equal(msign_sign_identity_load_pem(NULL, cert, chain, "API", &id, &d),
			 MSIGN_E_ARG);
	assert_int_equal(msign_sign_identity_load_pem(key, cert, chain, "API", &id, &d), 0);
	assert_string_equal(msign_sign_identity_common_name(id),
			    "Developer ID Application: API (TEAM42)");
	assert_string_equal(msign_sign_identity_team(id), "TEAM42");

	/* the same identity from PKCS#12, by the leaf's SHA-1 */
	STACK_OF(X509) *cas = sk_X509_new_null();
	sk_X509_push(cas, ca);
	PKCS12 *p12 = PKCS12_create("pw", NULL, lk, leaf, cas, 0, 0, 0, 0, 0);
	sk_X509_free(cas);
	assert_non_null(p12);
	FILE *fp = fopen(tmp("id.p12"), "wb");
	assert_non_null(fp);
	assert_int_equal(i2d_PKCS12_fp(fp, p12), 1);
	assert_int_equal(fclose(fp), 0);
	PKCS12_free(p12);
	uint8_t sha1[20];
	unsigned n1 = 0;
	assert_int_equal(X509_digest(leaf, EVP_sha1(), sha1, &n1), 1);
	char hex[41], want[160];
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02X", sha1[i]);
	msign_sign_identity *id2 = NULL;
	int rc = msign_sign_identity_load_p12(tmp("id.p12"), "wrong", hex, &id2, &d);
	assert_int_equal(rc, MSIGN_E_CRYPTO); /* the MAC does not match */
	assert_int_equal(d.code, rc);
	assert_null(id2);
	assert_int_equal(msign_sign_identity_load_p12(tmp("id.p12"), "pw", hex, &id2, &d), 0);
	assert_string_equal(msign_sign_identity_team(id2), "TEAM42");
	msign_sign_identity_free(id2);

	/* sign: a fixed signingTime, the chain's designated requirement */
	const char *a = tmp("a"), *b = tmp("b");
	copy_fixture(UNSIGNED, a);
	msign_sign_options *o = opts_hello();
	assert_int_equal(msign_sign_options_set_identity(o, id), 0);
	assert_int_equal(msign_sign_options_set_signing_time(o, 1714743707), 0);
	assert_int_equal(msign_sign_options_set_signing_time(o, 2524608000LL), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_timestamp(o, true, "ftp://x"), MSIGN_E_ARG);
	assert_int_equal(msign_sign_file(a, b, o, &d), 0);
	/* its root is not Apple's: the hashes hold, the signer is not trusted */
	int kind = -1;
	assert_int_equal(msign_verify_file(b, NULL, 0, &kind, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_UNTRUSTED);
	assert_int_equal(msign_verify_file(b, NULL, MSIGN_VERIFY_F_NO_TRUST, &kind, &d), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);
	/* with the chain's root as anchor: trusted, its designated requirement
	 * (the root pinned) holds, -R style requirements are evaluated */
	msign_verify_options *vo = msign_verify_options_new();
	assert_non_null(vo);
	/* (tmp's buffers rotate: the paths are made again) */
	assert_int_equal(msign_verify_options_add_anchors(vo, tmp("key.pem"), &d),
			 MSIGN_E_ARG); /* no certificate in it */
	assert_int_equal(msign_verify_options_add_anchors(vo, tmp("chain.pem"), &d), 0);
	assert_int_equal(msign_verify_options_set_flags(vo, MSIGN_VERIFY_F_DESIGNATED), 0);
	assert_int_equal(msign_verify_file_with(b, vo, &kind, &d), 0);
	assert_int_equal(kind, MSIGN_VERIFY_VALID);
	static const char ou[] = "anchor trusted and certificate leaf[subject.OU] = TEAM42";
	assert_int_equal(msign_verify_options_set_requirement(vo, ou, sizeof(ou) - 1, &d), 0);
	assert_int_equal(msign_verify_file_with(b, vo, &kind, &d), 0);
	static const char apple[] = "anchor apple generic";
	assert_int_equal(msign_verify_options_set_requirement(vo, apple, sizeof(apple) - 1, &d), 0);
	assert_int_equal(msign_verify_file_with(b, vo, &kind, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_REQUIREMENT);
	assert_string_equal(msign_verify_message(kind),
			    "code failed to satisfy specified code requirement(s)");
	static const char bad[] = "anchor apple and";
	assert_true(msign_verify_options_set_requirement(vo, bad, sizeof(bad) - 1, &d) < 0);
	assert_true(strstr(d.msg, "line 1 column") != NULL);
	assert_int_equal(msign_verify_options_set_requirement(vo, NULL, 0, &d), 0);
	assert_int_equal(msign_verify_options_set_flags(vo, MSIGN_VERIFY_F_DESIGNATED |
							    MSIGN_VERIFY_F_NO_TRUST), 0);
	assert_int_equal(msign_verify_file_with(b, vo, &kind, &d), MSIGN_E_ARG);
	assert_int_equal(msign_verify_options_set_flags(vo, 0x100), MSIGN_E_ARG);
	msign_verify_options_free(vo);
	/* without the anchor the designated requirement cannot hold either */
	vo = msign_verify_options_new();
	assert_int_equal(msign_verify_options_set_flags(vo, MSIGN_VERIFY_F_DESIGNATED), 0);
	assert_int_equal(msign_verify_file_with(b, vo, &kind, &d), MSIGN_E_VERIFY);
	assert_int_equal(kind, MSIGN_VERIFY_UNTRUSTED);
	msign_verify_options_free(vo);
	msign_info *info = NULL;
	assert_int_equal(msign_info_open(b, &info, &d), 0);
	const msign_info_slice *s = msign_info_slice_at(info, 0);
	assert_int_equal(msign_slice_sig_kind(s), MSIGN_SIG_CMS);
	assert_int_equal(msign_slice_cert_count(s), 3);
	assert_string_equal(msign_cert_common_name(msign_slice_cert(s, 0)),
			    "Developer ID Application: API (TEAM42)");
	assert_string_equal(msign_cd_team(msign_slice_chosen_cd(s)), "TEAM42");
	time_t t = 0;
	assert_true(msign_slice_signing_time(s, &t));
	assert_int_equal(t, 1714743707);
	/* every certificate is "API Org": the root is pinned (SHA-1 by OpenSSL) */
	assert_int_equal(X509_digest(root, EVP_sha1(), sha1, &n1), 1);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha1[i]);
	snprintf(want, sizeof(want),
		 "identifier \"com.example.hello\" and certificate root = H\"%s\"", hex);
	bool implicit = true;
	assert_string_equal(msign_slice_designated_requirement(s, &implicit), want);
	assert_false(implicit);
	msign_info_free(info);

	/* an explicit requirement set: the empty one; a damaged one is refused */
	static const uint8_t empty[12] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 12 };
	static const uint8_t longer[12] = { 0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 16 };
	assert_int_equal(msign_sign_options_set_requirements(o, longer, 12), MSIGN_E_ARG);
	assert_int_equal(msign_sign_options_set_requirements(o, empty, 12), 0);
	assert_int_equal(msign_sign_options_set_force(o, true), 0);
	assert_int_equal(msign_sign_file(a, b, o, &d), 0);
	assert_int_equal(msign_info_open(b, &info, &d), 0);
	assert_int_equal(msign_slice_requirement_count(msign_info_slice_at(info, 0)), 0);
	msign_info_free(info);

	/* notarization: no timestamp is the one problem left */
	assert_int_equal(msign_sign_options_set_for_notarization(o, true), 0);
	assert_int_equal(msign_sign_file(a, b, o, &d), MSIGN_E_ARG);
	assert_string_equal(d.msg, "not ready for notarization: no secure timestamp (--timestamp)");
	msign_sign_options_free(o);
	msign_sign_identity_free(id);
	X509_free(root); X509_free(ca); X509_free(leaf);
	EVP_PKEY_free(rk); EVP_PKEY_free(ck); EVP_PKEY_free(lk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_sign_verify_strip),
		cmocka_unit_test(t_tampered),
		cmocka_unit_test(t_verify_refusals),
		cmocka_unit_test(t_bad_options),
		cmocka_unit_test(t_entitlements_and_lost),
		cmocka_unit_test(t_certificate_signing),
	};
	return cmocka_run_group_tests_name("api", tests, api_setup, api_teardown);
}
