/* Test driver of msign_tsa_request (tests/tsa/run.sh):
 *   tsa_client URL DATAFILE TOKENOUT [TIMEOUT_S ATTEMPTS DELAY_MS]
 * asks URL for a token over DATAFILE's bytes. Success: writes the token
 * to TOKENOUT, prints "ok GENTIME" (Unix seconds), exits 0. Failure:
 * prints the diagnostic's message and exits with -code (MSIGN_E_IO: 10,
 * MSIGN_E_CRYPTO: 6, ...), after checking that code and diagnostic agree
 * and that no token was handed out. URL "-" passes NULL (the default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msign/err.h"
#include "sign/tsa.h"

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v > 100000) {
		fprintf(stderr, "tsa_client: bad number '%s'\n", s);
		exit(100);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static uint8_t data[1 << 16];
	struct msign_tsa_opts o = { 0 };
	struct msign_diag d;
	uint8_t *token = (uint8_t *)"not set";
	size_t token_len = 12345, n;
	int64_t gen = -1;
	FILE *f;

	if (argc != 4 && argc != 7) {
		fprintf(stderr, "usage: tsa_client URL DATAFILE TOKENOUT [TIMEOUT_S ATTEMPTS DELAY_MS]\n");
		return 100;
	}
	o.url = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
	if (argc == 7) {
		o.timeout_s = num(argv[4]);
		o.attempts = num(argv[5]);
		o.retry_delay_ms = num(argv[6]);
	}
	if ((f = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 100;
	}
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	msign_diag_clear(&d);
	int r = msign_tsa_request(&o, data, n, &token, &token_len, &gen, &d);
	if (r < 0) {
		if (d.code != r || d.msg[0] == '\0' || token != NULL || token_len != 0) {
			fprintf(stderr, "tsa_client: return %d but diag code %d, token %p len %zu\n",
				r, d.code, (void *)token, token_len);
			return 101;
		}
		printf("%s\n", d.msg);
		return -r;
	}
	if (r != 0 || d.code != 0 || token == NULL || token_len == 0 || gen < 0) {
		fprintf(stderr, "tsa_client: success %d with diag %d '%s'\n", r, d.code, d.msg);
		return 101;
	}
	if ((f = fopen(argv[3], "wb")) == NULL || fwrite(token, 1, token_len, f) != token_len ||
	    fclose(f) != 0) {
		perror(argv[3]);
		return 100;
	}
	free(token);
	printf("ok %lld\n", (long long)gen);
	return 0;
}
