/* STUB, to be replaced by the RFC 3161 client being written in parallel
 * (same file, interface in tsa.h). Until then every timestamp request
 * fails, so a signature asked to carry a timestamp is never written
 * without one. */
#include <stdlib.h>

#include "base/diag.h"
#include "sign/tsa.h"

int msign_tsa_request(const struct msign_tsa_opts *o, const uint8_t *data,
		      size_t len, uint8_t **token, size_t *token_len,
		      int64_t *gen_time, struct msign_diag *d)
{
	(void)o;
	(void)data;
	(void)len;
	(void)gen_time;
	*token = NULL;
	*token_len = 0;
	return msign_diag_set(d, MSIGN_E_UNSUPPORTED, 0, "timestamps not built");
}
