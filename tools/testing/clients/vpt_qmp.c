// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_qmp: the smallest QMP client the client checks need, so that the
 * test VM needs neither socat nor a scripting language.
 *
 *   vpt_qmp SOCKET raw JSON...  send each command, print each reply line
 *   vpt_qmp SOCKET bars         run query-pci and print one line per BAR:
 *                               "QDEV_ID BAR TYPE ADDRESS SIZE"
 *                               (QDEV_ID "-" for a device without one,
 *                               ADDRESS -1 for a BAR not mapped yet)
 *
 * Asynchronous events QEMU sends in between are skipped.  Exits non-zero
 * when the socket cannot be reached or a command returns an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The next line from QEMU that is not an event, or NULL at end of file. */
static char *qmp_reply(FILE *f, char **line, size_t *cap)
{
	while (getline(line, cap, f) > 0) {
		if (!strstr(*line, "\"event\""))
			return *line;
	}
	return NULL;
}

static char *qmp_command(FILE *f, const char *cmd, char **line, size_t *cap)
{
	if (fprintf(f, "%s\n", cmd) < 0 || fflush(f))
		return NULL;
	return qmp_reply(f, line, cap);
}

/*
 * The value of "key" inside the flat object [obj, end): a pointer just
 * past the colon and any blanks, or NULL.
 */
static const char *json_key(const char *obj, const char *end, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(obj, pat);
	if (!p || p >= end)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return p;
}

/* The end of the JSON string that starts at the quote s (its last quote). */
static const char *json_string_end(const char *s)
{
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
	}
	return s;
}

#define QMP_MAX_DEPTH	16
#define QMP_MAX_BARS	8

struct qmp_bar {
	long idx;
	char type[16];
	long long addr;
	unsigned long long size;
};

/* One open JSON object: a device collects its id and its regions. */
struct qmp_level {
	const char *start;
	char id[64];
	int flat;		/* no object nested inside */
	int nbars;
	struct qmp_bar bars[QMP_MAX_BARS];
};

/* A region is a flat object with a "bar" key: add it to its device. */
static void add_bar(struct qmp_level *dev, const char *obj, const char *end)
{
	const char *b = json_key(obj, end, "bar");
	const char *t = json_key(obj, end, "type");
	const char *a = json_key(obj, end, "address");
	const char *s = json_key(obj, end, "size");
	struct qmp_bar *bar;

	if (!b || !t || !a || !s || *t != '"' || dev->nbars >= QMP_MAX_BARS)
		return;
	bar = &dev->bars[dev->nbars++];
	bar->idx = strtol(b, NULL, 10);
	snprintf(bar->type, sizeof(bar->type), "%.*s",
		 (int)(json_string_end(t) - t - 1), t + 1);
	bar->addr = strtoll(a, NULL, 10);
	bar->size = strtoull(s, NULL, 10);
}

/*
 * query-pci: devices are objects with a "qdev_id" and a "regions" list of
 * flat objects, keys in no fixed order; print each device's regions when
 * the device's object closes.
 */
static void print_bars(const char *reply)
{
	struct qmp_level lv[QMP_MAX_DEPTH];
	const char *p, *e;
	int d = -1, i;

	for (p = reply; *p; p++) {
		if (*p == '"') {
			e = json_string_end(p);
			if (d >= 0 && e - p == 8 && !strncmp(p, "\"qdev_id\"", 9)) {
				p = e + 1;
				while (*p == ' ' || *p == ':')
					p++;
				if (*p != '"')
					return;
				e = json_string_end(p);
				snprintf(lv[d].id, sizeof(lv[d].id), "%.*s",
					 (int)(e - p - 1), p + 1);
			}
			if (!*e)
				return;
			p = e;
		} else if (*p == '{') {
			if (d >= 0)
				lv[d].flat = 0;
			if (++d >= QMP_MAX_DEPTH)
				return;
			lv[d].start = p;
			lv[d].id[0] = '\0';
			lv[d].flat = 1;
			lv[d].nbars = 0;
		} else if (*p == '}' && d >= 0) {
			if (lv[d].flat && d > 0)
				add_bar(&lv[d - 1], lv[d].start, p);
			for (i = 0; i < lv[d].nbars; i++)
				printf("%s %ld %s %lld %llu\n",
				       lv[d].id[0] ? lv[d].id : "-",
				       lv[d].bars[i].idx, lv[d].bars[i].type,
				       lv[d].bars[i].addr, lv[d].bars[i].size);
			d--;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 0;
	char *line = NULL, *r;
	int fd, i, rc = 0;
	FILE *f;

	if (argc < 3 || (strcmp(argv[2], "raw") && strcmp(argv[2], "bars")) ||
	    strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: %s SOCKET raw JSON... | SOCKET bars\n",
			argv[0]);
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror(argv[1]);
		return 1;
	}
	f = fdopen(fd, "r+");
	if (!f)
		return 1;
	/* The greeting, then leave capabilities negotiation mode. */
	if (!qmp_reply(f, &line, &cap) ||
	    !qmp_command(f, "{\"execute\": \"qmp_capabilities\"}", &line, &cap)) {
		fprintf(stderr, "%s: no QMP greeting\n", argv[1]);
		return 1;
	}

	if (!strcmp(argv[2], "bars")) {
		r = qmp_command(f, "{\"execute\": \"query-pci\"}", &line, &cap);
		if (!r || !strstr(r, "\"return\"")) {
			fprintf(stderr, "query-pci: %s", r ? r : "no reply\n");
			return 1;
		}
		print_bars(r);
		return 0;
	}
	for (i = 3; i < argc; i++) {
		r = qmp_command(f, argv[i], &line, &cap);
		if (!r)
			return 1;	/* e.g. QEMU closed the socket on quit */
		fputs(r, stdout);
		if (strstr(r, "\"error\""))
			rc = 1;
	}
	fclose(f);
	free(line);
	return rc;
}
