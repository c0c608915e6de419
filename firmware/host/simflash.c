/*
 * simflash.c: NOR-flash emulation with power-cut injection (see simflash.h).
 * Linked by portcullis-token-sim and the token tests. Trusts its caller; a state file
 * of the wrong size is refused rather than reinterpreted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simflash.h"

int simflash_open(struct simflash *f, const char *path, uint32_t page_size, uint32_t page_count,
		  uint32_t align)
{
	size_t size = (size_t)page_size * page_count;
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->cut_at = -1;
	f->page_size = page_size;
	f->page_count = page_count;
	f->align = align;
	f->mem = malloc(size);
	if (!f->mem)
		return -ENOMEM;
	memset(f->mem, 0xff, size);
	if (!path)
		return 0;
	f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0 || fstat(f->fd, &st) != 0)
		goto fail;
	if (st.st_size == 0) {
		if (pwrite(f->fd, f->mem, size, 0) != (ssize_t)size || fsync(f->fd) != 0)
			goto fail;
	} else if ((size_t)st.st_size != size) {
		errno = EINVAL;
		goto fail;
	} else if (pread(f->fd, f->mem, size, 0) != (ssize_t)size) {
		errno = EIO;
		goto fail;
	}
	return 0;
fail : {
	int e = errno ? errno : EIO;

	simflash_close(f);
	return -e;
}
}

void simflash_close(struct simflash *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->mem);
	f->mem = NULL;
	f->fd = -1;
}

static int range_ok(const struct simflash *f, uint32_t page, uint32_t off, size_t len)
{
	return page < f->page_count && off <= f->page_size && len <= f->page_size - off;
}

static int sync_out(struct simflash *f, size_t at, size_t len)
{
	if (f->fd < 0)
		return 0;
	if (pwrite(f->fd, f->mem + at, len, (off_t)at) != (ssize_t)len)
		return -EIO;
	return fdatasync(f->fd) == 0 ? 0 : -EIO;
}

/* Returns 1 when this write is the torn one. */
static int tear(struct simflash *f)
{
	if (f->dead)
		return -1;
	if (f->cut_at >= 0 && f->writes == f->cut_at) {
		f->writes++;
		f->dead = 1;
		return 1;
	}
	f->writes++;
	return 0;
}

int simflash_read(struct simflash *f, uint32_t page, uint32_t off, void *buf, size_t len)
{
	if (f->dead || !range_ok(f, page, off, len))
		return -EINVAL;
	memcpy(buf, f->mem + (size_t)page * f->page_size + off, len);
	return 0;
}

int simflash_erase(struct simflash *f, uint32_t page)
{
	size_t at = (size_t)page * f->page_size;
	int t;

	if (page >= f->page_count)
		return -EINVAL;
	t = tear(f);
	if (t < 0)
		return -EIO;
	f->erases++;
	/* a torn erase leaves the first half erased, the rest as it was */
	memset(f->mem + at, 0xff, t ? f->page_size / 2 : f->page_size);
	if (sync_out(f, at, f->page_size) != 0)
		return -EIO;
	return t ? -EIO : 0;
}

int simflash_program(struct simflash *f, uint32_t page, uint32_t off, const void *buf, size_t len)
{
	size_t at = (size_t)page * f->page_size + off, i, n = len;
	const uint8_t *b = buf;
	int t;

	if (!range_ok(f, page, off, len) || off % f->align || len % f->align)
		return -EINVAL;
	t = tear(f);
	if (t < 0)
		return -EIO;
	if (t)
		n = len / 2; /* a torn program lands only its first half */
	for (i = 0; i < n; i++)
		f->mem[at + i] &= b[i]; /* NOR: programming only clears bits */
	if (sync_out(f, at, len) != 0)
		return -EIO;
	return t ? -EIO : 0;
}
