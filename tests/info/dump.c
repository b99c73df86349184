/* info-dump FILE: the signing-information model of FILE (msign/info.h
 * only) as "KEY VALUE" lines in fixtures/facts.txt's vocabulary, so that
 * tests/info/run.sh can compare it with values computed without msign.
 * Universal files prefix every key with "ARCH."; CodeDirectory keys take
 * "HASH." (sha1., sha256.); entitlements print as
 * "ent.KEY TYPE[ VALUE]". */
#include <stdio.h>
#include <string.h>

#include <msign/msign.h>

static char pre[64];

static void hex(const char *key, const uint8_t *p, size_t n)
{
	printf("%s%s ", pre, key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static void cd_facts(const msign_info_cd *cd)
{
	char k[80];
	const char *h = msign_hash_type_name(msign_cd_hash_type(cd));
	size_t len;
	const uint8_t *cdh = msign_cd_cdhash(cd, &len);
	printf("%s%s.slot 0x%x\n", pre, h, msign_cd_slot(cd));
	printf("%s%s.cd_version %x\n", pre, h, msign_cd_version(cd));
	printf("%s%s.cd_size %u\n", pre, h, msign_cd_size(cd));
	printf("%s%s.flags 0x%x\n", pre, h, msign_cd_flags(cd));
	printf("%s%s.identifier %s\n", pre, h, msign_cd_identifier(cd));
	printf("%s%s.nspecial %u\n", pre, h, msign_cd_special_slots(cd));
	printf("%s%s.ncode %u\n", pre, h, msign_cd_code_slots(cd));
	printf("%s%s.code_limit %llu\n", pre, h,
	       (unsigned long long)msign_cd_code_limit(cd));
	printf("%s%s.hash_size %u\n", pre, h, msign_cd_hash_size(cd));
	printf("%s%s.platform %u\n", pre, h, msign_cd_platform(cd));
	printf("%s%s.page_size %u\n", pre, h, msign_cd_page_size(cd));
	if (msign_cd_team(cd) != NULL)
		printf("%s%s.team %s\n", pre, h, msign_cd_team(cd));
	uint64_t base, limit, flags;
	if (msign_cd_exec_segment(cd, &base, &limit, &flags))
		printf("%s%s.exec_seg_base %llu\n%s%s.exec_seg_limit %llu\n"
		       "%s%s.exec_seg_flags 0x%llx\n", pre, h,
		       (unsigned long long)base, pre, h,
		       (unsigned long long)limit, pre, h,
		       (unsigned long long)flags);
	uint32_t rt;
	if (msign_cd_runtime(cd, &rt) && rt != 0)
		printf("%s%s.runtime %u.%u.%u\n", pre, h, rt >> 16,
		       (rt >> 8) & 0xff, rt & 0xff);
	snprintf(k, sizeof(k), "%s.cdhash", h);
	hex(k, cdh, 20);
	snprintf(k, sizeof(k), "cdhash_%s", h);
	hex(k, cdh, len);
	for (uint32_t n = 1; n <= msign_cd_special_slots(cd); n++) {
		snprintf(k, sizeof(k), "%s.special-%u", h, n);
		hex(k, msign_cd_slot_hash(cd, -(int64_t)n), msign_cd_hash_size(cd));
	}
	for (uint32_t n = 0; n < msign_cd_code_slots(cd); n++) {
		snprintf(k, sizeof(k), "%s.code-%u", h, n);
		hex(k, msign_cd_slot_hash(cd, n), msign_cd_hash_size(cd));
	}
}

static void ent_facts(const msign_info_slice *s)
{
	static const char *const types[] = { "absent", "bool", "string",
		"integer", "array", "dict", "other" };
	for (uint32_t i = 0; i < msign_slice_entitlement_count(s); i++) {
		const char *k = msign_slice_entitlement_key(s, i);
		enum msign_ent_type t = msign_slice_entitlement_type(s, k);
		printf("%sent.%s %s", pre, k, types[t]);
		if (t == MSIGN_ENT_BOOL)
			printf(" %s", msign_slice_entitlement_bool(s, k) ? "true" : "false");
		else if (t == MSIGN_ENT_STRING)
			printf(" %s", msign_slice_entitlement_string(s, k));
		putchar('\n');
	}
}

static void slice_facts(const msign_info *info, const msign_info_slice *s)
{
	printf("%sarch %s\n", pre, msign_slice_arch(s));
	printf("%scputype 0x%x\n", pre, (unsigned)msign_slice_cputype(s));
	printf("%scpusubtype 0x%x\n", pre, (unsigned)msign_slice_cpusubtype(s));
	if (msign_info_is_universal(info))
		printf("%sslice_offset %llu\n%sslice_size %llu\n", pre,
		       (unsigned long long)msign_slice_offset(s), pre,
		       (unsigned long long)msign_slice_size(s));
	if (msign_slice_macho_status(s, NULL) != 0)
		return;
	printf("%sfiletype %u\n", pre, msign_slice_filetype(s));
	int st = msign_slice_sig_status(s, NULL);
	printf("%ssigned %s\n", pre, st == MSIGN_E_NOT_SIGNED ? "no" : "yes");
	if (st != 0)
		return;
	printf("%ssig_dataoff %u\n%ssig_datasize %u\n", pre,
	       msign_slice_sig_offset(s), pre, msign_slice_sig_size(s));
	printf("%sblob_types ", pre);
	uint32_t type;
	for (uint32_t i = 0; msign_slice_blob(s, i, &type, NULL, NULL, NULL); i++)
		printf("%s0x%x", i ? "," : "", type);
	putchar('\n');
	const msign_info_cd *cd = msign_slice_chosen_cd(s);
	printf("%sidentifier %s\n", pre, msign_cd_identifier(cd));
	if (msign_cd_team(cd) != NULL)
		printf("%steam %s\n", pre, msign_cd_team(cd));
	printf("%scd_count %u\n%shash_choices ", pre, msign_slice_cd_count(s), pre);
	for (uint32_t i = 0; i < msign_slice_cd_count(s); i++)
		printf("%s%s", i ? "," : "", msign_hash_type_name(
			msign_cd_hash_type(msign_slice_cd(s, i))));
	printf("\n%sbest_hash %s\n", pre, msign_hash_type_name(msign_cd_hash_type(cd)));
	hex("cdhash", msign_cd_cdhash(cd, NULL), 20);
	uint8_t dg[32];
	if (msign_slice_cms_digest(s, dg))
		hex("cms_digest", dg, 32);
	for (uint32_t i = 0; i < msign_slice_cd_count(s); i++)
		cd_facts(msign_slice_cd(s, i));
	size_t len;
	if (msign_slice_requirements(s, &len) != NULL)
		printf("%sreqs_count %u\n%sreqs_size %zu\n", pre,
		       msign_slice_requirement_count(s), pre, len);
	uint32_t n;
	if (msign_slice_info_plist(s, &n))
		printf("%sinfo_plist_entries %u\n", pre, n);
	else
		printf("%sinfo_plist not bound\n", pre);
	if (msign_slice_sig_kind(s) == MSIGN_SIG_CMS)
		printf("%ssignature_size %u\n", pre, msign_slice_cms_size(s));
	time_t t;
	if (msign_slice_signing_time(s, &t))
		printf("%ssigning_time_unix %lld\n", pre, (long long)t);
	if (msign_slice_timestamp(s, &t))
		printf("%stimestamp_unix %lld\n", pre, (long long)t);
	for (uint32_t i = 0; i < msign_slice_cert_count(s); i++) {
		const msign_info_cert *c = msign_slice_cert(s, i);
		printf("%sauthority_%u %s\n", pre, i, msign_cert_common_name(c));
		const char *which = i == 0 ? "leaf" :
			i + 1 == msign_slice_cert_count(s) ? "root" : "inter";
		hex(which[0] == 'l' ? "leaf_sha1" : which[0] == 'r' ? "root_sha1"
							 : "inter_sha1",
		    msign_cert_sha1(c), 20);
	}
	const char *xml = msign_slice_entitlements_xml(s, &len);
	if (xml != NULL && msign_slice_entitlements_der(s, NULL) == NULL)
		printf("%sentitlements_xml_size %zu\n", pre, len);
	if (msign_slice_entitlements_der(s, &len) != NULL)
		printf("%sentitlements_der_size %zu\n", pre, len);
	ent_facts(s);
	bool implicit;
	const char *dr = msign_slice_designated_requirement(s, &implicit);
	if (dr != NULL)
		printf("%sdesignated %s%s\n", pre, implicit ? "implicit " : "", dr);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: info-dump FILE\n");
		return 2;
	}
	msign_info *info = NULL;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_info_open(argv[1], &info, &d);
	if (r != 0) {
		printf("error %s\n", msign_strerror(r));
		return 1;
	}
	printf("format %s\n", msign_info_format(info));
	for (uint32_t i = 0; i < msign_info_slice_count(info); i++) {
		const msign_info_slice *s = msign_info_slice_at(info, i);
		if (msign_info_is_universal(info))
			snprintf(pre, sizeof(pre), "%s.", msign_slice_arch(s));
		slice_facts(info, s);
	}
	msign_info_free(info);
	return fflush(stdout) == 0 ? 0 : 1;
}
