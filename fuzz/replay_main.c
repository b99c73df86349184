/* Standalone driver for fuzz targets, so `make check` exercises them
 * without libFuzzer:
 *   REPLAY [--jobs N] [--budget SECONDS] [--plain PATH...] [--mutate PATH...]
 * Every file named (or found in a named folder, not recursively) runs once
 * as it is. Files after --mutate (the default) are then also truncated at
 * 61 lengths, and each 32-bit word of their first KiB and of each
 * signature's first KiB is replaced by the values that break length
 * arithmetic (0, 1, 0x7fffffff, 0x80000000, 0xffffffff; both byte orders,
 * 8 distinct patterns). Deterministic order, no randomness.
 *
 * The mutations are ordered word offset first, file second: with a time
 * budget (--budget, for everything after the as-is runs) the words that
 * are left out are the deepest ones of every window, never whole files.
 * The summary says exactly which prefix was covered.
 *
 * The runs are split between N forked workers (--jobs). The parent prints
 * progress every 10 s, and when a worker crashes (signal, sanitizer exit)
 * or stops making progress for 60 s, names the input it was running. */
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macho/macho.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE (4u << 20)
#define WINDOW 1024u
#define NCUTS 61u
#define MAX_JOBS 16
#define PROGRESS_SECS 10
#define HANG_SECS 60

/* Distinct byte patterns of the five values in both byte orders (0 and
 * 0xffffffff read the same either way, so 8 rather than 10). */
static const uint8_t patterns[][4] = {
	{ 0, 0, 0, 0 },		 { 1, 0, 0, 0 },	   { 0, 0, 0, 1 },
	{ 0xff, 0xff, 0xff, 0x7f }, { 0x7f, 0xff, 0xff, 0xff },
	{ 0, 0, 0, 0x80 },	 { 0x80, 0, 0, 0 },	   { 0xff, 0xff, 0xff, 0xff },
};
#define NPAT (sizeof(patterns) / sizeof(patterns[0]))

struct input {
	char *path;
	uint8_t *buf;
	size_t len;
	bool mutate;
};

enum unit_kind { U_ASIS, U_CUTS, U_WORD };

/* One step of the plan: an input as is, its truncations, or one word
 * (all NPAT patterns) of one window. */
struct unit {
	uint32_t input;
	uint8_t kind;
	uint32_t at; /* U_WORD: file offset of the word */
	uint32_t rel; /* U_WORD: offset inside its window */
};

/* What a worker is doing, shared with the parent. */
struct slot {
	volatile unsigned long runs;
	volatile uint32_t unit; /* unit being run */
	volatile uint32_t next; /* every unit of this worker below it is done */
	volatile uint32_t detail; /* cut length or pattern index */
	volatile int finished;
};

static struct input *inputs;
static size_t ninputs, cap_inputs;
static struct unit *units;
static size_t nunits, cap_units;

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * size);
	if (p == NULL) {
		perror("replay");
		exit(1);
	}
	return p;
}

static void add_unit(uint32_t input, uint8_t kind, uint32_t at, uint32_t rel)
{
	units = grow(units, &cap_units, nunits, sizeof(*units));
	units[nunits++] = (struct unit){ input, kind, at, rel };
}

static int add_file(const char *path, bool mutate)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_MAX_FILE);
	size_t len = buf ? fread(buf, 1, REPLAY_MAX_FILE, fp) : 0;
	fclose(fp);
	if (buf == NULL)
		return -1;
	inputs = grow(inputs, &cap_inputs, ninputs, sizeof(*inputs));
	inputs[ninputs++] = (struct input){ strdup(path), buf, len, mutate };
	return 0;
}

static int add_path(const char *path, bool mutate)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		/* a missing seed folder would silently shrink the replay */
		fprintf(stderr, "replay: %s does not exist\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_file(path, mutate);
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort); /* stable order */
	if (n < 0)
		return -1;
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *e = names[i]->d_name;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, e);
		if (e[0] != '.' && !strstr(e, ".md") && !strstr(e, ".sh") &&
		    !strstr(e, ".py") && !strstr(e, ".txt") &&
		    stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			r |= add_file(sub, mutate);
		free(names[i]);
	}
	free(names);
	return r;
}

/* Window starts of an input: its header, then each signature found by
 * the parser. */
static size_t windows_of(const struct input *in, size_t *starts)
{
	size_t n = 0;
	starts[n++] = 0;
	struct msign_image *img = NULL;
	if (msign_image_parse(in->buf, in->len, &img, NULL) != 0)
		return n;
	for (uint32_t i = 0; i < img->nslices; i++) {
		const struct msign_slice *s = &img->slices[i];
		if (s->err == 0 && s->has_codesig)
			starts[n++] = (size_t)(s->off + s->cs_dataoff);
	}
	msign_image_free(img);
	return n;
}

