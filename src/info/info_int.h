/* msign: the model's internals, shared by info.c (reading a file into the
 * model) and info_slice.c (the accessors), and the model built from an
 * image another layer already read. */
#ifndef MSIGN_INFO_INFO_INT_H
#define MSIGN_INFO_INFO_INT_H

#include "macho/macho.h"
#include "msign/info.h"
#include "sig/cms.h"
#include "sig/codesign.h"

#include <pthread.h>
#include <stdbool.h>

/* The model of img, which it takes (freed with the model, or here on
 * failure): verify describes the very bytes it checked. */
int msign_info_adopt(struct msign_image *img, msign_info **out,
		     struct msign_diag *d);

/* The digests (CDHash, CMSDigest, the implicit designated requirement
 * built from CDHashes) are computed on first use, under the handle's
 * lock: show of one small slice of a universal file must not hash the
 * megabytes of another slice's CodeDirectory. Everything else is fixed at
 * open. */
struct msign_info_cd {
	struct msign_codedir cd;
	struct msign_info *info;
	bool hashed; /* cd.cdhash holds the digest (cd.cdhash_len != 0) */
};

struct msign_info_cert {
	struct msign_cert c;
};

struct info_ent {
	char *key;
	enum msign_ent_type type;
	bool b;
	char *str; /* MSIGN_ENT_STRING */
};

struct msign_info_slice {
	struct msign_info *info; /* its file, for the lock */
	const struct msign_slice *s;
	struct msign_slice own; /* s for a cpu_mismatch slice: err cleared */
	char arch[40];

	int sig_err; /* 0, MSIGN_E_NOT_SIGNED, or the damage */
	struct msign_diag sig_diag;
	struct msign_sig sig;
	struct msign_info_cd cds[MSIGN_MAX_CDS];
	bool cms_digest_done, has_cms_digest; /* lazy, under info->lock */
	uint8_t cms_digest[32];
	enum msign_sig_kind kind;

	bool has_cms;
	struct msign_diag cms_diag; /* code != 0: the CMS blob is damaged */
	struct msign_cms_info cms;
	struct msign_info_cert certs[MSIGN_CMS_MAX_CERTS];

	struct msign_diag req_diag;
	char *req_text;
	char *dr;          /* the explicit one, fixed at open */
	char *implicit;    /* derived when dr is NULL: lazy, under the lock */
	bool implicit_done;

	char *ent_xml;
	size_t ent_xml_len;
	struct msign_diag ent_diag;
	struct info_ent *ents;
	uint32_t nents;

	bool info_plist;
	uint32_t info_plist_entries;

	struct msign_diag blob_diag;
};

struct msign_info {
	pthread_mutex_t lock; /* the lazy digests */
	struct msign_image *img;
	char *format;
	uint32_t default_slice;
	struct msign_info_slice *slices; /* img->nslices */
};

/* The CodeDirectory's digest, computed once; the caller holds the lock. */
int msign_info_cd_hash_locked(struct msign_info_cd *c);
/* The implicit designated requirement of slice idx (malloc'd, NULL when
 * it cannot be derived); the caller holds the lock. */
char *msign_info_implicit_dr(struct msign_info *info, uint32_t idx);

#endif
