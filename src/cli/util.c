/* Small formatting helpers of the command-line front end. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
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

void cli_cd_flags(uint32_t flags, char *out, size_t outlen)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ 0x1, "host" },        { 0x2, "adhoc" },
		{ 0x100, "hard" },      { 0x200, "kill" },
		{ 0x400, "expires" },   { 0x800, "restrict" },
		{ 0x1000, "enforcement" }, { 0x2000, "library-validation" },
		{ 0x10000, "runtime" }, { 0x20000, "linker-signed" },
	};
	size_t used = 0;
	uint32_t left = flags;
	out[0] = '\0';
	if (flags == 0) {
		snprintf(out, outlen, "none");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		left &= ~names[i].bit;
		int n = snprintf(out + used, outlen - used, "%s%s",
				 used ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= outlen - used)
			return;
		used += (size_t)n;
	}
	if (left != 0)
		snprintf(out + used, outlen - used, "%s???", used ? "," : "");
}

int cli_open_image(const char *path, struct msign_image **img)
{
	struct msign_diag d;
	msign_diag_clear(&d);
	int r = msign_image_open(path, img, &d);
	if (r == 0)
		return 0;
	if (r == MSIGN_E_IO)
		fprintf(stderr, "%s: %s\n", path, d.msg);
	else
		fprintf(stderr, "%s: %s\nmsign: %s (at offset %llu)\n", path,
			MSG_FORMAT, d.msg, (unsigned long long)d.file_off);
	return 1;
}