static unsigned long plan(size_t *first_budgeted)
{
	unsigned long runs = 0;
	for (size_t i = 0; i < ninputs; i++) {
		add_unit((uint32_t)i, U_ASIS, 0, 0);
		runs++;
	}
	*first_budgeted = nunits;
	for (size_t i = 0; i < ninputs; i++) {
		if (inputs[i].mutate) {
			add_unit((uint32_t)i, U_CUTS, 0, 0);
			runs += (inputs[i].len + inputs[i].len / NCUTS) /
				(inputs[i].len / NCUTS + 1);
		}
	}
	size_t (*starts)[MSIGN_MAX_SLICES + 1] = calloc(ninputs, sizeof(*starts));
	size_t *nwin = calloc(ninputs, sizeof(*nwin));
	if (starts == NULL || nwin == NULL) {
		perror("replay");
		exit(1);
	}
	for (size_t i = 0; i < ninputs; i++)
		if (inputs[i].mutate)
			nwin[i] = windows_of(&inputs[i], starts[i]);
	for (uint32_t rel = 0; rel + 4 <= WINDOW; rel += 4) {
		for (size_t i = 0; i < ninputs; i++) {
			for (size_t w = 0; w < nwin[i]; w++) {
				size_t at = starts[i][w] + rel;
				if (at + 4 <= inputs[i].len) {
					add_unit((uint32_t)i, U_WORD, (uint32_t)at, rel);
					runs += NPAT;
				}
			}
		}
	}
	free(starts);
	free(nwin);
	return runs;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(struct slot *s, const uint8_t *d, size_t n)
{
	LLVMFuzzerTestOneInput(d, n);
	s->runs++;
}

static void run_unit(struct slot *s, const struct unit *u)
{
	struct input *in = &inputs[u->input];
	switch (u->kind) {
	case U_ASIS:
		run(s, in->buf, in->len);
		break;
	case U_CUTS:
		for (size_t cut = 0; cut < in->len; cut += in->len / NCUTS + 1) {
			s->detail = (uint32_t)cut;
			run(s, in->buf, cut);
		}
		break;
	case U_WORD: {
		uint8_t save[4];
		memcpy(save, in->buf + u->at, 4);
		for (uint32_t p = 0; p < NPAT; p++) {
			s->detail = p;
			memcpy(in->buf + u->at, patterns[p], 4);
			run(s, in->buf, in->len);
		}
		memcpy(in->buf + u->at, save, 4);
		break;
	}
	}
}

static void worker(struct slot *s, unsigned j, unsigned jobs,
		   size_t first_budgeted, double deadline)
{
	for (size_t k = j; k < nunits; k += jobs) {
		if (k >= first_budgeted && deadline > 0 && now() >= deadline)
			break;
		s->unit = (uint32_t)k;
		run_unit(s, &units[k]);
		s->next = (uint32_t)(k + jobs);
	}
	s->finished = 1;
}

static void describe(const struct slot *s)
{
	const struct unit *u = &units[s->unit];
	const struct input *in = &inputs[u->input];
	if (u->kind == U_ASIS)
		fprintf(stderr, "%s as it is (%zu bytes)\n", in->path, in->len);
	else if (u->kind == U_CUTS)
		fprintf(stderr, "%s cut to its first %u bytes\n", in->path, s->detail);
	else
		fprintf(stderr, "%s with bytes %u-%u set to %02x %02x %02x %02x\n",
			in->path, u->at, u->at + 3, patterns[s->detail][0],
			patterns[s->detail][1], patterns[s->detail][2],
			patterns[s->detail][3]);
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	bool mutate = true;
	unsigned jobs = 1;
	double budget = 0;
	int r = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--plain") == 0)
			mutate = false;
		else if (strcmp(argv[i], "--mutate") == 0)
			mutate = true;
		else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
			jobs = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
			budget = atof(argv[++i]);
		else
			r |= add_path(argv[i], mutate);
	}
	if (jobs < 1 || jobs > MAX_JOBS) {
		fprintf(stderr, "%s: --jobs takes 1 to %d\n", name, MAX_JOBS);
		return 2;
	}
	if (r != 0)
		return 1;
	size_t first_budgeted;
	unsigned long planned = plan(&first_budgeted);
	struct slot *slots = mmap(NULL, sizeof(struct slot) * jobs,
				  PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(slots, 0, sizeof(struct slot) * jobs);
	for (unsigned j = 0; j < jobs; j++)
		slots[j].next = j;
	/* MSIGN_REPLAY_HANG_SECS: a shorter hang limit, for the harness test */
	const char *hs = getenv("MSIGN_REPLAY_HANG_SECS");
	double hang_secs = hs && atof(hs) > 0 ? atof(hs) : HANG_SECS;
	double start = now();
	double deadline = budget > 0 ? start + budget : 0;
	if (budget > 0)
		printf("%s: %zu inputs, %lu runs planned, %u jobs, budget %.0f s\n",
		       name, ninputs, planned, jobs, budget);
	else
		printf("%s: %zu inputs, %lu runs planned, %u jobs, no budget\n",
		       name, ninputs, planned, jobs);
	fflush(stdout);
	pid_t pids[MAX_JOBS];
	for (unsigned j = 0; j < jobs; j++) {
		pids[j] = fork();
		if (pids[j] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[j] == 0) {
			worker(&slots[j], j, jobs, first_budgeted, deadline);
			_exit(0);
		}
	}
	/* Supervise: progress lines, crashes and hangs named. */
	unsigned alive = jobs;
	unsigned bad = 0; /* workers that crashed or hung */
	bool done[MAX_JOBS] = { false };
	unsigned long last_runs[MAX_JOBS] = { 0 };
	double last_change[MAX_JOBS];
	for (unsigned j = 0; j < jobs; j++)
		last_change[j] = start;
	double next_report = start + PROGRESS_SECS;
	while (alive > 0) {
		struct timespec tick = { 0, 200 * 1000 * 1000 };
		nanosleep(&tick, NULL);
		double t = now();
		for (unsigned j = 0; j < jobs; j++) {
			if (done[j])
				continue;
			int st;
			pid_t p = waitpid(pids[j], &st, WNOHANG);
			if (p == pids[j]) {
				done[j] = true;
				alive--;
				if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
				      slots[j].finished)) {
					bad++;
					if (WIFSIGNALED(st))
						fprintf(stderr, "%s: worker %u killed by signal %d on ",
							name, j, WTERMSIG(st));
					else
						fprintf(stderr, "%s: worker %u exited %d on ",
							name, j, WEXITSTATUS(st));
					describe(&slots[j]);
				}
				continue;
			}
			if (slots[j].runs != last_runs[j]) {
				last_runs[j] = slots[j].runs;
				last_change[j] = t;
			} else if (t - last_change[j] > hang_secs) {
				fprintf(stderr, "%s: worker %u hangs (%.0f s without a run) on ",
					name, j, hang_secs);
				describe(&slots[j]);
				kill(pids[j], SIGKILL);
				last_change[j] = t + 1e9; /* reported once */
			}
		}
		if (t >= next_report && alive > 0) {
			unsigned long sum = 0;
			for (unsigned j = 0; j < jobs; j++)
				sum += slots[j].runs;
			printf("%s: %lu of %lu runs (%lu%%), %.0f s\n", name, sum, planned,
			       sum * 100 / (planned ? planned : 1), t - start);
			fflush(stdout);
			next_report = t + PROGRESS_SECS;
		}
	}
	unsigned long sum = 0;
	size_t prefix = nunits; /* every unit below it ran */
	for (unsigned j = 0; j < jobs; j++) {
		sum += slots[j].runs;
		if (slots[j].next < prefix)
			prefix = slots[j].next;
	}
	const char *stop = bad ? "a worker stopped" : "time budget reached";
	/* Which prefix of the plan ran: all of it, or the words below an
	 * offset of every window (units are ordered by that offset). */
	if (prefix >= nunits)
		printf("%s: covered: the whole plan\n", name);
	else if (units[prefix].kind == U_WORD && units[prefix].rel > 0)
		printf("%s: covered: every input as is, all truncations, the words "
		       "at offsets 0-%u of every window (of 0-%u); %s\n",
		       name, units[prefix].rel - 4, WINDOW - 4, stop);
	else
		printf("%s: covered: every input as is, %s; %s\n", name,
		       units[prefix].kind == U_WORD ? "all truncations, no word"
						    : "part of the truncations", stop);
	printf("%s: %lu runs of %lu planned (%lu%%) in %.1f s, %s\n", name, sum,
	       planned, sum * 100 / (planned ? planned : 1), now() - start,
	       bad ? "FAILED" : "no crash");
	/* the suite line make check adds up: a run is one input checked */
	printf("%s: %lu passed, %u failed\n", name, sum, bad + (sum == 0));
	if (sum == 0)
		fprintf(stderr, "%s: no input ran\n", name);
	return bad || sum == 0 ? 1 : 0;
}
