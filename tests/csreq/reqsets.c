/* Writes the requirement set of every signed slice of each FILE to
 * DIR/<n>.bin and prints "<n> <slice> FILE" a line, for tests/csreq/run.sh.
 * The bytes come from the library's own reader (msign_sig_parse), exactly
 * as they are signed; a file or slice that does not parse is skipped (it
 * has no requirement set to compare). */
#include <stdio.h>

#include "macho/macho.h"
#include "sig/codesign.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: reqsets DIR FILE...\n");
		return 2;
	}
	unsigned n = 0;
	for (int i = 2; i < argc; i++) {
		struct msign_diag d;
		msign_diag_clear(&d);
		struct msign_image *img = NULL;
		if (msign_image_open(argv[i], &img, &d) != 0)
			continue;
		for (uint32_t s = 0; s < img->nslices; s++) {
			static struct msign_sig sig;
			msign_diag_clear(&d);
			if (img->slices[s].err != 0 ||
			    msign_sig_parse(&img->slices[s], &sig, &d) != 0 ||
			    sig.requirements == NULL)
				continue;
			char path[4096];
			snprintf(path, sizeof(path), "%s/%u.bin", argv[1], n);
			FILE *fp = fopen(path, "wb");
			if (fp == NULL || fwrite(sig.requirements->data, 1,
						 sig.requirements->len, fp) != sig.requirements->len ||
			    fclose(fp) != 0) {
				perror(path);
				return 1;
			}
			printf("%u %u %s\n", n++, s, argv[i]);
		}
		msign_image_free(img);
	}
	return 0;
}
