/* msign show --json: every field of every slice, one JSON document per
 * file (jansson does the escaping). Page hashes are recomputed here so
 * scripts can see how many pages no longer match the file. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static json_t *hexstr(const uint8_t *p, size_t n)
{
	char buf[2 * 256 + 1];
	if (n > 256)
		n = 256;
	cli_hex(p, n, buf);
	return json_string(buf);
}

/* A JSON string of file-controlled text: invalid UTF-8 is not dropped but
 * shown with each non-ASCII byte replaced by U+FFFD. */
static json_t *jstr(const char *text)
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

static json_t *cd_json(const struct msign_image *img, const struct msign_codedir *cd,
		       const struct msign_slice *s)
{
	char flags[256];
	cli_cd_flags(cd->flags, flags, sizeof(flags));
	json_t *o = json_object();
	json_object_set_new(o, "slot", json_integer(cd->slot));
	json_object_set_new(o, "version", json_integer(cd->version));
	json_object_set_new(o, "size", json_integer(cd->len));
	json_object_set_new(o, "flags", json_integer(cd->flags));
	json_object_set_new(o, "flag_names", json_string(flags));
	json_object_set_new(o, "identifier", jstr(cd->ident));
	json_object_set_new(o, "team_identifier",
			    jstr(cd->team));
	json_object_set_new(o, "hash_type",
			    json_string(msign_hashtype_name(cd->hash_type)));
	json_object_set_new(o, "hash_size", json_integer(cd->hash_size));
	json_object_set_new(o, "platform", json_integer(cd->platform));
	json_object_set_new(o, "page_size",
			    json_integer(cd->page_log2 ? 1 << cd->page_log2 : 0));
	json_object_set_new(o, "code_slots", json_integer(cd->ncode));
	json_object_set_new(o, "special_slots", json_integer(cd->nspecial));
	json_object_set_new(o, "code_limit",
			    json_integer((json_int_t)msign_codedir_limit(cd)));
	if (cd->version >= MSIGN_CS_SUPPORTSEXECSEG) {
		json_object_set_new(o, "exec_seg_base",
				    json_integer((json_int_t)cd->exec_seg_base));
		json_object_set_new(o, "exec_seg_limit",
				    json_integer((json_int_t)cd->exec_seg_limit));
		json_object_set_new(o, "exec_seg_flags",
				    json_integer((json_int_t)cd->exec_seg_flags));
	}
	if (cd->version >= MSIGN_CS_SUPPORTSRUNTIME)
		json_object_set_new(o, "runtime", json_integer(cd->runtime));
	json_object_set_new(o, "cdhash", hexstr(cd->cdhash, 20));
	json_object_set_new(o, "cdhash_full", hexstr(cd->cdhash, cd->cdhash_len));
	json_t *sp = json_object();
	for (uint32_t n = cd->nspecial; n >= 1; n--) {
		char key[16];
		snprintf(key, sizeof(key), "%d", -(int)n);
		json_object_set_new(sp, key,
				    hexstr(msign_codedir_slot(cd, -(int64_t)n),
					   cd->hash_size));
	}
	json_object_set_new(o, "special_slot_hashes", sp);
	uint32_t bad = 0;
	if (msign_codedir_count_bad_pages(img, cd, s, &bad, NULL) == 0)
		json_object_set_new(o, "pages_mismatched", json_integer(bad));
	else
		json_object_set_new(o, "pages_mismatched", json_null());
	return o;
}

static json_t *cms_json(const struct msign_cms_info *ci)
{
	json_t *o = json_object();
	json_t *auth = json_array();
	for (uint32_t i = 0; i < ci->ncerts; i++) {
		const struct msign_cert *c = &ci->chain[i];
		json_t *co = json_object();
		json_object_set_new(co, "common_name",
				    jstr(c->cn));
		json_object_set_new(co, "organization",
				    jstr(c->org));
		json_object_set_new(co, "organizational_unit",
				    jstr(c->ou));
		json_object_set_new(co, "sha1", hexstr(c->sha1, 20));
		json_object_set_new(co, "sha256", hexstr(c->sha256, 32));
		json_array_append_new(auth, co);
	}
	json_object_set_new(o, "certificates", auth);
	json_object_set_new(o, "certificates_carried",
			    json_integer(ci->nall_certs));
	json_object_set_new(o, "signing_time",
			    ci->has_signing_time ? iso_time(ci->signing_time)
						 : json_null());
	json_object_set_new(o, "timestamp",
			    ci->has_timestamp ? iso_time(ci->timestamp_time)
					      : json_null());
	json_object_set_new(o, "message_digest",
			    hexstr(ci->message_digest, ci->message_digest_len));
	return o;
}

/* Requirements, implicit DR and entitlements of the file's shown slice. */
static void extras_json(json_t *o, const struct show_file *f)
{
	const struct msign_blob *rq = f->sig.requirements;
	char *text = NULL;
	uint32_t count = 0;
	bool has_dr = false;
	if (rq != NULL &&
	    msign_reqset_decompile(rq->data, rq->len, &text, &count, &has_dr,
				   NULL) == 0) {
		json_t *r = json_object();
		json_object_set_new(r, "count", json_integer(count));
		json_object_set_new(r, "size", json_integer(rq->len));
		json_object_set_new(r, "text", jstr(text));
		json_object_set_new(o, "requirements", r);
	} else {
		json_object_set_new(o, "requirements", json_null());
	}
	free(text);
	char *dr = has_dr ? NULL : show_implicit_dr(f);
	json_object_set_new(o, "implicit_designated_requirement",
			    jstr(dr));
	free(dr);
	int err;
	char *xml = show_entitlements_xml(f, &err, NULL);
	json_object_set_new(o, "entitlements", jstr(xml));
	free(xml);
}

