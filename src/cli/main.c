/* msign: the command table. Each command lives in src/cli/cmd_NAME.c and
 * parses its own options (see cli.h for how to add one). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "msign/version.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "show", cmd_show, "display the code signature of a Mach-O file or bundle (codesign -d)" },
	{ "strip", cmd_strip, "remove signatures (codesign --remove-signature)" },
	{ "sign", cmd_sign, "sign files and bundles, ad hoc or with a certificate (codesign -s)" },
	{ "verify", cmd_verify, "check hashes, trust and requirements (codesign --verify)" },
	{ "trace", cmd_trace, "trace system calls (dtruss; strace on Linux)" },
	{ "csreq", cmd_csreq, "compile and print code requirements (csreq)" },
	{ "codesign", cmd_codesign, "take codesign's command line (also as a link named codesign)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: msign <command> [options] FILE...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\nRun through a link named codesign, msign takes codesign's "
		     "command line\n(-s, -v, -d, --remove-signature ...).\n"
		     "'msign <command> --help' describes a command; "
		     "'man msign' has the details.\n");
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    strcmp(name, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0) {
		printf("msign %s\n", msign_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "msign: unknown command '%s'\n", cli_esc(name));
	usage(stderr);
	return EXIT_USAGE;
}

/* Build systems call codesign by name: a link named codesign is that
 * command line, whatever directory it is in. */
static bool called_as_codesign(const char *argv0)
{
	if (argv0 == NULL)
		return false;
	const char *base = strrchr(argv0, '/');
	return strcmp(base ? base + 1 : argv0, "codesign") == 0;
}

/* Started with stdin, stdout or stderr closed, the next file msign opens
 * (an output's temporary file, a pipe to a tool) would take that number,
 * and messages or a tool's dup2 would land in it. Each closed one gets
 * /dev/null opened the other way round: the number is taken, and reading
 * stdin or writing stdout fails (EBADF) as on the closed descriptor, so
 * ">&-" is still a write error. */
static int std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (n != fd) {
			if (n >= 0)
				close(n);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (std_fds_open() != 0)
		return 1;
	int rc = argc > 0 && called_as_codesign(argv[0]) ? cmd_codesign(argc, argv)
							  : run(argc, argv);
	/* Output that did not reach its file is a failure (as coreutils'
	 * close_stdout): > /dev/full must not exit 0. */
	if (cli_close_std() != 0 && rc == 0)
		rc = 1;
	return rc;
}
