/* Bounds-checked cursor: see cur.h. Every getter checks before it reads and
 * leaves the cursor untouched on failure. */
#include <string.h>

#include "base/cur.h"
#include "msign/err.h"

static int cur_need(const struct msign_cur *c, size_t at, size_t n)
{
	return msign_range_ok(c->len, at, n) ? 0 : MSIGN_E_TRUNCATED;
}

int msign_cur_get_bytes(struct msign_cur *c, size_t n, const uint8_t **p)
{
	if (cur_need(c, c->off, n) != 0)
		return MSIGN_E_TRUNCATED;
	*p = c->base + c->off;
	c->off += n;
	return 0;
}

int msign_cur_skip(struct msign_cur *c, size_t n)
{
	if (cur_need(c, c->off, n) != 0)
		return MSIGN_E_TRUNCATED;
	c->off += n;
	return 0;
}

int msign_cur_seek(struct msign_cur *c, size_t at)
{
	if (at > c->len)
		return MSIGN_E_TRUNCATED;
	c->off = at;
	return 0;
}

int msign_cur_get_u8(struct msign_cur *c, uint8_t *v)
{
	const uint8_t *p;
	int r = msign_cur_get_bytes(c, 1, &p);
	if (r == 0)
		*v = p[0];
	return r;
}

int msign_cur_get_be16(struct msign_cur *c, uint16_t *v)
{
	const uint8_t *p;
	int r = msign_cur_get_bytes(c, 2, &p);
	if (r == 0)
		*v = msign_be16(p);
	return r;
}

int msign_cur_get_be32(struct msign_cur *c, uint32_t *v)
{
	const uint8_t *p;
	int r = msign_cur_get_bytes(c, 4, &p);
	if (r == 0)
		*v = msign_be32(p);
	return r;
}

int msign_cur_get_le32(struct msign_cur *c, uint32_t *v)
{
	const uint8_t *p;
	int r = msign_cur_get_bytes(c, 4, &p);
	if (r == 0)
		*v = msign_le32(p);
	return r;
}

int msign_cur_get_be64(struct msign_cur *c, uint64_t *v)
{
	const uint8_t *p;
	int r = msign_cur_get_bytes(c, 8, &p);
	if (r == 0)
		*v = msign_be64(p);
	return r;
}

int msign_cur_get_le64(struct msign_cur *c, uint64_t *v)
{
	const uint8_t *p;
	int r = msign_cur_get_bytes(c, 8, &p);
	if (r == 0)
		*v = msign_le64(p);
	return r;
}

int msign_cur_get_u32(struct msign_cur *c, bool be, uint32_t *v)
{
	return be ? msign_cur_get_be32(c, v) : msign_cur_get_le32(c, v);
}

int msign_cur_get_u64(struct msign_cur *c, bool be, uint64_t *v)
{
	return be ? msign_cur_get_be64(c, v) : msign_cur_get_le64(c, v);
}

int msign_cur_peek_u8(const struct msign_cur *c, size_t at, uint8_t *v)
{
	if (cur_need(c, at, 1) != 0)
		return MSIGN_E_TRUNCATED;
	*v = c->base[at];
	return 0;
}

int msign_cur_peek_be16(const struct msign_cur *c, size_t at, uint16_t *v)
{
	if (cur_need(c, at, 2) != 0)
		return MSIGN_E_TRUNCATED;
	*v = msign_be16(c->base + at);
	return 0;
}

int msign_cur_peek_be32(const struct msign_cur *c, size_t at, uint32_t *v)
{
	if (cur_need(c, at, 4) != 0)
		return MSIGN_E_TRUNCATED;
	*v = msign_be32(c->base + at);
	return 0;
}

int msign_cur_peek_be64(const struct msign_cur *c, size_t at, uint64_t *v)
{
	if (cur_need(c, at, 8) != 0)
		return MSIGN_E_TRUNCATED;
	*v = msign_be64(c->base + at);
	return 0;
}

int msign_cur_peek_u32(const struct msign_cur *c, size_t at, bool be,
		       uint32_t *v)
{
	if (cur_need(c, at, 4) != 0)
		return MSIGN_E_TRUNCATED;
	*v = be ? msign_be32(c->base + at) : msign_le32(c->base + at);
	return 0;
}

int msign_cur_peek_u64(const struct msign_cur *c, size_t at, bool be,
		       uint64_t *v)
{
	if (cur_need(c, at, 8) != 0)
		return MSIGN_E_TRUNCATED;
	*v = be ? msign_be64(c->base + at) : msign_le64(c->base + at);
	return 0;
}

int msign_cur_sub(const struct msign_cur *c, uint64_t at, uint64_t n,
		  struct msign_cur *out)
{
	if (!msign_range_ok(c->len, at, n))
		return MSIGN_E_BAD_RANGE;
	out->base = c->base + at;
	out->len = (size_t)n;
	out->off = 0;
	return 0;
}

int msign_cur_cstring(const struct msign_cur *c, size_t at, size_t maxlen,
		      const char **s, size_t *slen)
{
	if (at >= c->len)
		return MSIGN_E_BAD_RANGE;
	size_t avail = c->len - at;
	if (avail > maxlen)
		avail = maxlen;
	const uint8_t *start = c->base + at;
	const uint8_t *nul = memchr(start, 0, avail);
	if (nul == NULL)
		return MSIGN_E_TRUNCATED;
	*s = (const char *)start;
	if (slen != NULL)
		*slen = (size_t)(nul - start);
	return 0;
}
