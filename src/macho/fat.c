/* Universal (fat) files, the image that owns the mapping, and Apple's
 * architecture names.
 *
 * The fat header is big-endian. Slices must lie inside the file, after the
 * header, and must not overlap each other. A slice whose Mach-O is broken
 * keeps its error in the slice; the container is still usable. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#ifdef __APPLE__
#include <sys/sysctl.h>
#endif

#include "base/cur.h"
#include "base/diag.h"
#include "macho/macho.h"
#include "sig/codesign.h" /* the SuperBlob header, to load a signature */

#define FAT_MAX_ALIGN 30u /* 1 GiB: anything larger is not a real layout */
#define CPU_SUBTYPE_MASK 0xff000000u

static const struct arch_entry {
	const char *name;
	int32_t cputype;
	int32_t subtype; /* compared with the capability bits masked */
} arch_table[] = {
	{ "i386", 7, 3 },           { "i486", 7, 4 },
	{ "i486SX", 7, 0x84 },      { "pentium", 7, 5 },
	{ "pentpro", 7, 0x16 },     { "pentIIm3", 7, 0x36 },
	{ "pentIIm5", 7, 0x56 },    { "pentium4", 7, 0x0a },
	{ "x86_64", 0x01000007, 3 }, { "x86_64h", 0x01000007, 8 },
	{ "ppc", 18, 0 },           { "ppc601", 18, 1 },
	{ "ppc603", 18, 3 },        { "ppc603e", 18, 4 },
	{ "ppc603ev", 18, 5 },      { "ppc604", 18, 6 },
	{ "ppc604e", 18, 7 },       { "ppc750", 18, 9 },
	{ "ppc7400", 18, 10 },      { "ppc7450", 18, 11 },
	{ "ppc970", 18, 100 },      { "ppc64", 0x01000012, 0 },
	{ "ppc970-64", 0x01000012, 100 },
	{ "m68k", 6, 1 },           { "m68030", 6, 3 },
	{ "m68040", 6, 2 },         { "hppa", 11, 0 },
	{ "hppa7100LC", 11, 1 },    { "m88k", 13, 0 },
	{ "sparc", 14, 0 },         { "i860", 15, 0 },
	{ "arm", 12, 0 },           { "armv4t", 12, 5 },
	{ "armv6", 12, 6 },         { "armv5", 12, 7 },
	{ "xscale", 12, 8 },        { "armv7", 12, 9 },
	{ "armv7f", 12, 10 },       { "armv7s", 12, 11 },
	{ "armv7k", 12, 12 },       { "armv8", 12, 13 },
	{ "armv6m", 12, 14 },       { "armv7m", 12, 15 },
	{ "armv7em", 12, 16 },      { "arm64", 0x0100000c, 0 },
	{ "arm64", 0x0100000c, 1 }, { "arm64e", 0x0100000c, 2 },
	{ "arm64_32", 0x0200000c, 1 },
};

#define ARCH_COUNT (sizeof(arch_table) / sizeof(arch_table[0]))

const char *msign_arch_name(int32_t cputype, int32_t cpusubtype)
{
	int32_t sub = (int32_t)((uint32_t)cpusubtype & ~CPU_SUBTYPE_MASK);
	for (size_t i = 0; i < ARCH_COUNT; i++)
		if (arch_table[i].cputype == cputype &&
		    arch_table[i].subtype == sub)
			return arch_table[i].name;
	/* Apple's table falls back to the family's generic entry. */
	switch (cputype) {
	case 7: return "i386";
	case 0x01000007: return "x86_64";
	case 18: return "ppc";
	case 0x01000012: return "ppc64";
	default: return NULL;
	}
}

const char *msign_arch_label(int32_t cputype, int32_t cpusubtype, char *buf,
			     size_t buflen)
{
	const char *n = msign_arch_name(cputype, cpusubtype);
	if (n != NULL)
		return n;
	snprintf(buf, buflen, "(%d:%d)", cputype, cpusubtype);
	return buf;
}

