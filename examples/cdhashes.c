/* cdhashes: what a program built on libmsign looks like.
 *
 *   cdhashes FILE...
 *
 * prints one line per signed slice of each FILE, in fat-header order:
 *
 *   ARCH CDHASH IDENTIFIER TEAM
 *
 * ARCH as `msign show` names it (msign_slice_arch), CDHASH the 40 hex
 * digits codesign prints as CDHash= (the chosen CodeDirectory's digest,
 * cut to 20 bytes), TEAM `-` when the CodeDirectory names none. Unsigned
 * slices print nothing. Strings from the file are escaped as `msign show`
 * escapes them (\\ \n \t \r, \xHH for other control bytes, C1 controls and
 * invalid UTF-8), and a space as \x20 so that the four fields stay
 * separable. A file or slice that cannot be read prints one line on
 * stderr; the exit status is then 1, after every FILE was tried.
 *
 * Only the installed headers and the public API are used. Build:
 *   cc -std=c11 cdhashes.c $(pkg-config --cflags --libs msign) -o cdhashes */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <msign/msign.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes) that is not a
 * C1 control, or 0. */
static size_t utf8_ok(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned long cp, min;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
		return 0;
	return len;
}

/* space: also escape ' ' (for the space-separated fields of stdout). */
static void put_escaped(FILE *f, const char *str, bool space)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	for (size_t i = 0; i < n;) {
		size_t u = s[i] >= 0x80 ? utf8_ok(s + i, n - i) : 0;
		if (u > 0) {
			fwrite(s + i, 1, u, f);
			i += u;
			continue;
		}
		unsigned c = s[i++];
		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c >= 0x7f || (space && c == ' '))
			fprintf(f, "\\x%02x", c);
		else
			putc((int)c, f);
	}
}

/* One stderr line for a file or a slice that could not be read: the
 * error's sentence and the library's reason (which may quote file bytes).
 * A file that cannot be opened or read says only why, as codesign does
 * ("PATH: No such file or directory"): the reason is the system's. */
static void report(const char *path, const char *arch, int r,
		   const struct msign_diag *d)
{
	fputs("cdhashes: ", stderr);
	put_escaped(stderr, path, false);
	if (arch != NULL)
		fprintf(stderr, ": %s", arch);
	if (r != MSIGN_E_IO || d->msg[0] == '\0')
		fprintf(stderr, ": %s", msign_strerror(r));
	if (d->msg[0] != '\0') {
		fputs(": ", stderr);
		put_escaped(stderr, d->msg, false);
	}
	putc('\n', stderr);
}

static int show_file(const char *path)
{
	msign_info *info = NULL;
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_info_open(path, &info, &d);
	if (r != 0) {
		report(path, NULL, r, &d);
		return 1;
	}
	int status = 0;
	for (uint32_t i = 0; i < msign_info_slice_count(info); i++) {
		const msign_info_slice *s = msign_info_slice_at(info, i);
		const char *arch = msign_slice_arch(s);
		/* A fat slice or a signature that is damaged keeps its error;
		 * the other slices are still usable. */
		const struct msign_diag *why;
		r = msign_slice_sig_status(s, &why);
		if (r == MSIGN_E_NOT_SIGNED)
			continue;
		if (r != 0) {
			report(path, arch, r, why);
			status = 1;
			continue;
		}
		const msign_info_cd *cd = msign_slice_chosen_cd(s);
		size_t len;
		const uint8_t *cdhash = msign_cd_cdhash(cd, &len);
		printf("%s ", arch);
		for (size_t k = 0; k < 20 && k < len; k++)
			printf("%02x", cdhash[k]);
		putchar(' ');
		put_escaped(stdout, msign_cd_identifier(cd), true);
		putchar(' ');
		if (msign_cd_team(cd) != NULL)
			put_escaped(stdout, msign_cd_team(cd), true);
		else
			putchar('-');
		putchar('\n');
	}
	msign_info_free(info);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: cdhashes FILE...\n");
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++)
		status |= show_file(argv[i]);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cdhashes: write error\n");
		status = 1;
	}
	return status;
}