static json_t *sig_json(const struct show_file *f, const struct msign_slice *s,
			const struct msign_sig *sig, bool shown)
{
	json_t *o = json_object();
	json_object_set_new(o, "offset", json_integer(s->cs_dataoff));
	json_object_set_new(o, "size", json_integer(s->cs_datasize));
	json_t *blobs = json_array();
	for (uint32_t i = 0; i < sig->nblobs; i++) {
		json_t *b = json_object();
		json_object_set_new(b, "type", json_integer(sig->blobs[i].type));
		json_object_set_new(b, "magic", json_integer(sig->blobs[i].magic));
		json_object_set_new(b, "offset", json_integer(sig->blobs[i].off));
		json_object_set_new(b, "length", json_integer(sig->blobs[i].len));
		json_array_append_new(blobs, b);
	}
	json_object_set_new(o, "blobs", blobs);
	json_t *cds = json_array();
	for (uint32_t i = 0; i < sig->ncds; i++)
		json_array_append_new(cds, cd_json(f->img, &sig->cds[i], s));
	json_object_set_new(o, "code_directories", cds);
	json_object_set_new(o, "chosen_code_directory", json_integer(sig->best));
	uint8_t dg[32];
	if (msign_sig_cms_digest(sig, dg) == 0)
		json_object_set_new(o, "cms_digest", hexstr(dg, 32));
	const struct msign_codedir *best = &sig->cds[sig->best];
	json_object_set_new(o, "signature_size",
			    sig->cms ? json_integer(sig->cms->len - 8)
				     : json_null());
	json_object_set_new(o, "kind", json_string(
		(best->flags & MSIGN_CS_ADHOC) ? "adhoc"
		: (sig->cms && sig->cms->len > 8) ? "cms" : "none"));
	if (shown) {
		json_object_set_new(o, "cms", f->has_cms ? cms_json(&f->cms)
							 : json_null());
		extras_json(o, f);
	} else if (sig->cms != NULL && sig->cms->len > 8) {
		struct msign_cms_info ci;
		memset(&ci, 0, sizeof(ci));
		if (msign_cms_parse(sig->cms->data + 8, sig->cms->len - 8,
				    &ci, NULL) == 0) {
			json_object_set_new(o, "cms", cms_json(&ci));
			msign_cms_info_free(&ci);
		} else {
			json_object_set_new(o, "cms", json_null());
		}
	}
	if (sig->blob_err != 0)
		json_object_set_new(o, "blob_error",
				    jstr(sig->blob_err_msg));
	return o;
}

static json_t *slice_json(const struct show_file *f, uint32_t idx)
{
	const struct msign_slice *s = &f->img->slices[idx];
	char lbl[40];
	json_t *o = json_object();
	json_object_set_new(o, "arch", json_string(msign_arch_label(
		s->cputype, s->cpusubtype, lbl, sizeof(lbl))));
	json_object_set_new(o, "cputype", json_integer(s->cputype));
	json_object_set_new(o, "cpusubtype", json_integer(s->cpusubtype));
	json_object_set_new(o, "offset", json_integer((json_int_t)s->off));
	json_object_set_new(o, "size", json_integer((json_int_t)s->size));
	json_object_set_new(o, "shown", json_boolean(f->slice_chosen &&
							idx == f->slice_idx));
	if (s->err != 0) {
		json_object_set_new(o, "error", jstr(s->diag.msg));
		return o;
	}
	json_object_set_new(o, "filetype", json_integer(s->filetype));
	if (s->has_version) {
		json_t *v = json_object();
		json_object_set_new(v, "platform", json_integer(s->version_platform));
		json_object_set_new(v, "min", json_integer(s->version_min));
		json_object_set_new(v, "sdk", json_integer(s->version_sdk));
		json_object_set_new(o, "version", v);
	}
	struct msign_sig local;
	struct msign_diag d;
	msign_diag_clear(&d);
	const struct msign_sig *sig = &f->sig;
	bool shown = idx == f->slice_idx && f->sig_ok;
	int r = 0;
	if (!shown) {
		r = msign_sig_parse(s, &local, &d);
		sig = &local;
	}
	json_object_set_new(o, "signed", json_boolean(r != MSIGN_E_NOT_SIGNED));
	if (r == 0)
		json_object_set_new(o, "signature", sig_json(f, s, sig, shown));
	else if (r != MSIGN_E_NOT_SIGNED)
		json_object_set_new(o, "error", jstr(d.msg));
	return o;
}

int show_json(FILE *out, const struct show_file *f)
{
	char fmt[1024];
	json_t *root = json_object();
	json_object_set_new(root, "path", jstr(f->path));
	if (f->error != NULL) {
		json_object_set_new(root, "error", jstr(f->error));
		json_object_set_new(root, "reason", f->reason[0] ? jstr(f->reason)
								 : json_null());
	}
	if (f->img != NULL) {
		show_format(f->img, fmt, sizeof(fmt));
		json_object_set_new(root, "executable", jstr(f->exec_path));
		json_object_set_new(root, "format", json_string(fmt));
		json_t *slices = json_array();
		for (uint32_t i = 0; i < f->img->nslices; i++)
			json_array_append_new(slices, slice_json(f, i));
		json_object_set_new(root, "slices", slices);
	}
	int r = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return r == 0 ? 0 : 1;
}
