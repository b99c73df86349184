/* msign csreq: compile and print code requirements, as Apple's csreq(1):
 * -r takes =TEXT or a file of text or binary, -b writes the binary, -t
 * prints the text (through the decompiler, so what -t shows is what the
 * binary says). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sig/codesign.h"
#include "sig/req.h"

/* Binary input is a requirement or a set; bigger than any real one by far,
 * and the text limit of the compiler is smaller still. */
#define CSREQ_MAX_FILE (16u * 1024u * 1024u)

static void csreq_usage(FILE *out)
{
	fprintf(out,
		"usage: msign csreq -r REQ [-b OUT] [-t]\n"
		"  -r, --requirement REQ  =TEXT, or a file holding text or binary\n"
		"                         (\"-\": standard input)\n"
		"  -b, --binary OUT       write the binary form to OUT (\"-\": stdout)\n"
		"  -t, --text             print the text form\n"
		"With neither -b nor -t the requirement is only checked.\n");
}

/* The whole of path (or stdin for "-") into *buf, at most CSREQ_MAX_FILE. */
static int csreq_read(const char *path, uint8_t **buf, size_t *len)
{
	if (cli_read_file(path, true, CSREQ_MAX_FILE, buf, len) == 0)
		return 0;
	if (errno == EFBIG)
		fprintf(stderr, "msign csreq: %s: larger than %u bytes\n", cli_esc(path),
			CSREQ_MAX_FILE);
	else if (errno == EIO)
		fprintf(stderr, "msign csreq: %s: read error\n", cli_esc(path));
	else
		fprintf(stderr, "msign csreq: %s: %s\n", cli_esc(path), strerror(errno));
	return 1;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The text form of a requirement or set blob, through the decompiler. */
static int csreq_decompile(const uint8_t *blob, size_t len, char **text,
			   struct msign_diag *d)
{
	if (len >= 4 && be32(blob) == MSIGN_CSMAGIC_REQUIREMENTS) {
		uint32_t count;
		bool dr;
		return msign_reqset_decompile(blob, len, text, &count, &dr, d);
	}
	return msign_req_decompile(blob, len, text, d);
}

static int csreq_write(const char *path, const uint8_t *p, size_t n)
{
	bool std = strcmp(path, "-") == 0;
	FILE *fp = std ? stdout : fopen(path, "wb");
	if (fp == NULL) {
		fprintf(stderr, "msign csreq: %s: %s\n", cli_esc(path), strerror(errno));
		return 1;
	}
	if (fwrite(p, 1, n, fp) != n && !std) {
		fclose(fp);
		fprintf(stderr, "msign csreq: write error: %s\n", cli_esc(path));
		return 1;
	}
	return std ? 0 : (cli_close_out(fp, path) != 0);
}

static int csreq_run(const char *req, const char *bin_out, bool text_out)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	uint8_t *input = NULL, *blob = NULL;
	size_t input_len = 0, blob_len = 0;
	char *text = NULL;
	int rc;
	if (req[0] == '=') {
		rc = msign_req_compile(req + 1, strlen(req + 1), MSIGN_REQ_COMPILE_ANY,
				       &blob, &blob_len, &d);
	} else {
		if (csreq_read(req, &input, &input_len) != 0)
			return 1;
		uint32_t magic = input_len >= 4 ? be32(input) : 0;
		if (magic == MSIGN_CSMAGIC_REQUIREMENT || magic == MSIGN_CSMAGIC_REQUIREMENTS) {
			/* Binary: checked by decompiling it, written as it is. */
			blob = input;
			blob_len = input_len;
			input = NULL;
			rc = csreq_decompile(blob, blob_len, &text, &d);
		} else {
			rc = msign_req_compile((const char *)input, input_len,
					       MSIGN_REQ_COMPILE_ANY, &blob, &blob_len, &d);
		}
	}
	free(input);
	if (rc == 0 && text_out && text == NULL)
		rc = csreq_decompile(blob, blob_len, &text, &d);
	if (rc != 0) {
		fprintf(stderr, "msign csreq: %s\n", cli_esc(d.msg));
		free(blob);
		free(text);
		return 1;
	}
	int out = 0;
	if (bin_out != NULL)
		out = csreq_write(bin_out, blob, blob_len);
	if (out == 0 && text_out) {
		/* Line by line: cli_esc would escape the newlines that end a
		 * set's entries. */
		char *line = text;
		do {
			char *nl = strchr(line, '\n');
			if (nl != NULL)
				*nl = '\0';
			if (nl != NULL || line[0] != '\0' || line == text)
				printf("%s\n", cli_esc(line));
			line = nl != NULL ? nl + 1 : NULL;
		} while (line != NULL && line[0] != '\0');
	}
	free(blob);
	free(text);
	return out;
}

int cmd_csreq(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "requirement", required_argument, NULL, 'r' },
		{ "binary", required_argument, NULL, 'b' },
		{ "text", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *req = NULL, *bin_out = NULL;
	bool text_out = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "r:b:th", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': req = optarg; break;
		case 'b': bin_out = optarg; break;
		case 't': text_out = true; break;
		case 'h': csreq_usage(stdout); return 0;
		default:
			fprintf(stderr, "msign csreq: invalid option '%s'\n",
				cli_esc(argv[optind - 1]));
			csreq_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (req == NULL || optind != argc) {
		if (req == NULL)
			fprintf(stderr, "msign csreq: -r REQ is required\n");
		else
			fprintf(stderr, "msign csreq: unexpected argument '%s'\n",
				cli_esc(argv[optind]));
		csreq_usage(stderr);
		return EXIT_USAGE;
	}
	if (bin_out != NULL && text_out && strcmp(bin_out, "-") == 0) {
		fprintf(stderr, "msign csreq: -b - and -t both write to stdout\n");
		return EXIT_USAGE;
	}
	return csreq_run(req, bin_out, text_out);
}
