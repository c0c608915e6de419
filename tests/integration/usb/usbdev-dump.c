/*
 * usbdev-dump.c - test program: for every USB device under
 * /sys/bus/usb/devices print the rule line rules_format_device() writes
 * ("rule <sysname> <line>"); with --rules FILE the decision of that rule set
 * ("decision <sysname> <target> <line> <iface mask>"); with --each FILE, for
 * every rule line of FILE on its own, the devices it matches ("each <line>
 * <sysname>..."). Run under umockdev-run by the hash parity test; input is
 * the (mocked) sysfs tree and rule files the test wrote.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "usbdev.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* opendir/readdir (not scandir): umockdev's preload redirects these. */
static int list_devices(char ***out)
{
	DIR *d = opendir("/sys/bus/usb/devices");
	struct dirent *e;
	char **v = NULL;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char **nv;

		if (e->d_name[0] == '.' || strchr(e->d_name, ':') != NULL)
			continue; /* interfaces and ports are not devices */
		nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (nv == NULL)
			break;
		v = nv;
		v[n] = strdup(e->d_name);
		if (v[n] != NULL)
			n++;
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(*v), by_name);
	*out = v;
	return n;
}

/* Every rule line of path, parsed on its own: which devices does it match? */
static int match_each(const char *path, const struct usbdev *devs, int ndev)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	unsigned lineno = 0;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct rules *r = NULL;
		struct pcl_diag d;
		size_t nd;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (rules_parse_buffer(path, line, strlen(line), &r, &d, 1, &nd) != 0) {
			fprintf(stderr, "usbdev-dump: %s:%u: %s\n", path, lineno, d.msg);
			fclose(f);
			return 1;
		}
		printf("each %u", lineno);
		for (int i = 0; i < ndev; i++) {
			struct rules_decision dec;

			rules_decide(r, &devs[i], &dec);
			if (dec.matched)
				printf(" %s", devs[i].sysname);
		}
		printf("\n");
		rules_free(&r);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	static struct usbdev devs[128];
	int ndev = 0;
	const char *each = NULL;
	struct rules *rs = NULL;
	char **ents;
	int n, failed = 0;

	if (argc == 3 && strcmp(argv[1], "--rules") == 0) {
		struct pcl_diag d[8];
		size_t nd = 0;
		int rc = rules_load_file(argv[2], &rs, d, 8, &nd);

		if (rc != 0) {
			char line[600];

			for (size_t i = 0; i < nd && i < 8; i++) {
				pcl_diag_format(&d[i], line, sizeof(line));
				fprintf(stderr, "usbdev-dump: %s\n", line);
			}
			return 1;
		}
	} else if (argc == 3 && strcmp(argv[1], "--each") == 0) {
		each = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: usbdev-dump [--rules FILE | --each FILE]\n");
		return 2;
	}
	n = list_devices(&ents);
	if (n < 0) {
		perror("usbdev-dump: /sys/bus/usb/devices");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[512], line[4096];
		struct usbdev dev;
		struct pcl_diag diag = {0};
		int rc;

		snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s", ents[i]);
		free(ents[i]);
		rc = usbdev_from_sysfs(path, &dev, &diag);
		if (rc != 0) {
			pcl_diag_format(&diag, line, sizeof(line));
			fprintf(stderr, "usbdev-dump: %s\n", line);
			failed = 1;
			continue;
		}
		if (rules_format_device(&dev, RULES_ALLOW, line, sizeof(line)) < 0) {
			fprintf(stderr, "usbdev-dump: %s: rule line too long\n", dev.sysname);
			failed = 1;
			continue;
		}
		printf("rule %s %s\n", dev.sysname, line);
		if (ndev < (int)(sizeof(devs) / sizeof(devs[0])))
			devs[ndev++] = dev;
		if (rs != NULL) {
			struct rules_decision dec;

			rules_decide(rs, &dev, &dec);
			printf("decision %s %s %u %016llx\n", dev.sysname,
			       rules_target_name(dec.target), dec.matched ? dec.line : 0,
			       (unsigned long long)dec.iface_allow);
		}
	}
	free(ents);
	rules_free(&rs);
	if (each != NULL && match_each(each, devs, ndev) != 0)
		failed = 1;
	return failed;
}
