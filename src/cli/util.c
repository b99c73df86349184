/* Small formatting helpers of the command-line front end. */
/* memset_s, Apple's way to clear memory the compiler must not skip */
#define __STDC_WANT_LIB_EXT1__ 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	if (p == NULL) /* a digest the library could not compute (memory) */
		n = 0;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void cli_date(time_t t, char *out, size_t outlen)
{
	/* en_US medium style, as codesign prints in an English locale; not
	 * strftime, whose %b and %p follow the C library's locale. */
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, outlen, "%lld", (long long)t);
		return;
	}
	int h12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
	snprintf(out, outlen, "%s %d, %d at %d:%02d:%02d %s",
		 months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900, h12,
		 tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

int cli_open_image(const char *path, struct msign_image **img)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_image_open(path, img, &d);
	if (r == 0)
		return 0;
	if (r == MSIGN_E_IO)
		fprintf(stderr, "%s: %s\n", cli_esc(path), cli_esc(d.msg));
	else
		fprintf(stderr, "%s: %s\nmsign: %s (at offset %llu)\n",
			cli_esc(path), MSG_FORMAT, cli_esc(d.msg),
			(unsigned long long)d.file_off);
	return 1;
}

/* One byte sequence at p (n bytes left) that is valid UTF-8 in shortest
 * form, no surrogate, at most U+10FFFF: its length, else 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min, cp;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; min = 0x10000; cp = c & 0x07;
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
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls (U+0080..U+009F): terminals act on them too. */
	if (cp <= 0x9f)
		return 0;
	/* Bidirectional controls reorder what follows on the screen: a name
	 * holding U+202E could show "Authority=" text backwards, or hide its
	 * real end (the "Trojan Source" characters). */
	if (cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

/* Escaped form of s into out (NULL: only count); returns its length. */
static size_t esc_into(const unsigned char *s, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0, n = strlen((const char *)s);
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t u = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
		char two = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\t' ? 't'
			   : c == '\r' ? 'r' : 0;
		if (u > 0) {
			if (out)
				memcpy(out + o, s + i, u);
			o += u;
			i += u;
			continue;
		}
		if (two) {
			if (out) {
				out[o] = '\\';
				out[o + 1] = two;
			}
			o += 2;
		} else if (c < 0x20 || c >= 0x7f) {
			if (out) {
				out[o] = '\\';
				out[o + 1] = 'x';
				out[o + 2] = digits[c >> 4];
				out[o + 3] = digits[c & 0xf];
			}
			o += 4;
		} else {
			if (out)
				out[o] = (char)c;
			o++;
		}
		i++;
	}
	return o;
}

#define ESC_SLOTS 4

const char *cli_esc(const char *s)
{
	/* Round-robin buffers so one printf can take several results; they
	 * live until exit (a CLI run, not a library). */
	static char *slot[ESC_SLOTS];
	static size_t cap[ESC_SLOTS];
	static unsigned next;
	if (s == NULL)
		return "";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = esc_into(u, NULL);
	if (n == strlen(s))
		return s; /* nothing to escape (the common case) */
	unsigned k = next++ % ESC_SLOTS;
	if (n + 1 > cap[k]) {
		char *nb = realloc(slot[k], n + 1);
		if (nb == NULL)
			return "(out of memory)";
		slot[k] = nb;
		cap[k] = n + 1;
	}
	esc_into(u, slot[k]);
	slot[k][n] = '\0';
	return slot[k];
}

bool cli_has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* errno of the first failed fflush(stdout): glibc drops the buffer on a
 * failed write, so at exit the reason would be lost. */
static int stdout_errno;

void cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 && stdout_errno == 0)
		stdout_errno = errno;
}

static void write_error(const char *name, int err)
{
	fprintf(stderr, "msign: write error%s%s%s%s\n", name ? ": " : "",
		name ? cli_esc(name) : "", err ? ": " : "",
		err ? strerror(err) : "");
}

int cli_close_out(FILE *fp, const char *name)
{
	int err = 0;
	bool bad = false;
	errno = 0;
	if (fflush(fp) != 0) {
		bad = true;
		err = errno;
	} else if (ferror(fp)) {
		bad = true;
		err = fp == stdout ? stdout_errno : 0;
	}
	errno = 0;
	if (fclose(fp) != 0 && !bad) {
		bad = true;
		err = errno;
	}
	if (bad)
		write_error(name, err);
	return bad ? -1 : 0;
}

int cli_close_std(void)
{
	int r = 0;
	if (cli_close_out(stdout, NULL) != 0)
		r = -1;
	/* stderr cannot report its own failure; the exit status can. */
	if (fflush(stderr) != 0 || ferror(stderr))
		r = -1;
	return r;
}

void cli_wipe(void *p, size_t n)
{
#if defined(__APPLE__)
	(void)memset_s(p, n, 0, n);
#elif defined(__GLIBC__) || defined(__FreeBSD__) || defined(__OpenBSD__)
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
#endif
}

int cli_read_file(const char *path, bool dash_stdin, size_t max, uint8_t **buf,
		  size_t *len)
{
	bool std = dash_stdin && strcmp(path, "-") == 0;
	FILE *fp = std ? stdin : fopen(path, "rb");
	if (fp == NULL)
		return -1;
	size_t cap = 4096, n = 0;
	uint8_t *p = malloc(cap + 1);
	int e = p == NULL ? ENOMEM : 0;
	while (e == 0) {
		if (n == cap) {
			uint8_t *q = cap <= max ? realloc(p, cap * 2 + 1) : NULL;
			if (q == NULL) {
				e = cap <= max ? ENOMEM : EFBIG;
				break;
			}
			p = q;
			cap *= 2;
		}
		size_t got = fread(p + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (e == 0 && ferror(fp))
		e = EIO;
	else if (e == 0 && n > max)
		e = EFBIG;
	if (!std)
		fclose(fp);
	if (e != 0) {
		free(p);
		errno = e;
		return -1;
	}
	p[n] = 0; /* text callers may treat it as a string */
	*buf = p;
	*len = n;
	return 0;
}
