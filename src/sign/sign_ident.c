/* The signing identifier, by Apple's rules (spec section 2):
 *   -i wins; ld64.lld's linker signature uses the file name as is;
 *   else CFBundleIdentifier of the Info.plist the signature binds (the
 *   __TEXT,__info_plist section); else the file name without its last
 *   extension, with --prefix in front when it has no dot, and for ad-hoc
 *   signatures still without a dot "-" plus the hex of the file's
 *   identification: "UUID" and the LC_UUID bytes, or without LC_UUID the
 *   SHA-1 of the first 28 header bytes and the load commands.
 * Without LC_UUID the identification is taken from the load commands as
 * they are without a signature and with __LINKEDIT's vmsize and filesize
 * counted as zero: those are the fields signing changes, so signing again
 * (-f) keeps the identifier. (Apple hashes the commands as it finds them,
 * so its identifier changes once, on the first re-signing.)
 * libplist is needed here for CFBundleIdentifier only. */
#include <plist/plist.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/plist_guard.h"
#include "sign/sign_int.h"

static const char *si_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* CFBundleIdentifier of the embedded Info.plist, copied into out. */
static bool si_bundle_id(const struct msign_slice *s, char *out, size_t outlen)
{
	if (!s->has_info_plist || s->info_plist_size == 0 ||
	    s->info_plist_size > UINT32_MAX)
		return false;
	/* A plist the guard refuses has no identifier to give, as one
	 * libplist cannot read: the file name is used. */
	plist_t root = NULL;
	if (msign_plist_parse(s->data + s->info_plist_off, (size_t)s->info_plist_size,
			      &msign_plist_info_limits, &root, NULL) < 0)
		return false;
	bool ok = false;
	plist_t v = plist_get_node_type(root) == PLIST_DICT
			    ? plist_dict_get_item(root, "CFBundleIdentifier")
			    : NULL;
	if (v != NULL && plist_get_node_type(v) == PLIST_STRING) {
		uint64_t n = 0;
		const char *str = plist_get_string_ptr(v, &n);
		if (str != NULL && n > 0 && n < outlen &&
		    memchr(str, '\0', (size_t)n) == NULL) {
			memcpy(out, str, (size_t)n);
			out[n] = '\0';
			ok = true;
		}
	}
	plist_free(root);
	return ok;
}

/* The identification bytes as lowercase hex. */
static int si_identification(const struct msign_slice *main,
			     const struct msign_slice *hs, const uint8_t *hdr,
			     size_t hdr_len, char *hex, size_t hexlen)
{
	uint8_t id[4 + MSIGN_MAX_HASH_LEN];
	size_t n;
	if (main->has_uuid) {
		memcpy(id, "UUID", 4);
		memcpy(id + 4, main->uuid, 16);
		n = 20;
	} else {
		/* Apple hashes sizeof(struct mach_header) = 28 bytes, then
		 * the commands, which start at 32 in a 64-bit file. */
		size_t cmds = hs->sizeofcmds; /* not the zeroed tail strip leaves */
		if (hdr_len < (size_t)main->header_size + cmds)
			return MSIGN_E_INVALID;
		uint8_t *buf = malloc(MSIGN_MH_HEADER32_LEN + cmds);
		if (buf == NULL)
			return MSIGN_E_NOMEM;
		memcpy(buf, hdr, MSIGN_MH_HEADER32_LEN);
		memcpy(buf + MSIGN_MH_HEADER32_LEN, hdr + main->header_size, cmds);
		if (hs->linkedit_seg >= 0) {
			size_t at = (size_t)hs->segments[hs->linkedit_seg].cmd_off -
				    main->header_size + MSIGN_MH_HEADER32_LEN;
			if (hs->is64) {
				memset(buf + at + MSIGN_SEG64_OFF_VMSIZE, 0, 8);
				memset(buf + at + MSIGN_SEG64_OFF_FILESIZE, 0, 8);
			} else {
				memset(buf + at + MSIGN_SEG32_OFF_VMSIZE, 0, 4);
				memset(buf + at + MSIGN_SEG32_OFF_FILESIZE, 0, 4);
			}
		}
		uint32_t hl;
		int r = msign_hash(MSIGN_CS_HASHTYPE_SHA1, buf, MSIGN_MH_HEADER32_LEN + cmds,
				   id, &hl);
		free(buf);
		if (r)
			return r;
		n = hl;
	}
	static const char digits[] = "0123456789abcdef";
	if (hexlen < 2 * n + 1)
		return MSIGN_E_LIMIT;
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[id[i] >> 4];
		hex[2 * i + 1] = digits[id[i] & 0xf];
	}
	hex[2 * n] = '\0';
	return 0;
}

int sg_identifier(const struct msign_slice *main,
		  const struct msign_slice *hs, const uint8_t *hdr, size_t hdr_len,
		  const struct msign_sign_opts *o, char *out, size_t outlen,
		  struct msign_diag *d)
{
	const char *name = o->file_name ? si_basename(o->file_name) : "";
	int n;
	if (o->identifier != NULL) {
		n = snprintf(out, outlen, "%s", o->identifier);
	} else if (o->linker_signed) {
		n = snprintf(out, outlen, "%s", name);
	} else if (si_bundle_id(main, out, outlen)) {
		return 0;
	} else {
		const char *dot = strrchr(name, '.');
		int stem = (int)(dot && dot != name ? (size_t)(dot - name)
						     : strlen(name));
		if (stem == 0)
			return msign_diag_set(d, MSIGN_E_ARG, 0,
					      "no file name to derive an identifier from (give one with -i)");
		n = snprintf(out, outlen, "%.*s", stem, name);
		if (n >= 0 && (size_t)n < outlen && strchr(out, '.') == NULL &&
		    o->prefix != NULL) {
			char tmp[1024];
			snprintf(tmp, sizeof(tmp), "%s", out);
			n = snprintf(out, outlen, "%s%s", o->prefix, tmp);
		}
		/* a certificate signature keeps the bare name (codesign) */
		if (n >= 0 && (size_t)n < outlen && strchr(out, '.') == NULL &&
		    o->identity == NULL) {
			char hex[2 * (4 + MSIGN_MAX_HASH_LEN) + 1];
			int r = si_identification(main, hs, hdr, hdr_len, hex,
						  sizeof(hex));
			if (r)
				return msign_diag_set(d, r, 0,
						      "cannot identify the file for its identifier");
			size_t used = (size_t)n;
			n = snprintf(out + used, outlen - used, "-%s", hex);
			if (n >= 0)
				n += (int)used;
		}
	}
	if (n < 0 || (size_t)n >= outlen)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "identifier longer than %zu bytes", outlen - 1);
	if (out[0] == '\0')
		return msign_diag_set(d, MSIGN_E_ARG, 0,
				      "empty identifier (give one with -i)");
	return 0;
}
