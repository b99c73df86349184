/* The one bounds-checked cursor every read of file bytes goes through.
 *
 * A cursor is a window [base, base+len) with a position. Getters either
 * succeed and advance, or fail with MSIGN_E_TRUNCATED and change nothing.
 * peek_* read at an absolute offset in the window without moving. Byte
 * order is explicit at every call: Mach-O headers follow the file, fat
 * headers and code-signing blobs are big-endian. No pointer is formed from
 * an offset before the offset has been checked. */
#ifndef MSIGN_CUR_H
#define MSIGN_CUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msign_cur {
	const uint8_t *base;
	size_t len;
	size_t off;
};

/* The single range check: does [at, at+n) lie inside a window of len? */
static inline bool msign_range_ok(size_t len, uint64_t at, uint64_t n)
{
	return at <= len && n <= len - at;
}

static inline struct msign_cur msign_cur_make(const uint8_t *base, size_t len)
{
	struct msign_cur c = { base, len, 0 };
	return c;
}

static inline size_t msign_cur_left(const struct msign_cur *c)
{
	return c->len - c->off;
}

int msign_cur_get_u8(struct msign_cur *c, uint8_t *v);
int msign_cur_get_be16(struct msign_cur *c, uint16_t *v);
int msign_cur_get_be32(struct msign_cur *c, uint32_t *v);
int msign_cur_get_le32(struct msign_cur *c, uint32_t *v);
int msign_cur_get_be64(struct msign_cur *c, uint64_t *v);
int msign_cur_get_le64(struct msign_cur *c, uint64_t *v);
/* Reads in the byte order of a Mach-O: big when be is true. */
int msign_cur_get_u32(struct msign_cur *c, bool be, uint32_t *v);
int msign_cur_get_u64(struct msign_cur *c, bool be, uint64_t *v);
/* Points *p at the next n bytes (no copy) and advances. */
int msign_cur_get_bytes(struct msign_cur *c, size_t n, const uint8_t **p);
int msign_cur_skip(struct msign_cur *c, size_t n);
int msign_cur_seek(struct msign_cur *c, size_t at);

int msign_cur_peek_u8(const struct msign_cur *c, size_t at, uint8_t *v);
int msign_cur_peek_be16(const struct msign_cur *c, size_t at, uint16_t *v);
int msign_cur_peek_be32(const struct msign_cur *c, size_t at, uint32_t *v);
int msign_cur_peek_be64(const struct msign_cur *c, size_t at, uint64_t *v);
int msign_cur_peek_u32(const struct msign_cur *c, size_t at, bool be,
		       uint32_t *v);
int msign_cur_peek_u64(const struct msign_cur *c, size_t at, bool be,
		       uint64_t *v);

/* A checked sub-window [at, at+n) of c, positioned at its start. */
int msign_cur_sub(const struct msign_cur *c, uint64_t at, uint64_t n,
		  struct msign_cur *out);

/* A NUL-terminated string starting at `at` whose NUL lies inside the window
 * and within maxlen bytes. *s points into the window; *slen excludes NUL. */
int msign_cur_cstring(const struct msign_cur *c, size_t at, size_t maxlen,
		      const char **s, size_t *slen);

/* UB-free decoders for bytes already known to be in range. */
static inline uint16_t msign_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t msign_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t msign_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}
static inline uint64_t msign_be64(const uint8_t *p)
{
	return (uint64_t)msign_be32(p) << 32 | msign_be32(p + 4);
}
static inline uint64_t msign_le64(const uint8_t *p)
{
	return (uint64_t)msign_le32(p + 4) << 32 | msign_le32(p);
}
static inline void msign_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void msign_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline void msign_put_be64(uint8_t *p, uint64_t v)
{
	msign_put_be32(p, (uint32_t)(v >> 32));
	msign_put_be32(p + 4, (uint32_t)v);
}
static inline void msign_put_le64(uint8_t *p, uint64_t v)
{
	msign_put_le32(p, (uint32_t)v);
	msign_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Writes in the byte order of a Mach-O: big when be is true. */
static inline void msign_put_u32(uint8_t *p, bool be, uint32_t v)
{
	if (be)
		msign_put_be32(p, v);
	else
		msign_put_le32(p, v);
}
static inline void msign_put_u64(uint8_t *p, bool be, uint64_t v)
{
	if (be)
		msign_put_be64(p, v);
	else
		msign_put_le64(p, v);
}

#endif
