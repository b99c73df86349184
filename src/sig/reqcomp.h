/* Internal to the requirement compiler: the state shared by its lexer and
 * values (reqlex.c) and its parser and layout (reqcomp.c). */
#ifndef MSIGN_SIG_REQCOMP_H
#define MSIGN_SIG_REQCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msign/err.h"

#define REQ_HASH_LEN 20u      /* H"..." constants: SHA-1 sized, as Apple's */
/* 2001-01-01 (CFAbsoluteTime zero) in days after 1970-01-01. */
#define CF_EPOCH_DAYS 11323

/* Output is bounded by the text (at most a few bytes a text byte), so a
 * cap this size is never reached by input under MSIGN_REQ_MAX_TEXT_LEN. */
#define RC_MAX_BYTES (64u * 1024u * 1024u)

struct rc_bytes {
	uint8_t *p;
	size_t len, cap;
};

enum tok_kind {
	T_EOF, T_WORD, T_NUM, T_STR, T_HEXV, T_HASH, T_DATE,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_NOT, T_EQ, T_ARROW,
	T_LT, T_GT, T_LE, T_GE, T_TILDE, T_STAR, T_MINUS,
};

struct tok {
	enum tok_kind kind;
	size_t off, len; /* the token's bytes in the text (inside quotes for
			  * T_STR and T_HASH, inside <> for T_DATE) */
};

/* One node of the and/or/not tree; leaves point at their encoding. */
enum node_kind { N_LEAF, N_NOT, N_AND, N_OR };

struct node {
	enum node_kind kind;
	size_t src;            /* text offset, for errors */
	size_t enc_off, enc_len; /* N_LEAF: bytes in the pool */
	uint32_t first, last;  /* children (index + 1; 0 none) */
	uint32_t next;         /* next sibling (index + 1; 0 none) */
	uint32_t nkids;
};

struct rc {
	const char *s;
	size_t len;
	size_t pos;            /* lexer: next byte to read */
	struct tok t;          /* current token */
	unsigned depth;        /* parse nesting */
	uint32_t ops;          /* opcodes of the requirement being parsed */
	struct rc_bytes pool;  /* leaf encodings */
	struct node *nodes;
	uint32_t nnodes, cap;
	struct msign_diag *d;
};

/* "line L, column C: " and the message into r->d, offset off; returns code. */
int msign_rqc_rc_fail(struct rc *r, size_t off, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Room for add more bytes in b (LIMIT past RC_MAX_BYTES). */
int msign_rqc_bytes_reserve(struct rc *r, struct rc_bytes *b, size_t add);
/* Append n bytes to b. */
int msign_rqc_bytes_put(struct rc *r, struct rc_bytes *b, const void *p, size_t n);
/* v big-endian at p (patching a word already written). */
void msign_rqc_be32_at(uint8_t *p, uint32_t v);
/* Append v, big-endian. */
int msign_rqc_bytes_u32(struct rc *r, struct rc_bytes *b, uint32_t v);
/* ASCII class tests, whatever the locale. */
bool msign_rqc_is_digit(char c);
/* 0..15, or -1 for a byte that is not a hex digit. */
int msign_rqc_hexval(char c);
/* Read the next token into r->t. */
int msign_rqc_lex(struct rc *r);
/* The current token is the bare word word. */
bool msign_rqc_tok_is(const struct rc *r, const char *word);
/* Offset of the current token, its opening quote or bracket included. */
size_t msign_rqc_tok_start(const struct rc *r);
/* "expected WHAT but found <token>" at the current token. */
int msign_rqc_expected(struct rc *r, const char *what);
/* Consume a token of kind k, or fail as msign_rqc_expected. */
int msign_rqc_expect(struct rc *r, enum tok_kind k, const char *what);
/* Kind of the token after the current one (T_EOF if unreadable). */
enum tok_kind msign_rqc_peek_kind(struct rc *r);
/* The current token can be a string value. */
bool msign_rqc_tok_is_value(const struct rc *r);
/* Decode the current value token, appended to out. */
int msign_rqc_value_bytes(struct rc *r, struct rc_bytes *out);
/* A data item into r->pool: u32 length, bytes, zeros to 4. */
int msign_rqc_pool_data(struct rc *r, const uint8_t *p, size_t n);
/* The current token as a data item into the pool, then the next token. */
int msign_rqc_value(struct rc *r, const char *what);
/* H"<40 hex digits>" as a data item into the pool. */
int msign_rqc_hash(struct rc *r);
/* An optionally negative decimal int32. */
int msign_rqc_int32_value(struct rc *r, const char *what, int32_t *v);
/* <date> or timestamp "date": 8 big-endian bytes of CFAbsoluteTime. */
int msign_rqc_date(struct rc *r);
/* The current token starts a date. */
bool msign_rqc_tok_is_date(const struct rc *r);

#endif
