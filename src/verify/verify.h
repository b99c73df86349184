/* msign: verification at hash level. */
#ifndef MSIGN_VERIFY_VERIFY_H
#define MSIGN_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "macho/macho.h"
#include "msign/err.h"
#include "msign/verify.h"
#include "verify/trust.h"

/* ---- verification (verify.c) ---------------------------------------------
 * codesign --verify at hash level: every CodeDirectory's code pages and
 * present special slots, the CMS messageDigest (and cdhashes) against the
 * CodeDirectories; with opts->trust, the CMS signature value, timestamp
 * and certificate chain (trust.c) too. The kinds of
 * failure (enum msign_verify_kind, msign_verify_message) and the whole-file
 * msign_verify_file are public: msign/verify.h. */
struct msign_verify_opts {
	unsigned threads; /* 0: online CPUs */
	bool strict;
	const char *arch; /* only this slice, or NULL for every slice */
	/* Only the pages holding the load commands and the last page of each
	 * CodeDirectory (sign's check of its own output). */
	bool quick;
	/* Added after the rest (initialisers written for them stay valid):
	 * also decide trust in certificate signatures (trust.c) with these
	 * options; NULL: hash level only. */
	const struct msign_trust_opts *trust;
	/* NULL, or one result per slice (img->nslices, by slice index) that
	 * gets each checked certificate signature's trust verdict. */
	struct msign_trust_result *trust_out;
	/* A requirement (0xfade0c00) every checked slice must satisfy
	 * (codesign -R): MSIGN_VERIFY_REQUIREMENT when one does not. */
	const uint8_t *requirement;
	size_t requirement_len;
	/* Evaluate each valid slice's designated requirement (explicit, or
	 * the implicit one); the verdict goes to the result's dr_* fields. */
	bool designated;
	/* A bundle's main executable (src/bundle): special slot -1 is
	 * checked against info_plist and slot -3 against resources (NULL:
	 * the file is gone, so a set slot fails), instead of being skipped. */
	bool bundle;
	const uint8_t *info_plist;
	size_t info_plist_len;
	const uint8_t *resources;
	size_t resources_len;
	/* The top bundle's version to check (codesign --bundle-version);
	 * NULL: the one Versions/Current names. */
	const char *bundle_version;
};

struct msign_verify_result {
	int kind;            /* enum msign_verify_kind */
	int32_t slice;       /* failing slice index, -1 if none */
	bool universal;
	int32_t cputype, cpusubtype;
	char detail[MSIGN_DIAG_MSG_LEN + 128]; /* what failed, for msign: */
	/* what was checked */
	uint32_t slices_checked, cds_checked, slots_checked, slots_skipped;
	uint64_t pages_checked;
	bool adhoc, cms, pseudo; /* of the last slice checked */
	bool cms_unchecked;      /* a CMS without messageDigest (old format):
				  * its signature value is not checked yet */
	bool explicit_dr;        /* a designated requirement is present */
	bool trusted;            /* of the last slice: its chain was checked */
	/* opts->designated: slices evaluated, the first that does not
	 * satisfy its designated requirement (-1: none), why when it could
	 * not be evaluated; an answer that rests on what only Apple's
	 * services know (notarization, trust settings). */
	uint32_t dr_checked;
	int32_t dr_failed_slice;
	char dr_detail[MSIGN_DIAG_MSG_LEN];
	bool dr_unknowable, req_unknowable;
};

/* -R's requirement (o->requirement) and the designated requirement
 * (o->designated) of one signature, as verify checks them for a slice:
 * in names the slice (or what stands for one) and its signature; cms its
 * CMS payload (NULL: ad hoc); t its trust verdict (NULL: not trusted or
 * not checked). *failed: the -R requirement does not hold (*unknowable:
 * it rests on what only Apple's services know); the designated one's
 * verdict goes to res's dr_* fields, slice idx. 0 or an error. */
struct msign_verify_req_in;
int msign_verify_requirements(const struct msign_verify_opts *o,
			      struct msign_verify_req_in *in, const uint8_t *cms,
			      size_t cms_len, const struct msign_trust_result *t,
			      struct msign_verify_result *res, int32_t idx,
			      bool *failed, bool *unknowable, struct msign_diag *d);

/* The team the chosen CodeDirectory names when it is not the OU of the
 * Apple developer certificate that signed it (t then says
 * MSIGN_VERIFY_BAD_TEAM), else NULL. */
struct msign_sig;
const char *msign_verify_team_mismatch(const struct msign_sig *sig,
				       struct msign_trust_result *t);

/* The public handle's settings as options (to: the trust options o
 * points to; vo NULL: the defaults), and its MSIGN_VERIFY_F_* flags. */
void msign_verify_opts_of(const msign_verify_options *vo, struct msign_verify_opts *o,
			  struct msign_trust_opts *to);
unsigned msign_verify_options_flags(const msign_verify_options *vo);

/* The CMS checks of verify for a signature not read from a slice (an
 * Info.plist-only bundle's _CodeSignature files, src/bundle): the CMS der
 * parsed, its messageDigest, cdhashes and CDHashes2 against sig's
 * CodeDirectories (their cdhash computed). Returns the kind (VALID or
 * why not) with one sentence in msg; *unchecked: no signed attributes,
 * so only the signature value (trust) covers the CodeDirectory. */
struct msign_sig; /* sig/codesign.h */
int msign_verify_cms_cds(const struct msign_sig *sig, const uint8_t *der,
			 size_t der_len, bool *unchecked, char *msg, size_t len);

/* The entitlements check of verify on sig's blobs: the XML a plist
 * dictionary, the DER saying the same. The kind, and one sentence. */
int msign_verify_entitlements(const struct msign_sig *sig, char *msg, size_t len);

/* 0: valid; MSIGN_E_VERIFY with res->kind and res->detail set; another
 * negative code when verification could not run (memory, crypto). */
int msign_verify_image(const struct msign_image *img,
		       const struct msign_verify_opts *o,
		       struct msign_verify_result *res, struct msign_diag *d);

#endif
