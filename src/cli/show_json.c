/* msign show --json: every field of every slice, one JSON document per
 * file (jansson does the escaping), printed from the library's model
 * (msign/info.h) like the text; pages_mismatched hashes the code pages so
 * scripts can see how many no longer match the file. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "msign/bundle.h"

static json_t *hexstr(const uint8_t *p, size_t n)
{
	char buf[2 * 256 + 1];
	if (p == NULL)
		return json_null();
	if (n > 256)
		n = 256;
	cli_hex(p, n, buf);
	return json_string(buf);
}

/* A JSON string of file-controlled text: invalid UTF-8 is not dropped but
 * shown with each non-ASCII byte replaced by U+FFFD. */
json_t *cli_json_str(const char *text)
{
	if (text == NULL)
		return json_null();
	json_t *j = json_string(text);
	if (j != NULL)
		return j;
	size_t n = strlen(text);
	char *clean = malloc(3 * n + 1);
	if (clean == NULL)
		return json_null();
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x80) {
			clean[o++] = (char)ch;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	clean[o] = '\0';
	j = json_string(clean);
	free(clean);
	return j ? j : json_null();
}

static json_t *iso_time(time_t t)
{
	char buf[32];
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *cd_json(const msign_info *info, const msign_info_slice *s,
		       const msign_info_cd *cd)
{
	char flags[256];
	msign_cd_flags_text(msign_cd_flags(cd), flags, sizeof(flags));
	uint32_t hsize = msign_cd_hash_size(cd);
	json_t *o = json_object();
	json_object_set_new(o, "slot", json_integer(msign_cd_slot(cd)));
	json_object_set_new(o, "version", json_integer(msign_cd_version(cd)));
	json_object_set_new(o, "size", json_integer(msign_cd_size(cd)));
	json_object_set_new(o, "flags", json_integer(msign_cd_flags(cd)));
	json_object_set_new(o, "flag_names", json_string(flags));
	json_object_set_new(o, "identifier", cli_json_str(msign_cd_identifier(cd)));
	json_object_set_new(o, "team_identifier", cli_json_str(msign_cd_team(cd)));
	json_object_set_new(o, "hash_type", json_string(msign_hash_type_name(
		msign_cd_hash_type(cd))));
	json_object_set_new(o, "hash_size", json_integer(hsize));
	json_object_set_new(o, "platform", json_integer(msign_cd_platform(cd)));
	json_object_set_new(o, "page_size", json_integer(msign_cd_page_size(cd)));
	json_object_set_new(o, "code_slots", json_integer(msign_cd_code_slots(cd)));
	json_object_set_new(o, "special_slots",
			    json_integer(msign_cd_special_slots(cd)));
	json_object_set_new(o, "code_limit",
			    json_integer((json_int_t)msign_cd_code_limit(cd)));
	uint64_t base, limit, segflags;
	if (msign_cd_exec_segment(cd, &base, &limit, &segflags)) {
		json_object_set_new(o, "exec_seg_base", json_integer((json_int_t)base));
		json_object_set_new(o, "exec_seg_limit", json_integer((json_int_t)limit));
		json_object_set_new(o, "exec_seg_flags", json_integer((json_int_t)segflags));
	}
	uint32_t rt;
	if (msign_cd_runtime(cd, &rt))
		json_object_set_new(o, "runtime", json_integer(rt));
	size_t hlen;
	const uint8_t *h = msign_cd_cdhash(cd, &hlen);
	json_object_set_new(o, "cdhash", hexstr(h, 20));
	json_object_set_new(o, "cdhash_full", hexstr(h, hlen));
	json_t *sp = json_object();
	for (uint32_t n = msign_cd_special_slots(cd); n >= 1; n--) {
		char key[16];
		snprintf(key, sizeof(key), "%d", -(int)n);
		json_object_set_new(sp, key, hexstr(msign_cd_slot_hash(
			cd, -(int64_t)n), hsize));
	}
	json_object_set_new(o, "special_slot_hashes", sp);
	uint32_t bad = 0;
	if (msign_info_cd_pages_mismatched(info, s, cd, &bad, NULL) == 0)
		json_object_set_new(o, "pages_mismatched", json_integer(bad));
	else
		json_object_set_new(o, "pages_mismatched", json_null());
	return o;
}

static json_t *cms_json(const msign_info_slice *s)
{
	json_t *o = json_object();
	json_t *auth = json_array();
	for (uint32_t i = 0; i < msign_slice_cert_count(s); i++) {
		const msign_info_cert *c = msign_slice_cert(s, i);
		json_t *co = json_object();
		json_object_set_new(co, "common_name", cli_json_str(msign_cert_common_name(c)));
		json_object_set_new(co, "organization", cli_json_str(msign_cert_organization(c)));
		json_object_set_new(co, "organizational_unit", cli_json_str(msign_cert_org_unit(c)));
		json_object_set_new(co, "sha1", hexstr(msign_cert_sha1(c), 20));
		json_object_set_new(co, "sha256", hexstr(msign_cert_sha256(c), 32));
		json_array_append_new(auth, co);
	}
	json_object_set_new(o, "certificates", auth);
	json_object_set_new(o, "certificates_carried",
			    json_integer(msign_slice_cert_carried(s)));
	time_t t;
	json_object_set_new(o, "signing_time", msign_slice_signing_time(s, &t)
						       ? iso_time(t) : json_null());
	json_object_set_new(o, "timestamp", msign_slice_timestamp(s, &t)
						    ? iso_time(t) : json_null());
	size_t mlen;
	const uint8_t *md = msign_slice_message_digest(s, &mlen);
	/* "" when the CMS has no messageDigest (old signatures) */
	json_object_set_new(o, "message_digest",
			    hexstr(md != NULL ? md : (const uint8_t *)"", mlen));
	return o;
}

/* Requirements, implicit DR and entitlements of the file's shown slice. */
static void extras_json(json_t *o, const msign_info_slice *s)
{
	const char *text = msign_slice_requirements_text(s);
	size_t rlen;
	if (msign_slice_requirements(s, &rlen) != NULL && text != NULL) {
		json_t *r = json_object();
		json_object_set_new(r, "count",
				    json_integer(msign_slice_requirement_count(s)));
		json_object_set_new(r, "size", json_integer((json_int_t)rlen));
		json_object_set_new(r, "text", cli_json_str(text));
		json_object_set_new(o, "requirements", r);
	} else {
		json_object_set_new(o, "requirements", json_null());
	}
	bool implicit;
	const char *dr = msign_slice_designated_requirement(s, &implicit);
	json_object_set_new(o, "implicit_designated_requirement",
			    cli_json_str(implicit ? dr : NULL));
	json_object_set_new(o, "entitlements",
			    cli_json_str(msign_slice_entitlements_xml(s, NULL)));
}

static const char *kind_name(enum msign_sig_kind k)
{
	return k == MSIGN_SIG_ADHOC ? "adhoc" : k == MSIGN_SIG_CMS ? "cms" : "none";
}

static json_t *sig_json(const struct show_file *f, const msign_info_slice *s,
			bool shown)
{
	json_t *o = json_object();
	json_object_set_new(o, "offset", json_integer(msign_slice_sig_offset(s)));
	json_object_set_new(o, "size", json_integer(msign_slice_sig_size(s)));
	json_t *blobs = json_array();
	uint32_t type, magic, off, len;
	for (uint32_t i = 0; msign_slice_blob(s, i, &type, &magic, &off, &len); i++) {
		json_t *b = json_object();
		json_object_set_new(b, "type", json_integer(type));
		json_object_set_new(b, "magic", json_integer(magic));
		json_object_set_new(b, "offset", json_integer(off));
		json_object_set_new(b, "length", json_integer(len));
		json_array_append_new(blobs, b);
	}
	json_object_set_new(o, "blobs", blobs);
	json_t *cds = json_array();
	for (uint32_t i = 0; i < msign_slice_cd_count(s); i++)
		json_array_append_new(cds, cd_json(f->info, s, msign_slice_cd(s, i)));
	json_object_set_new(o, "code_directories", cds);
	json_object_set_new(o, "chosen_code_directory",
			    json_integer(msign_slice_chosen_cd_index(s)));
	uint8_t dg[32];
	if (msign_slice_cms_digest(s, dg))
		json_object_set_new(o, "cms_digest", hexstr(dg, 32));
	json_object_set_new(o, "signature_size",
			    msign_slice_cms_present(s)
				    ? json_integer(msign_slice_cms_size(s))
					 : json_null());
	json_object_set_new(o, "kind", json_string(kind_name(msign_slice_sig_kind(s))));
	bool cms_ok = msign_slice_cms_size(s) > 0 &&
		      msign_slice_cms_status(s, NULL) == 0;
	if (shown || msign_slice_cms_size(s) > 0)
		json_object_set_new(o, "cms", cms_ok ? cms_json(s) : json_null());
	if (shown)
		extras_json(o, s);
	const struct msign_diag *bd;
	if (msign_slice_blob_status(s, &bd) != 0)
		json_object_set_new(o, "blob_error", cli_json_str(bd->msg));
	return o;
}

static json_t *slice_json(const struct show_file *f, uint32_t idx)
{
	const msign_info_slice *s = msign_info_slice_at(f->info, idx);
	json_t *o = json_object();
	json_object_set_new(o, "arch", json_string(msign_slice_arch(s)));
	json_object_set_new(o, "cputype", json_integer(msign_slice_cputype(s)));
	json_object_set_new(o, "cpusubtype", json_integer(msign_slice_cpusubtype(s)));
	json_object_set_new(o, "offset", json_integer((json_int_t)msign_slice_offset(s)));
	json_object_set_new(o, "size", json_integer((json_int_t)msign_slice_size(s)));
	json_object_set_new(o, "shown", json_boolean(f->slice_chosen &&
							idx == f->slice_idx));
	const struct msign_diag *d;
	if (msign_slice_macho_status(s, &d) != 0) {
		json_object_set_new(o, "error", cli_json_str(d->msg));
		return o;
	}
	json_object_set_new(o, "filetype", json_integer(msign_slice_filetype(s)));
	uint32_t plat, minos, sdk;
	if (msign_slice_build_version(s, &plat, &minos, &sdk)) {
		json_t *v = json_object();
		json_object_set_new(v, "platform", json_integer(plat));
		json_object_set_new(v, "min", json_integer(minos));
		json_object_set_new(v, "sdk", json_integer(sdk));
		json_object_set_new(o, "version", v);
	}
	const char *lv = msign_slice_library_validation_warning(s);
	if (lv != NULL)
		json_object_set_new(o, "library_validation_warning", cli_json_str(lv));
	bool shown = idx == f->slice_idx && f->sig_ok;
	int r = msign_slice_sig_status(s, &d);
	json_object_set_new(o, "signed", json_boolean(r != MSIGN_E_NOT_SIGNED));
	if (r == 0)
		json_object_set_new(o, "signature", sig_json(f, s, shown));
	else if (r != MSIGN_E_NOT_SIGNED)
		json_object_set_new(o, "error", cli_json_str(d->msg));
	return o;
}

/* A bundle's own facts (msign/bundle.h), for show --json. */
json_t *cli_bundle_json(const msign_bundle *b)
{
	json_t *bj = json_pack("{s:s, s:o, s:s, s:o}", "kind", msign_bundle_kind(b),
			       "executable", cli_json_str(msign_bundle_executable(b)),
			       "format", msign_bundle_format(b),
			       "default_identifier",
			       cli_json_str(msign_bundle_default_identifier(b)));
	uint32_t n, rules, files;
	unsigned version;
	json_object_set_new(bj, "info_plist_entries",
			    msign_bundle_info_plist_entries(b, &n) ? json_integer(n)
								   : json_null());
	json_object_set_new(bj, "sealed_resources",
			    msign_bundle_sealed_resources(b, &version, &rules, &files)
			    ? json_pack("{s:i, s:i, s:i}", "version", (int)version,
					"rules", (int)rules, "files", (int)files)
			    : json_null());
	json_t *nested = json_array();
	for (uint32_t i = 0; i < msign_bundle_nested_count(b); i++)
		json_array_append_new(nested, cli_json_str(msign_bundle_nested(b, i)));
	json_object_set_new(bj, "nested", nested);
	return bj;
}

int show_json(FILE *out, const struct show_file *f)
{
	json_t *root = json_object();
	json_object_set_new(root, "path", cli_json_str(f->path));
	if (f->error != NULL) {
		json_object_set_new(root, "error", cli_json_str(f->error));
		json_object_set_new(root, "reason", f->reason[0] ? cli_json_str(f->reason)
								 : json_null());
	}
	if (f->info != NULL) {
		json_object_set_new(root, "executable", cli_json_str(f->exec_path));
		json_object_set_new(root, "format",
				    json_string(msign_info_format(f->info)));
		json_t *slices = json_array();
		for (uint32_t i = 0; i < msign_info_slice_count(f->info); i++)
			json_array_append_new(slices, slice_json(f, i));
		json_object_set_new(root, "slices", slices);
	}
	if (f->bundle != NULL)
		json_object_set_new(root, "bundle", cli_bundle_json(f->bundle));
	int r = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return r == 0 ? 0 : 1;
}
