/*
 * test_fileio.c - unit tests of the whole-file reader: a file read to its end whatever
 * its size up to the cap (also /proc files, whose size stat does not know), one byte
 * more refused, directories and FIFOs refused when a regular file is asked for, a
 * symbolic link refused when asked, a missing file's errno passed on, and the buffer always
 * NUL-terminated; the atomic writer replacing a file whole, leaving no temporary file,
 * keeping the old bytes when it fails, and never following a link planted at its
 * temporary name.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fileio.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pcl-fileio-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/f", dir);
	return 0;
}

static int teardown(void **state)
{
	char fifo[160];

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	unlink(fifo);
	unlink(path);
	return rmdir(dir);
}

static void write_file(size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	assert_int_equal(fclose(f), 0);
}

static void reads_up_to_the_cap_and_refuses_one_byte_more(void **state)
{
	static const size_t sizes[] = {0, 1, 100, 65535, 65536, 65537, 200000};
	char *buf;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		write_file(n);
		assert_int_equal(pcl_read_file(path, n, PCL_READ_REGULAR, &buf, &len), 0);
		assert_int_equal(len, n);
		assert_int_equal(buf[n], '\0');
		if (n > 0)
			assert_int_equal(buf[n - 1], 'a' + (int)((n - 1) % 26));
		free(buf);
		/* the same file without the stat check: read to its end, same answer */
		assert_int_equal(pcl_read_file(path, n, 0, &buf, &len), 0);
		assert_int_equal(len, n);
		free(buf);
		if (n > 0) {
			assert_int_equal(pcl_read_file(path, n - 1, PCL_READ_REGULAR, &buf, &len),
					 -EFBIG);
			assert_null(buf);
			assert_int_equal(pcl_read_file(path, n - 1, 0, &buf, &len), -EFBIG);
			assert_null(buf);
		}
	}
}

static void reads_proc_files_whose_size_is_unknown(void **state)
{
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(
	    pcl_read_file("/proc/self/mountinfo", 1u << 24, PCL_READ_REGULAR, &buf, &len), 0);
	assert_true(len > 0);
	assert_non_null(strstr(buf, " / "));
	assert_int_equal(strlen(buf), len);
	free(buf);
}

static void refuses_what_is_not_a_regular_file(void **state)
{
	char fifo[160];
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(pcl_read_file(dir, 4096, PCL_READ_REGULAR, &buf, &len), -EINVAL);
	assert_null(buf);
	/* without the check, a directory fails at the read */
	assert_int_equal(pcl_read_file(dir, 4096, 0, &buf, &len), -EISDIR);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int keep = open(fifo, O_RDWR | O_CLOEXEC); /* so that the reader's open does not block */
	assert_true(keep >= 0);
	assert_int_equal(pcl_read_file(fifo, 4096, PCL_READ_REGULAR, &buf, &len), -EINVAL);
	close(keep);
	/* a planted link is refused when asked, followed otherwise */
	char link[160];
	snprintf(link, sizeof(link), "%s/link", dir);
	write_file(3);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(pcl_read_file(link, 4096, PCL_READ_NOFOLLOW, &buf, &len), -ELOOP);
	assert_null(buf);
	assert_int_equal(pcl_read_file(link, 4096, 0, &buf, &len), 0);
	assert_int_equal(len, 3);
	free(buf);
	unlink(link);
	assert_string_equal(pcl_read_strerror(-EINVAL), "not a regular file");
	assert_string_equal(pcl_read_strerror(-EFBIG), "larger than the limit");
}

static void passes_on_the_open_errno(void **state)
{
	char missing[160];
	char *buf = (char *)1;
	size_t len;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	assert_int_equal(pcl_read_file(missing, 10, 0, &buf, &len), -ENOENT);
	assert_null(buf);
	assert_string_equal(pcl_read_strerror(-ENOENT), strerror(ENOENT));
}

static void reads_a_pipe_to_its_end(void **state)
{
	int p[2];
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "a\0b", 3), 3);
	close(p[1]);
	assert_int_equal(pcl_read_fd(p[0], 3, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b", 4);
	free(buf);
	close(p[0]);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abcd", 4), 4);
	close(p[1]);
	assert_int_equal(pcl_read_fd(p[0], 3, &buf, &len), -EFBIG);
	assert_null(buf);
	close(p[0]);
}

static void expect_content(const char *want)
{
	char *buf;
	size_t len;
	assert_int_equal(pcl_read_file(path, 1024, 0, &buf, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
	free(buf);
}

static void replaces_a_file_whole_or_not_at_all(void **state)
{
	char tmp[160], target[160], missing[160];
	struct stat st;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_int_equal(pcl_write_file_atomic(path, "first", 5, 0600), 0);
	expect_content("first");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(pcl_write_file_atomic(path, "second, longer", 14, 0600), 0);
	expect_content("second, longer");
	assert_int_equal(access(tmp, F_OK), -1); /* no temporary left behind */

	/* A link planted at the temporary name is not followed: the old bytes stay, and
	 * the link's target is untouched. */
	snprintf(target, sizeof(target), "%s/target", dir);
	assert_int_equal(symlink(target, tmp), 0);
	assert_int_equal(pcl_write_file_atomic(path, "third", 5, 0600), -ELOOP);
	expect_content("second, longer");
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(unlink(tmp), 0);

	snprintf(missing, sizeof(missing), "%s/no/such/file", dir);
	assert_int_equal(pcl_write_file_atomic(missing, "x", 1, 0600), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reads_up_to_the_cap_and_refuses_one_byte_more),
	    cmocka_unit_test(reads_proc_files_whose_size_is_unknown),
	    cmocka_unit_test(refuses_what_is_not_a_regular_file),
	    cmocka_unit_test(passes_on_the_open_errno),
	    cmocka_unit_test(reads_a_pipe_to_its_end),
	    cmocka_unit_test(replaces_a_file_whole_or_not_at_all),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
