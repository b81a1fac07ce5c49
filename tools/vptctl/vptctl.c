// SPDX-License-Identifier: GPL-2.0
/*
 * vptctl: command line, usage and dispatch.  See vptctl.h and
 * Documentation/admin-guide.rst.
 */
#include <getopt.h>

#include "vptctl.h"

struct vptctl_opts vptctl_opts = {
	.sysfs = "/sys",
	.state_dir = "/run/vpt",
	.above = VPTCTL_DEFAULT_ABOVE,
	.below = VPTCTL_DEFAULT_BELOW,
};

/* Which commands take which options. */
#define OPT_GROUP	0x1
#define OPT_PLAN	0x2

/**
 * struct vptctl_cmd - a command
 * @name: as typed.
 * @run: runs it on its arguments; returns the exit code.
 * @min_args: fewest arguments.
 * @max_args: most arguments, -1 for no limit.
 * @opts: OPT_* it accepts.
 */
struct vptctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	int min_args;
	int max_args;
	unsigned int opts;
};

static const struct vptctl_cmd vptctl_cmds[] = {
	{ "list", vptctl_cmd_list, 0, 0, 0 },
	{ "bind", vptctl_cmd_bind, 1, 1, OPT_GROUP },
	{ "unbind", vptctl_cmd_unbind, 1, 1, OPT_GROUP },
	{ "info", vptctl_cmd_info, 1, 1, 0 },
	{ "plan", vptctl_cmd_plan, 1, -1, OPT_PLAN },
};

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: vptctl [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  list                 PCI devices by IOMMU group, their drivers, and\n"
		"                       whether vpt can use each group (or what blocks it)\n"
		"  bind BDF [--group]   bind the device (or every non-bridge device of\n"
		"                       its group) to vpt-pci; the previous driver is\n"
		"                       remembered in the state directory\n"
		"  unbind BDF [--group] give the device (or group) back to its previous\n"
		"                       driver, or leave it without one\n"
		"  info GROUP|BDF       open the group as a VMM does: IOMMU width, IOVA\n"
		"                       map with its holes, page sizes, DMA entries, and\n"
		"                       every device's regions and interrupts\n"
		"  plan BDF...          guest MMIO windows for these devices: 32-bit and\n"
		"                       64-bit BARs packed largest first, naturally\n"
		"                       aligned, and whether the windows fit the IOMMU\n"
		"\n"
		"Options:\n"
		"  -g, --group          bind/unbind: the whole IOMMU group\n"
		"  --above ADDR         plan: guest base of the 64-bit window\n"
		"                       (default 0x%llx = 64 GiB)\n"
		"  --below ADDR         plan: guest base of the 32-bit window\n"
		"                       (default 0x%llx; must end below 0x%llx)\n"
		"  --width BITS         plan: IOMMU width, instead of asking the IOMMU\n"
		"  --no-rom             plan: leave expansion ROMs out (rombar=0)\n"
		"  --node-dir DIR       VFIO node directory (default $VPT_NODE_DIR,\n"
		"                       else /dev/<vpt's node_dir>, else /dev/vfio)\n"
		"  --sysfs-root DIR     sysfs mount point (default /sys)\n"
		"  --state-dir DIR      where bind remembers drivers (default /run/vpt)\n"
		"  -h, --help           this text\n"
		"\n"
		"ADDR takes 0x-hex or decimal with an optional K/M/G/T suffix (binary).\n"
		"BDF is [DDDD:]BB:DD.F.  Exit status: 0 done (or the plan fits), 1 failed,\n"
		"refused or does not fit, 2 usage error.\n",
		VPTCTL_DEFAULT_ABOVE, VPTCTL_DEFAULT_BELOW, VPTCTL_MMIO32_LIMIT);
}

