/* msign: umbrella header, every public header of libmsign (docs/api.md). */
#ifndef MSIGN_H
#define MSIGN_H
#include "msign/err.h"     /* error codes, struct msign_diag */
#include "msign/version.h" /* MSIGN_VERSION_*, MSIGN_ABI, msign_version() */
#include "msign/cs.h"      /* Apple's code-signing constants, MSIGN_ prefixed */
#include "msign/info.h"    /* reading: the signing-information model */
#include "msign/sign.h"    /* writing: signing and stripping files */
#include "msign/verify.h"  /* verifying files */
#include "msign/bundle.h"  /* bundles: reading, signing, verifying */
#endif
