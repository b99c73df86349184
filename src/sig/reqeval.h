/* msign: evaluating a code requirement (the binary form, 0xfade0c00)
 * against what the caller knows about one slice's signature, as Apple's
 * Requirement::Interpreter (reqinterp.cpp) does for codesign -R and
 * SecStaticCodeCheckValidity. Internal: no exported symbol.
 *
 * The evaluator reads no file and decides no trust: the caller hands it
 * the facts (struct msign_req_ctx) and says what the chain's anchor is.
 * What Apple looks up on the machine or the network (notarization tickets,
 * the legacy Developer ID list, Trust Settings, the kernel trust cache,
 * requirement fragments in Security.framework) is not knowable here; such
 * an opcode evaluates to false, as Apple's does when the lookup finds
 * nothing, and struct msign_req_outcome says when the result depended on
 * it. */
#ifndef MSIGN_SIG_REQEVAL_H
#define MSIGN_SIG_REQEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msign/err.h"

/* What the chain's last certificate is, as decided by the caller's trust
 * evaluation (the evaluator only reads this). */
enum msign_req_anchor {
	MSIGN_REQ_ANCHOR_NONE = 0, /* not a trusted anchor (or no chain) */
	MSIGN_REQ_ANCHOR_APPLE,    /* an Apple root, by pinned SHA-256: anchor
				    * apple [generic], anchor trusted */
	MSIGN_REQ_ANCHOR_USER,     /* an anchor the caller's user trusts:
				    * anchor trusted, certificate root trusted
				    * (in place of Apple's Trust Settings) */
};

struct msign_req_cert {
	const uint8_t *der; /* one DER certificate */
	size_t len;
};

/* Everything is borrowed for the duration of the call; NULL/0 = absent. */
struct msign_req_ctx {
	/* The CodeDirectory's identifier, without its NUL. NULL means "no
	 * CodeDirectory": identifier, cdhash, platform are then false. */
	const uint8_t *ident;
	size_t ident_len;
	/* Apple's cdhash for `cdhash H"..."`: the hash, with its own hash
	 * type, of the CodeDirectory SecStaticCode::codeDirectory() picks (the
	 * best hash type present: SHA-384 > SHA-256 > SHA-256/20 > SHA-1),
	 * truncated to 20 bytes (CodeDirectory::cdhash, kSecCodeCDHashLength).
	 * Compared as CFEqual does: same length and bytes, so a requirement
	 * holding a full 32-byte SHA-256 never matches. */
	const uint8_t *cdhash;
	size_t cdhash_len;
	uint32_t platform; /* the CodeDirectory's platform byte */
	/* Leaf first, anchor last, as Apple's context holds them. */
	const struct msign_req_cert *certs;
	size_t ncerts;
	enum msign_req_anchor anchor;
	bool adhoc; /* ad-hoc: Apple's context has no certificates at all */
	/* Info.plist bound to the signature (XML or binary plist) and the
	 * signed entitlements (XML or binary plist). */
	const uint8_t *info_plist;
	size_t info_plist_len;
	const uint8_t *entitlements;
	size_t entitlements_len;
	/* The signature's RFC 3161 timestamp (legacy's secure timestamp),
	 * seconds since 1970 UTC. */
	bool has_secure_timestamp;
	int64_t secure_timestamp;
	/* The caller knows the cdhash is in the kernel's static trust cache
	 * (`anchor apple` is then true, as Apple's inTrustCache). Offline this
	 * is normally false. */
	bool in_trust_cache;
};

/* Opcodes whose answer lies outside the signature (bits of unknown_ops). */
#define MSIGN_REQ_UNKNOWN_NOTARIZED 0x1u  /* notarization ticket lookup */
#define MSIGN_REQ_UNKNOWN_LEGACY 0x2u     /* syspolicyd's legacy list */
#define MSIGN_REQ_UNKNOWN_TRUSTED 0x4u    /* Trust Settings database */
#define MSIGN_REQ_UNKNOWN_NAMED 0x8u      /* named anchor/code fragments */

struct msign_req_outcome {
	/* Apple's answer offline: every unknowable opcode false. */
	bool value;
	/* The answer depends on an unknowable opcode: with some other answer
	 * to it the requirement would evaluate differently (three-valued
	 * logic: false and X is false, true or X is true). */
	bool unknowable;
	unsigned unknown_ops; /* MSIGN_REQ_UNKNOWN_* met while evaluating */
};

/* Evaluate one requirement blob. <0 (diag one line, d->file_off relative to
 * blob) for a malformed blob, or for a context Apple would not have built:
 * a certificate that is not exactly one DER X.509 (MSIGN_E_CRYPTO, checked
 * before evaluating), a chain over 64, an Info.plist or entitlements that
 * is not a plist dictionary (MSIGN_E_PLIST, checked when an info[] or
 * entitlement[] opcode first needs it). Else 0 and *result is the
 * outcome's value. */
int msign_req_eval(const uint8_t *blob, size_t len,
		   const struct msign_req_ctx *ctx, bool *result,
		   struct msign_diag *d);
int msign_req_eval_outcome(const uint8_t *blob, size_t len,
			   const struct msign_req_ctx *ctx,
			   struct msign_req_outcome *out, struct msign_diag *d);
/* Evaluate the first entry of type (MSIGN_REQ_TYPE_DESIGNATED, ...) of a
 * requirement set (0xfade0c01). *found false (and out all false) when the
 * set has no such entry; the whole index is checked either way. */
int msign_reqset_eval(const uint8_t *blob, size_t len, uint32_t type,
		      const struct msign_req_ctx *ctx, bool *found,
		      struct msign_req_outcome *out, struct msign_diag *d);

#endif
