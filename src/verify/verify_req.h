/* msign: requirements evaluated against a slice verify has checked
 * (verify_req.c), with the evaluator of sig/reqeval.h. */
#ifndef MSIGN_VERIFY_VERIFY_REQ_H
#define MSIGN_VERIFY_VERIFY_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macho/macho.h"
#include "sig/codesign.h"
#include "sig/reqeval.h"

struct msign_cms_info;

/* One slice's facts: its signature (the chosen CodeDirectory's cdhash
 * computed), its parsed CMS (NULL for none) and what trust decided. */
struct msign_verify_req_in {
	const struct msign_slice *s;
	const struct msign_sig *sig;
	const struct msign_cms_info *cms;
	enum msign_req_anchor anchor;
	bool timestamp_ok; /* the CMS's RFC 3161 token was checked */
};

/* One requirement blob (0xfade0c00, as csreq -b writes it). */
int msign_verify_req_eval(const struct msign_verify_req_in *in,
			  const uint8_t *req, size_t len,
			  struct msign_req_outcome *out, struct msign_diag *d);
/* The designated requirement: the set's explicit entry, or (*implicit)
 * the one codesign derives: its form for the CMS chain, or the slice's
 * cdhash for ad-hoc code. */
int msign_verify_dr_eval(const struct msign_verify_req_in *in, bool *implicit,
			 struct msign_req_outcome *out, struct msign_diag *d);

#endif