bool msign_arch_from_name(const char *name, int32_t *cputype,
			  int32_t *cpusubtype)
{
	for (size_t i = 0; i < ARCH_COUNT; i++)
		if (strcmp(arch_table[i].name, name) == 0) {
			*cputype = arch_table[i].cputype;
			*cpusubtype = arch_table[i].subtype;
			return true;
		}
	return false;
}

static int fat_cmp(const struct msign_slice *a, const struct msign_slice *b)
{
	if (a->cputype != b->cputype)
		return a->cputype < b->cputype ? -1 : 1;
	if (a->cpusubtype != b->cpusubtype)
		return a->cpusubtype < b->cpusubtype ? -1 : 1;
	return 0;
}

void msign_image_sorted(const struct msign_image *img, uint32_t *order)
{
	/* Insertion sort: stable, and n is at most MSIGN_MAX_SLICES. */
	for (uint32_t i = 0; i < img->nslices; i++) {
		uint32_t j = i;
		while (j > 0 &&
		       fat_cmp(&img->slices[order[j - 1]], &img->slices[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

/* "(cputype:subtype)" as msign_arch_label prints an unknown arch. */
static bool fat_label_parse(const char *name, int32_t *ct, int32_t *st)
{
	char tail;
	long a, b;
	if (name[0] != '(' ||
	    sscanf(name, "(%ld:%ld)%c", &a, &b, &tail) != 2 ||
	    a < INT32_MIN || a > INT32_MAX || b < INT32_MIN || b > INT32_MAX)
		return false;
	char canon[32];
	snprintf(canon, sizeof(canon), "(%ld:%ld)", a, b);
	if (strcmp(canon, name) != 0) /* no spaces, signs or zeros of its own */
		return false;
	*ct = (int32_t)a;
	*st = (int32_t)b;
	return true;
}

int msign_image_find_arch(const struct msign_image *img, const char *name)
{
	int32_t ct, st;
	if (fat_label_parse(name, &ct, &st)) {
		/* the label's numbers are the header's, subtype bits and all */
		for (uint32_t i = 0; i < img->nslices; i++)
			if (img->slices[i].cputype == ct &&
			    img->slices[i].cpusubtype == st)
				return (int)i;
		return -1;
	}
	if (!msign_arch_from_name(name, &ct, &st))
		return -1;
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[i];
		int32_t sub = (int32_t)((uint32_t)s->cpusubtype & ~CPU_SUBTYPE_MASK);
		if (s->cputype != ct)
			continue;
		/* "arm64" names subtypes 0 and 1 alike. */
		if (sub == st || (strcmp(name, "arm64") == 0 && sub <= 1))
			return (int)i;
	}
	return -1;
}

const char *msign_host_family_pick(const char *env, int hw_arm64,
				   const char *built_for)
{
	if (env != NULL && *env != '\0')
		return env;
	/* An x86_64 msign under Rosetta runs on an arm64 Mac: codesign there
	 * is arm64 and shows the arm64 slices. */
	if (hw_arm64 == 1)
		return "arm64";
	return built_for;
}

const char *msign_host_built_for(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return "x86_64";
#elif defined(__aarch64__) || defined(__arm64__)
	return "arm64";
#else
	return "other";
#endif
}

static const char *fat_host_family(void)
{
	int hw_arm64 = -1; /* unknown */
#ifdef __APPLE__
	int v = 0;
	size_t len = sizeof(v);
	if (sysctlbyname("hw.optional.arm64", &v, &len, NULL, 0) == 0)
		hw_arm64 = v == 1;
#endif
	return msign_host_family_pick(getenv("MSIGN_HOST_ARCH"), hw_arm64,
				      msign_host_built_for());
}

uint32_t msign_image_default_slice(const struct msign_image *img)
{
	const char *host = fat_host_family();
	const char *prefs[2] = { NULL, NULL };
	if (strcmp(host, "x86_64") == 0) {
		prefs[0] = "x86_64h";
		prefs[1] = "x86_64";
	} else if (strcmp(host, "arm64") == 0) {
		prefs[0] = "arm64e";
		prefs[1] = "arm64";
	}
	for (int p = 0; p < 2; p++) {
		if (prefs[p] == NULL)
			continue;
		int i = msign_image_find_arch(img, prefs[p]);
		if (i >= 0)
			return (uint32_t)i;
	}
	return 0;
}

/* The fat header and n arch entries (n <= MSIGN_MAX_SLICES: no overflow). */
static size_t fat_header_len(bool fat64, uint32_t n)
{
	return MSIGN_FAT_HEADER_LEN +
	       (size_t)n * (fat64 ? MSIGN_FAT_ARCH64_LEN : MSIGN_FAT_ARCH32_LEN);
}

static int fat_read_arch(const struct msign_cur *c, bool fat64, uint32_t i,
			 struct msign_slice *s, struct msign_diag *d)
{
	size_t at = fat_header_len(fat64, i); /* entry i follows i entries */
	uint32_t ct, st, align;
	uint64_t off, size;
	msign_cur_peek_be32(c, at + MSIGN_FAT_ARCH_OFF_CPUTYPE, &ct);
	msign_cur_peek_be32(c, at + MSIGN_FAT_ARCH_OFF_CPUSUBTYPE, &st);
	if (fat64) {
		msign_cur_peek_be64(c, at + MSIGN_FAT_ARCH_OFF_OFFSET, &off);
		msign_cur_peek_be64(c, at + MSIGN_FAT_ARCH64_OFF_SIZE, &size);
		msign_cur_peek_be32(c, at + MSIGN_FAT_ARCH64_OFF_ALIGN, &align);
	} else {
		uint32_t o32, s32;
		msign_cur_peek_be32(c, at + MSIGN_FAT_ARCH_OFF_OFFSET, &o32);
		msign_cur_peek_be32(c, at + MSIGN_FAT_ARCH32_OFF_SIZE, &s32);
		msign_cur_peek_be32(c, at + MSIGN_FAT_ARCH32_OFF_ALIGN, &align);
		off = o32;
		size = s32;
	}
	/* Outside the file: only this slice is unusable (kept in s->err). */
	if (!msign_range_ok(c->len, off, size))
		s->err = msign_diag_set(&s->diag, MSIGN_E_BAD_RANGE, at,
					"fat slice %u (offset %llu, size %llu) lies outside the %zu-byte file",
					i, (unsigned long long)off,
					(unsigned long long)size, c->len);
	if (align > FAT_MAX_ALIGN)
		return msign_diag_set(d, MSIGN_E_BAD_RANGE, at,
				      "fat slice %u alignment 2^%u is too large",
				      i, align);
	s->off = off;
	s->size = size;
	s->align = align;
	s->cputype = (int32_t)ct;
	s->cpusubtype = (int32_t)st;
	return 0;
}

/* ---- reading a file into memory msign owns -------------------------------
 *
 * An image opened from a file does not map the file: another process could
 * truncate or rewrite it while msign looks, and a field validated once
 * would change under the parser (or the read would raise SIGBUS). Instead
 * img->data is a private anonymous reservation as long as the file, and
 * the parts msign parses are read into it with pread just before the
 * parser looks at them: the fat header, each slice's mach header and load
 * commands, its signature (up to the SuperBlob's length) and its
 * __info_plist section. The rest stays untouched zero pages, which cost no
 * memory; code pages are hashed from the file descriptor (hashpool.c). */

#define IMG_SLICE_PEEK MSIGN_MH_HEADER64_LEN /* either mach header */
#define IMG_PAGE 4096u
#define IMG_POPULATE_MIN (256u << 10)

/* Read [off, off + n) of the file into dst. */
static int img_read(const struct msign_image *img, uint8_t *dst, uint64_t off,
		    uint64_t n, struct msign_diag *d)
{
#ifdef MADV_POPULATE_WRITE
	/* A large part (a CodeDirectory of megabytes): back its pages in one
	 * call instead of one fault per 4 KiB inside pread; best effort. */
	if (n >= IMG_POPULATE_MIN) {
		uintptr_t a = (uintptr_t)dst & ~(uintptr_t)(IMG_PAGE - 1);
		(void)madvise((void *)a, (size_t)((uintptr_t)dst + n - a),
			      MADV_POPULATE_WRITE);
	}
#endif
	uint64_t got = 0;
	while (got < n) {
		ssize_t k = pread(img->fd, dst + got, (size_t)(n - got),
				  (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return msign_diag_set(d, MSIGN_E_IO, off + got,
					      "reading the file: %s", strerror(errno));
		if (k == 0)
			return msign_diag_set(d, MSIGN_E_IO, off + got,
					      "the file is shorter than when it was opened (%llu of %zu bytes): it changed while msign read it",
					      (unsigned long long)(off + got), img->len);
		got += (uint64_t)k;
	}
	return 0;
}

/* Read [off, off + n) of the file (clamped to the image) into img->data.
 * A large part skips the file's holes: they read as zeros, which the
 * reservation already is, and reading them would back every page with
 * memory (a sparse file of a few KiB claiming a 3 GiB SuperBlob or
 * __info_plist cost 3 GiB). SEEK_DATA moves the descriptor's offset,
 * shared with the caller's descriptor: it is put back. */
static int img_load(struct msign_image *img, uint64_t off, uint64_t n,
		    struct msign_diag *d)
{
	if (img->fd < 0 || off >= img->len)
		return 0;
	if (n > img->len - off)
		n = img->len - off;
	uint8_t *dst = (uint8_t *)img->map + off;
#ifdef SEEK_DATA
	off_t keep = n >= IMG_POPULATE_MIN ? lseek(img->fd, 0, SEEK_CUR) : -1;
	if (keep >= 0) {
		uint64_t at = off, end = off + n;
		int r = 0;
		while (r == 0 && at < end) {
			off_t data = lseek(img->fd, (off_t)at, SEEK_DATA);
			if (data < 0) {
				struct stat st;
				/* ENXIO: a hole up to the end, or the file got shorter */
				if (errno == ENXIO && fstat(img->fd, &st) == 0 &&
				    (uint64_t)st.st_size >= end)
					at = end;
				break; /* else read what is left, which says why */
			}
			if ((uint64_t)data >= end) {
				at = end;
				break;
			}
			off_t hole = lseek(img->fd, data, SEEK_HOLE);
			uint64_t stop = hole < 0 || (uint64_t)hole > end ? end
									 : (uint64_t)hole;
			if (stop <= (uint64_t)data)
				stop = end;
			r = img_read(img, dst + ((uint64_t)data - off), (uint64_t)data,
				     stop - (uint64_t)data, d);
			at = stop;
		}
		(void)lseek(img->fd, keep, SEEK_SET);
		if (r != 0 || at >= end)
			return r;
		return img_read(img, dst + (at - off), at, end - at, d);
	}
#endif
	return img_read(img, dst, off, n, d);
}

/* A slice's mach header, then its load commands as the header sizes them
 * (the parser checks that size against the slice). */
static int img_load_slice(struct msign_image *img, uint64_t off, uint64_t size,
			  struct msign_diag *d)
{
	if (img->fd < 0)
		return 0;
	int r = img_load(img, off, size < IMG_SLICE_PEEK ? size : IMG_SLICE_PEEK, d);
	if (r || size < IMG_SLICE_PEEK)
		return r;
	struct msign_cur c = msign_cur_make(img->data + off, IMG_SLICE_PEEK);
	uint32_t magic = 0, ncmds_len = 0;
	msign_cur_peek_be32(&c, MSIGN_MH_OFF_MAGIC, &magic);
	bool be = magic == MSIGN_MH_MAGIC || magic == MSIGN_MH_MAGIC_64;
	bool le = magic == MSIGN_MH_CIGAM || magic == MSIGN_MH_CIGAM_64;
	if (!be && !le)
		return 0; /* the parser reports the magic */
	msign_cur_peek_u32(&c, MSIGN_MH_OFF_SIZEOFCMDS, be, &ncmds_len);
	uint64_t n = (uint64_t)IMG_SLICE_PEEK + ncmds_len;
	return img_load(img, off, n < size ? n : size, d);
}

/* What the readers of a parsed slice look at besides its load commands:
 * the signature and the embedded Info.plist. */
static int img_load_parts(struct msign_image *img, uint64_t off,
			  const struct msign_slice *s, struct msign_diag *d)
{
	if (img->fd < 0)
		return 0;
	int r = 0;
	if (s->has_codesig && msign_range_ok(s->size, s->cs_dataoff, s->cs_datasize)) {
		uint64_t at = off + s->cs_dataoff, n = s->cs_datasize;
		uint64_t head = n < MSIGN_SB_HEADER_LEN ? n : MSIGN_SB_HEADER_LEN;
		r = img_load(img, at, head, d);
		uint32_t sb_len = 0;
		struct msign_cur c = msign_cur_make(img->data + at, (size_t)head);
		if (r == 0 && msign_cur_peek_be32(&c, MSIGN_BLOB_OFF_LEN, &sb_len) == 0 &&
		    sb_len > MSIGN_SB_HEADER_LEN && sb_len < n)
			n = sb_len; /* nothing past the SuperBlob is parsed */
		if (r == 0 && n > MSIGN_SB_HEADER_LEN)
			r = img_load(img, at, n, d);
	}
	if (r == 0 && s->has_info_plist &&
	    msign_range_ok(s->size, s->info_plist_off, s->info_plist_size))
		r = img_load(img, off + s->info_plist_off, s->info_plist_size, d);
	return r;
}

static int fat_parse(struct msign_image *img, struct msign_diag *d)
{
	struct msign_cur c = msign_cur_make(img->data, img->len);
	uint32_t n;
	if (msign_cur_peek_be32(&c, MSIGN_FAT_OFF_NARCH, &n))
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "file of %zu bytes too short for a fat header",
				      img->len);
	if (n == 0 || n > MSIGN_MAX_SLICES)
		return msign_diag_set(d, MSIGN_E_LIMIT, MSIGN_FAT_OFF_NARCH,
				      "fat header claims %u architectures (1 to %d accepted)",
				      n, MSIGN_MAX_SLICES);
	size_t hdr_len = fat_header_len(img->fat64, n);
	if (hdr_len > img->len)
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "fat header with %u architectures needs %zu bytes but the file has %zu",
				      n, hdr_len, img->len);
	img->slices = calloc(n, sizeof(*img->slices));
	if (img->slices == NULL)
		return MSIGN_E_NOMEM;
	img->nslices = n;
	for (uint32_t i = 0; i < n; i++) {
		int r = fat_read_arch(&c, img->fat64, i, &img->slices[i], d);
		if (r)
			return r;
		const struct msign_slice *s = &img->slices[i];
		if (s->err != 0)
			continue;
		if (s->off < hdr_len && s->size > 0)
			return msign_diag_set(d, MSIGN_E_BAD_RANGE, 0,
					      "fat slice %u at offset %llu overlaps the fat header",
					      i, (unsigned long long)s->off);
		for (uint32_t j = 0; j < i; j++) {
			const struct msign_slice *o = &img->slices[j];
			if (o->err == 0 && s->off < o->off + o->size && o->off < s->off + s->size)
				return msign_diag_set(d, MSIGN_E_INVALID, 0,
						      "fat slices %u and %u overlap", j, i);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct msign_slice *s = &img->slices[i];
		if (s->err != 0)
			continue;
		struct msign_slice tmp;
		struct msign_diag sd;
		msign_diag_clear(&sd);
		int r = img_load_slice(img, s->off, s->size, d);
		if (r)
			return r; /* the file could not be read: not a slice error */
		r = msign_slice_parse(img->data + s->off, (size_t)s->size, &tmp,
				      &sd);
		if (r == 0 && (r = img_load_parts(img, s->off, &tmp, d)) != 0)
			return r;
		bool mismatch = r == 0 && tmp.cputype != s->cputype;
		if (mismatch) {
			r = msign_diag_set(&sd, MSIGN_E_INVALID, MSIGN_MH_OFF_CPUTYPE,
					   "slice cputype %d differs from the fat header's %d",
					   tmp.cputype, s->cputype);
		}
		/* sd was clear: its offset is the slice's; report the file's */
		msign_diag_rebase(&sd, true, s->off, r);
		/* The fat header's identity (names, order) wins, as in lipo. */
		tmp.off = s->off;
		tmp.align = s->align;
		tmp.cputype = s->cputype;
		tmp.cpusubtype = s->cpusubtype;
		tmp.data = img->data + s->off;
		tmp.size = s->size;
		tmp.err = r;
		tmp.diag = sd;
		tmp.cpu_mismatch = mismatch;
		*s = tmp;
	}
	return 0;
}

uint32_t msign_fat_align(const struct msign_slice *s)
{
	uint32_t a = s->align > MSIGN_FAT_MAX_LAYOUT_ALIGN
			     ? MSIGN_FAT_MAX_LAYOUT_ALIGN : s->align;
	/* A header claiming more than its own layout kept is not believed
	 * beyond what the slice's offset shows (lipo's own output always
	 * places a slice at a multiple of its alignment). */
	if (s->off != 0 && (uint32_t)__builtin_ctzll(s->off) < a)
		a = (uint32_t)__builtin_ctzll(s->off);
	return a;
}

size_t msign_fat_header_len(const struct msign_image *img)
{
	if (!img->is_fat)
		return 0;
	return fat_header_len(img->fat64, img->nslices);
}

/* Parse img->data; when img->fd >= 0 the bytes are read in (img_load_*)
 * just before the parser looks at them. */
static int img_parse(struct msign_image *img, struct msign_diag *d)
{
	const uint8_t *data = img->data;
	size_t len = img->len;
	int r = img_load(img, 0, fat_header_len(true, MSIGN_MAX_SLICES), d);
	if (r)
		return r;
	struct msign_cur c = msign_cur_make(data, len);
	uint32_t magic = 0;
	if (msign_cur_peek_be32(&c, MSIGN_MH_OFF_MAGIC, &magic))
		return msign_diag_set(d, MSIGN_E_TRUNCATED, 0,
				      "file of %zu bytes is too short for a Mach-O header",
				      len);
	if (magic == MSIGN_FAT_MAGIC || magic == MSIGN_FAT_MAGIC_64) {
		img->is_fat = true;
		img->fat64 = magic == MSIGN_FAT_MAGIC_64;
		r = fat_parse(img, d);
	} else {
		img->slices = calloc(1, sizeof(*img->slices));
		if (img->slices == NULL)
			return MSIGN_E_NOMEM;
		img->nslices = 1;
		r = img_load_slice(img, 0, len, d);
		if (r == 0)
			r = msign_slice_parse(data, len, &img->slices[0], d);
		if (r == 0)
			r = img_load_parts(img, 0, &img->slices[0], d);
	}
	return r;
}

int msign_image_parse(const uint8_t *data, size_t len,
		      struct msign_image **out, struct msign_diag *d)
{
	*out = NULL;
	struct msign_image *img = calloc(1, sizeof(*img));
	if (img == NULL)
		return MSIGN_E_NOMEM;
	img->data = data;
	img->len = len;
	img->fd = -1;
	int r = img_parse(img, d);
	if (r) {
		msign_image_free(img);
		return r;
	}
	*out = img;
	return 0;
}

int msign_image_open_fd(int fd, struct msign_image **out,
			struct msign_diag *d)
{
	*out = NULL;
	struct stat st;
	if (fstat(fd, &st) != 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s",
				      S_ISDIR(st.st_mode) ? "is a directory"
							  : "not a regular file");
	if (st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX / 2)
		return msign_diag_set(d, MSIGN_E_LIMIT, 0,
				      "file of %lld bytes is too large",
				      (long long)st.st_size);
	size_t len = (size_t)st.st_size;
	struct msign_image *img = calloc(1, sizeof(*img));
	if (img == NULL)
		return MSIGN_E_NOMEM;
	img->fd = -1;
	/* Address space only: pages are backed when pread fills them. */
	static const uint8_t empty[1];
	if (len > 0) {
		img->map = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (img->map == MAP_FAILED) {
			img->map = NULL;
			free(img);
			return msign_diag_set(d, MSIGN_E_NOMEM, 0,
					      "cannot reserve %zu bytes of address space: %s",
					      len, strerror(errno));
		}
		img->map_len = len;
	}
	img->data = img->map ? img->map : empty;
	img->len = len;
	/* Our own descriptor: the caller may close theirs. */
	img->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (img->fd < 0) {
		int e = errno;
		msign_image_free(img);
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(e));
	}
	int r = img_parse(img, d);
	/* Loaded: from now on nothing in the library writes these bytes. */
	if (r == 0 && img->map != NULL &&
	    mprotect(img->map, img->map_len, PROT_READ) != 0)
		r = msign_diag_set(d, MSIGN_E_IO, 0, "mprotect: %s", strerror(errno));
	if (r) {
		msign_image_free(img);
		return r;
	}
	*out = img;
	return 0;
}

int msign_input_open(const char *path, struct msign_diag *d)
{
	/* O_NONBLOCK: a FIFO or a device must not block the open; it is then
	 * refused by the fstat below, before anything reads from it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return msign_diag_set(d, MSIGN_E_IO, 0, "%s",
				      S_ISDIR(st.st_mode) ? "is a directory"
							  : "not a regular file");
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

int msign_image_open(const char *path, struct msign_image **out,
		     struct msign_diag *d)
{
	*out = NULL;
	int fd = msign_input_open(path, d);
	if (fd < 0)
		return fd;
	int r = msign_image_open_fd(fd, out, d);
	close(fd);
	return r;
}

void msign_image_free(struct msign_image *img)
{
	if (img == NULL)
		return;
	if (img->map != NULL)
		munmap(img->map, img->map_len);
	if (img->fd >= 0)
		close(img->fd);
	free(img->slices);
	free(img);
}

char *msign_image_format(const struct msign_image *img)
{
	char lbl[40];
	if (!img->is_fat) {
		const struct msign_slice *s = &img->slices[0];
		const char *a = msign_arch_label(s->cputype, s->cpusubtype, lbl,
						 sizeof(lbl));
		size_t n = strlen("Mach-O thin ()") + strlen(a) + 1;
		char *out = malloc(n);
		if (out != NULL)
			snprintf(out, n, "Mach-O thin (%s)", a);
		return out;
	}
	uint32_t order[MSIGN_MAX_SLICES];
	msign_image_sorted(img, order);
	size_t cap = strlen("Mach-O universal ()") + 1 +
		     (size_t)img->nslices * sizeof(lbl);
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	size_t used = (size_t)snprintf(out, cap, "Mach-O universal (");
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[order[i]];
		used += (size_t)snprintf(out + used, cap - used, "%s%s",
					 i ? " " : "",
					 msign_arch_label(s->cputype,
							  s->cpusubtype, lbl,
							  sizeof(lbl)));
	}
	snprintf(out + used, cap - used, ")");
	return out;
}
