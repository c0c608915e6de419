/*
 * fakedev.c - a misbehaving "medium" for the wipe integration tests: a FUSE filesystem
 * with one file, /disk, that a loop device is set up over. Device-mapper is not in the
 * test kernels, so this stands in for a dm table:
 *   --mode wrap     SIZE bytes announced, SIZE/2 stored: the upper half maps onto the
 *                   lower half (a fake-capacity stick)
 *   --mode corrupt  reads of byte --at come back with one bit flipped
 *   --mode good     behaves
 * Usage: fakedev MOUNTPOINT --size BYTES --mode MODE [--at OFFSET]   (runs in foreground)
 * Test-only; linked into nothing else; its input is the test script's arguments.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint8_t *store;
static uint64_t announced, stored, corrupt_at;
static enum { GOOD, WRAP, CORRUPT } mode;

static int fd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/disk") != 0)
		return -ENOENT;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)announced;
	return 0;
}

static int fd_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "disk", NULL, 0, 0);
	return 0;
}

static int fd_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/disk") != 0)
		return -ENOENT;
	fi->direct_io = 1; /* no page cache: every read reaches the "medium" */
	return 0;
}

static uint64_t where(uint64_t off)
{
	return off % stored;
}

static int fd_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	if ((uint64_t)off >= announced)
		return 0;
	if ((uint64_t)off + len > announced)
		len = (size_t)(announced - (uint64_t)off);
	for (size_t i = 0; i < len; i++) {
		buf[i] = (char)store[where((uint64_t)off + i)];
		if (mode == CORRUPT && (uint64_t)off + i == corrupt_at)
			buf[i] ^= 0x01;
	}
	return (int)len;
}

static int fd_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	if ((uint64_t)off >= announced)
		return -ENOSPC;
	if ((uint64_t)off + len > announced)
		len = (size_t)(announced - (uint64_t)off);
	for (size_t i = 0; i < len; i++)
		store[where((uint64_t)off + i)] = (uint8_t)buf[i];
	return (int)len;
}

static int fd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	return (uint64_t)size == announced ? 0 : -EPERM;
}

static const struct fuse_operations ops = {
    .getattr = fd_getattr,
    .readdir = fd_readdir,
    .open = fd_open,
    .read = fd_read,
    .write = fd_write,
    .truncate = fd_truncate,
};

int main(int argc, char **argv)
{
	const char *mnt = NULL, *m = "good";
	char *fargv[8];
	int fargc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			announced = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			m = argv[++i];
		else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
			corrupt_at = strtoull(argv[++i], NULL, 0);
		else
			mnt = argv[i];
	}
	if (mnt == NULL || announced == 0 || announced % 1024 != 0) {
		fprintf(stderr, "usage: fakedev MOUNTPOINT --size BYTES --mode good|wrap|corrupt "
				"[--at OFFSET]\n");
		return 2;
	}
	mode = strcmp(m, "wrap") == 0 ? WRAP : strcmp(m, "corrupt") == 0 ? CORRUPT : GOOD;
	stored = mode == WRAP ? announced / 2 : announced;
	store = calloc(1, stored);
	if (store == NULL)
		return 1;
	fargv[fargc++] = argv[0];
	fargv[fargc++] = (char *)"-f";
	fargv[fargc++] = (char *)"-s";
	fargv[fargc++] = (char *)mnt;
	fargv[fargc] = NULL;
	return fuse_main(fargc, fargv, &ops, NULL);
}
