/* Shared by the command-line front end only: the library never prints. */
#ifndef MSIGN_CLI_H
#define MSIGN_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "sig/codesign.h"
#include "sig/req.h"
#include "sig/cms.h"
#include "sig/ent.h"
#include "hash/hash.h"

/* How to add a command: write src/cli/cmd_NAME.c with
 * `int cmd_NAME(int argc, char **argv)` (argv[0] is the command name,
 * options parsed with getopt_long), declare it here and add a row to the
 * table in main.c. Exit codes: 0 ok, 1 failure, 2 usage, 3 requirement. */
int cmd_show(int argc, char **argv);
int cmd_strip(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_trace(int argc, char **argv);

#define EXIT_USAGE 2

/* codesign's message for a file that is not a usable Mach-O. */
#define MSG_FORMAT "object file format unrecognized, invalid, or unsuitable"

/* Open and parse path; on failure print "<path>: <why>" (plus the msign:
 * reason line) and return 1. */
int cli_open_image(const char *path, struct msign_image **img);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void cli_hex(const uint8_t *p, size_t n, char *out);
/* "Oct 1, 2021 at 9:31:44 PM" in the local time zone (TZ). */
void cli_date(time_t t, char *out, size_t outlen);
/* CodeDirectory flag names as codesign prints them: "adhoc,runtime". */
void cli_cd_flags(uint32_t flags, char *out, size_t outlen);

/* s made safe for one line of text output, for every string that came from
 * a file or names one: "\\" "\n" "\t" "\r" for those bytes, "\xHH" for the
 * other bytes below 0x20, 0x7f, C1 controls and bytes that are not valid
 * UTF-8; valid UTF-8 is kept. Returns s itself when nothing needs escaping,
 * else one of 4 buffers reused in turn (so one printf can take 4). */
const char *cli_esc(const char *s);
/* A byte below 0x20 or 0x7f in s (refused in identifiers we write). */
bool cli_has_control(const char *s);
/* fflush(stdout), keeping the errno of the first failure for the exit. */
void cli_flush_stdout(void);
/* Flush and close fp; on failure print "msign: write error: NAME: why"
 * (no NAME for stdout) and return -1. */
int cli_close_out(FILE *fp, const char *name);
/* At exit: close stdout (as cli_close_out), check stderr; -1 on failure. */
int cli_close_std(void);

/* Everything known about the displayed slice of one file. */
struct show_file {
	const char *path;       /* as typed */
	char *exec_path;        /* realpath, malloc'd */
	struct msign_image *img;
	uint32_t slice_idx;
	bool slice_chosen;      /* slice_idx names the displayed slice */
	const struct msign_slice *s;
	struct msign_sig sig;
	bool sig_ok;            /* sig holds the shown slice's valid signature */
	const char *error;      /* codesign's message when not sig_ok */
	char reason[MSIGN_DIAG_MSG_LEN + 40]; /* precise reason + offset, or "" */
	char arch_msg[128];
	bool has_cms;           /* CMS payload present and parsed */
	int cms_err;            /* parse failure of a present CMS blob */
	char cms_msg[MSIGN_DIAG_MSG_LEN];
	struct msign_cms_info cms;
};

/* "Mach-O thin (arm64)" / "Mach-O universal (x86_64 arm64e)". */
void show_format(const struct msign_image *img, char *out, size_t outlen);
/* The implicit designated requirement codesign would print (malloc'd). */
char *show_implicit_dr(const struct show_file *f);
/* Entitlements as XML text (malloc'd), NULL if none; *err on failure. */
char *show_entitlements_xml(const struct show_file *f, int *err,
			    struct msign_diag *d);
/* The signature kind: "adhoc", "cms" or "none". */
const char *show_sig_kind(const struct show_file *f);
int show_json(FILE *out, const struct show_file *f);

#endif
