/* Shared by the command-line front end only: the library never prints. */
#ifndef MSIGN_CLI_H
#define MSIGN_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "macho/macho.h"
#include "msign/info.h"

/* How to add a command: write src/cli/cmd_NAME.c with
 * `int cmd_NAME(int argc, char **argv)` (argv[0] is the command name,
 * options parsed with getopt_long), declare it here and add a row to the
 * table in main.c. Exit codes: 0 ok, 1 failure, 2 usage, 3 requirement. */
int cmd_show(int argc, char **argv);
int cmd_strip(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_csreq(int argc, char **argv);
/* Apple's codesign command line, translated into the commands above. */
int cmd_codesign(int argc, char **argv);

#define EXIT_USAGE 2
#define EXIT_REQUIREMENT 3 /* codesign: a requirement does not hold */

/* codesign's message for a file that is not a usable Mach-O. */
#define MSG_FORMAT "object file format unrecognized, invalid, or unsuitable"

/* Open and parse path; on failure print "<path>: <why>" (plus the msign:
 * reason line) and return 1. */
int cli_open_image(const char *path, struct msign_image **img);

/* Lowercase hex of n bytes into out (2n+1 bytes); "" for p NULL. */
void cli_hex(const uint8_t *p, size_t n, char *out);
/* "Oct 1, 2021 at 9:31:44 PM" in the local time zone (TZ). */
void cli_date(time_t t, char *out, size_t outlen);

/* s made safe for one line of text output, for every string that came from
 * a file or names one: "\\" "\n" "\t" "\r" for those bytes, "\xHH" for the
 * other bytes below 0x20, 0x7f, C1 controls and bytes that are not valid
 * UTF-8; valid UTF-8 is kept. Returns s itself when nothing needs escaping,
 * else one of 4 buffers reused in turn (so one printf can take 4). */
const char *cli_esc(const char *s);
/* A byte below 0x20 or 0x7f in s (refused in identifiers we write). */
bool cli_has_control(const char *s);
/* Clear n bytes of a secret (a password, a PIN) so that the compiler
 * cannot drop the stores: explicit_bzero, or memset_s on macOS. */
void cli_wipe(void *p, size_t n);
/* The whole of path ("-": stdin, when dash_stdin) into a malloc'd buffer
 * with a NUL after its len bytes: 0, or -1 with errno (fopen's, EFBIG past
 * max bytes, EIO, ENOMEM). */
int cli_read_file(const char *path, bool dash_stdin, size_t max, uint8_t **buf,
		  size_t *len);
/* fflush(stdout), keeping the errno of the first failure for the exit. */
void cli_flush_stdout(void);
/* Flush and close fp; on failure print "msign: write error: NAME: why"
 * (no NAME for stdout) and return -1. */
int cli_close_out(FILE *fp, const char *name);
/* At exit: close stdout (as cli_close_out), check stderr; -1 on failure. */
int cli_close_std(void);

/* One file as show prints it: the library's model (msign/info.h) and
 * which slice is displayed. show's text and --json are two printers of
 * it; neither parses anything itself. */
struct msign_bundle;
struct show_file {
	const char *path;       /* as typed */
	const char *file;       /* the Mach-O read: path, or a bundle's main executable */
	struct msign_bundle *bundle; /* path is (the main executable of) a bundle */
	char *exec_path;        /* realpath, malloc'd */
	msign_info *info;       /* NULL when the file could not be read */
	uint32_t slice_idx;
	bool slice_chosen;      /* slice_idx names the displayed slice */
	const msign_info_slice *s;
	bool sig_ok;            /* s is signed and its signature is sound */
	const char *error;      /* codesign's message when not sig_ok */
	char reason[MSIGN_DIAG_MSG_LEN + 40]; /* precise reason + offset, or "" */
	char arch_msg[128];
};

int show_json(FILE *out, const struct show_file *f);
/* A JSON string of text as it is when it is UTF-8, else with every
 * non-ASCII byte as U+FFFD (jansson refuses invalid UTF-8); null for NULL. */
struct json_t;
struct json_t *cli_json_str(const char *text);
/* A bundle's facts as show --json's "bundle" member. */
struct json_t *cli_bundle_json(const struct msign_bundle *b);

#endif