/* After a usage error was explained: the synopsis; the exit code. */
int vptctl_usage_hint(void)
{
	fputs("usage: vptctl [OPTIONS] COMMAND [ARGS] (vptctl --help for more)\n",
	      stderr);
	return VPTCTL_USAGE;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("vptctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return vptctl_usage_hint();
}

static int parse_addr(const char *opt, const char *arg, __u64 *val)
{
	if (vptctl_parse_u64(arg, val))
		return usage_error("bad address for --%s", opt);
	return 0;
}

static int parse_width(const char *arg)
{
	__u64 w;

	if (vptctl_parse_u64(arg, &w) || w < 12 || w > 64)
		return usage_error("--width takes 12 to 64 bits, not '%s'", arg);
	vptctl_opts.width = (unsigned int)w;
	return 0;
}

/* Long options without a short form. */
enum {
	OPT_ABOVE = 256,
	OPT_BELOW,
	OPT_WIDTH,
	OPT_NO_ROM,
	OPT_NODE_DIR,
	OPT_SYSFS,
	OPT_STATE_DIR,
};

static const struct option vptctl_long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "group", no_argument, NULL, 'g' },
	{ "above", required_argument, NULL, OPT_ABOVE },
	{ "below", required_argument, NULL, OPT_BELOW },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "no-rom", no_argument, NULL, OPT_NO_ROM },
	{ "node-dir", required_argument, NULL, OPT_NODE_DIR },
	{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ NULL, 0, NULL, 0 },
};

/* One option; 0, -1 for --help, or the usage exit code. */
static int parse_opt(int c, const char *arg, unsigned int *given)
{
	switch (c) {
	case 'h':
		return -1;
	case 'g':
		vptctl_opts.group = true;
		*given |= OPT_GROUP;
		return 0;
	case OPT_ABOVE:
		*given |= OPT_PLAN;
		return parse_addr("above", arg, &vptctl_opts.above);
	case OPT_BELOW:
		*given |= OPT_PLAN;
		return parse_addr("below", arg, &vptctl_opts.below);
	case OPT_WIDTH:
		*given |= OPT_PLAN;
		return parse_width(arg);
	case OPT_NO_ROM:
		*given |= OPT_PLAN;
		vptctl_opts.no_rom = true;
		return 0;
	case OPT_NODE_DIR:
		/* vpt_util.h's node helpers read it from the environment. */
		return setenv("VPT_NODE_DIR", arg, 1) ?
		       usage_error("--node-dir: %s", strerror(errno)) : 0;
	case OPT_SYSFS:
		vptctl_opts.sysfs = arg;
		return 0;
	case OPT_STATE_DIR:
		vptctl_opts.state_dir = arg;
		return 0;
	default:	/* getopt said what was wrong */
		return usage_error("%s", "bad option");
	}
}

/*
 * Without --node-dir or $VPT_NODE_DIR, use the directory vpt was loaded
 * with (its node_dir parameter), so that a vpt moved aside for the
 * in-tree vfio is found; /dev/vfio when vpt is not loaded.
 */
static void default_node_dir(void)
{
	char path[PATH_MAX], dir[NAME_MAX + 1], node[PATH_MAX];

	if (getenv("VPT_NODE_DIR") ||
	    vptctl_path(path, sizeof(path), "module/vpt/parameters/node_dir") ||
	    vptctl_read_attr(path, dir, sizeof(dir)) || !*dir ||
	    strchr(dir, '/'))
		return;
	snprintf(node, sizeof(node), "/dev/%s", dir);
	setenv("VPT_NODE_DIR", node, 1);
}

static const struct vptctl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vptctl_cmds); i++)
		if (!strcmp(vptctl_cmds[i].name, name))
			return &vptctl_cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct vptctl_cmd *cmd;
	unsigned int given = 0;
	int c, ret, nargs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "hg", vptctl_long_opts,
				NULL)) != -1) {
		ret = parse_opt(c, optarg, &given);
		if (ret < 0) {
			print_help(stdout);
			return VPTCTL_OK;
		}
		if (ret)
			return ret;
	}
	if (optind == argc)
		return usage_error("%s", "no command given");
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	nargs = argc - optind - 1;
	if (nargs < cmd->min_args ||
	    (cmd->max_args >= 0 && nargs > cmd->max_args))
		return usage_error("wrong number of arguments for '%s'",
				   cmd->name);
	if (given & ~cmd->opts)
		return usage_error("option not valid for '%s'", cmd->name);
	default_node_dir();
	return cmd->run(nargs, argv + optind + 1);
}
