/* Test-only builder of small 64-bit little-endian Mach-O images with an
 * optional embedded signature, so unit tests control every field. */
#ifndef MSIGN_TEST_BUILDER_H
#define MSIGN_TEST_BUILDER_H

#include <stdint.h>
#include <string.h>

#define TB_PAGE 4096u
#define TB_SIG_OFF 8192u   /* code: [0, 8192), two pages */
#define TB_CD_OFF 28u      /* CD inside the SuperBlob (1 index entry) */
#define TB_CD_HDR 88u      /* version 0x20400 header */
#define TB_IDENT "org.test"

static inline void tb_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void tb_le64(uint8_t *p, uint64_t v)
{
	tb_le32(p, (uint32_t)v);
	tb_le32(p + 4, (uint32_t)(v >> 32));
}
static inline void tb_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Layout: header(32) + LC_SEGMENT_64 __TEXT(72) + LC_SEGMENT_64
 * __LINKEDIT(72) + LC_CODE_SIGNATURE(16); signature at TB_SIG_OFF.
 * SuperBlob{1 entry: CD at 20? no: 12 + 8 = 20, CD at 28 after 8 pad}.
 * CD: v0x20400, sha256, 2 code slots, 0 special, ident at 88,
 * hashes at 88+16 = 104. Page hashes are left zero (tests that need
 * them compute and fill them). Returns the file length. */
#define TB_CMDS_SIZE (72u + 72u + 16u)
#define TB_HASH_OFF (TB_CD_HDR + 16u)
#define TB_CD_LEN (TB_HASH_OFF + 2u * 32u)
#define TB_SB_LEN (TB_CD_OFF + TB_CD_LEN)
#define TB_FILE_LEN (TB_SIG_OFF + TB_SB_LEN)

static inline size_t tb_build(uint8_t *f)
{
	memset(f, 0, TB_FILE_LEN);
	tb_le32(f, 0xfeedfacf);
	tb_le32(f + 4, 0x0100000c);     /* arm64 */
	tb_le32(f + 8, 0);
	tb_le32(f + 12, 2);             /* MH_EXECUTE */
	tb_le32(f + 16, 3);
	tb_le32(f + 20, TB_CMDS_SIZE);
	uint8_t *lc = f + 32;
	tb_le32(lc, 0x19); tb_le32(lc + 4, 72);
	memcpy(lc + 8, "__TEXT", 6);
	tb_le64(lc + 24, 0x100000000ull); tb_le64(lc + 32, 0x2000);
	tb_le64(lc + 40, 0); tb_le64(lc + 48, 0x2000);
	lc += 72;
	tb_le32(lc, 0x19); tb_le32(lc + 4, 72);
	memcpy(lc + 8, "__LINKEDIT", 10);
	tb_le64(lc + 24, 0x100002000ull); tb_le64(lc + 32, 0x4000);
	tb_le64(lc + 40, TB_SIG_OFF); tb_le64(lc + 48, TB_SB_LEN);
	lc += 72;
	tb_le32(lc, 0x1d); tb_le32(lc + 4, 16);
	tb_le32(lc + 8, TB_SIG_OFF); tb_le32(lc + 12, TB_SB_LEN);
	uint8_t *sb = f + TB_SIG_OFF;
	tb_be32(sb, 0xfade0cc0); tb_be32(sb + 4, TB_SB_LEN); tb_be32(sb + 8, 1);
	tb_be32(sb + 12, 0); tb_be32(sb + 16, TB_CD_OFF);
	uint8_t *cd = sb + TB_CD_OFF;
	tb_be32(cd, 0xfade0c02); tb_be32(cd + 4, TB_CD_LEN);
	tb_be32(cd + 8, 0x20400); tb_be32(cd + 12, 0x2);
	tb_be32(cd + 16, TB_HASH_OFF); tb_be32(cd + 20, TB_CD_HDR);
	tb_be32(cd + 24, 0); tb_be32(cd + 28, 2); tb_be32(cd + 32, TB_SIG_OFF);
	cd[36] = 32; cd[37] = 2; cd[38] = 0; cd[39] = 12;
	cd[64 + 7] = 0;                 /* execSegBase 0 */
	tb_be32(cd + 72 + 4, 0x2000);   /* execSegLimit */
	cd[80 + 7] = 1;                 /* MAIN_BINARY */
	memcpy(cd + TB_CD_HDR, TB_IDENT, sizeof(TB_IDENT));
	return TB_FILE_LEN;
}

#endif
