/*
 * test_luks.c - crypto-erase over a LUKS2 header in a plain file (libcryptsetup formats
 * it; no device-mapper needed): the region before the data offset is overwritten and
 * read back, no header loads afterwards and the data area is untouched; a file without
 * a header is refused with nothing written; a header whose data offset lies past the end
 * of the medium is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "luks.h"

#define SIZE (20u << 20)

struct img {
	char path[64];
	int fd;
};

static void make_file(struct img *m, const uint8_t fill)
{
	static uint8_t buf[1 << 20];

	snprintf(m->path, sizeof(m->path), "/tmp/pcl-luks-test-XXXXXX");
	m->fd = mkstemp(m->path);
	assert_true(m->fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (unsigned i = 0; i < SIZE / sizeof(buf); i++)
		assert_int_equal(write(m->fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
}

static void luks2_format(const char *path)
{
	struct crypt_device *cd = NULL;
	struct crypt_pbkdf_type fast = {.type = CRYPT_KDF_PBKDF2,
					.hash = "sha256",
					.iterations = 1000,
					.flags = CRYPT_PBKDF_NO_BENCHMARK};

	assert_int_equal(crypt_init(&cd, path), 0);
	assert_int_equal(crypt_set_pbkdf_type(cd, &fast), 0);
	assert_int_equal(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, NULL),
			 0);
	assert_true(crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, "secret", 6) >= 0);
	crypt_free(cd);
}

static uint8_t *read_all(int fd)
{
	uint8_t *b = malloc(SIZE);

	assert_non_null(b);
	assert_int_equal(pread(fd, b, SIZE, 0), (ssize_t)SIZE);
	return b;
}

static void erase_leaves_no_header_and_the_data_area_alone(void **state)
{
	struct img m;
	struct wipe_luks_info info;
	struct wipe_result res;
	uint8_t key[WIPE_KEY_LEN] = {7};
	uint8_t *before, *after;

	(void)state;
	make_file(&m, 0xa5);
	luks2_format(m.path);
	assert_int_equal(wipe_luks_present(m.path), 1);
	assert_int_equal(wipe_luks_probe(m.path, &info, &(struct pcl_diag){0}), 0);
	assert_int_equal(info.version, 2);
	assert_int_equal(info.data_offset, 16u << 20);
	before = read_all(m.fd);
	assert_int_equal(
	    wipe_crypto_erase(&wipe_fd_ops, &m.fd, m.path, key, SIZE, 512, &info, &res), 0);
	assert_int_equal(res.status, WIPE_OK);
	assert_int_equal(res.verified, 16u << 20);
	assert_int_equal(wipe_luks_present(m.path), 0);
	after = read_all(m.fd);
	/* No header magic anywhere before the data; the data area as it was. */
	for (size_t off = 0; off < info.data_offset; off += 512)
		assert_false(memcmp(after + off, "LUKS\xba\xbe", 6) == 0 ||
			     memcmp(after + off, "SKUL\xba\xbe", 6) == 0);
	assert_memory_equal(after + info.data_offset, before + info.data_offset,
			    SIZE - info.data_offset);
	assert_true(memcmp(after, before, 4096) != 0);
	free(before);
	free(after);
	close(m.fd);
	unlink(m.path);
}

static void no_header_is_refused_untouched(void **state)
{
	struct img m;
	struct wipe_luks_info info;
	struct wipe_result res;
	uint8_t key[WIPE_KEY_LEN] = {7};
	uint8_t *after;

	(void)state;
	make_file(&m, 0x5a);
	assert_int_equal(wipe_luks_present(m.path), 0);
	assert_int_equal(
	    wipe_crypto_erase(&wipe_fd_ops, &m.fd, m.path, key, SIZE, 512, &info, &res),
	    -ENOMEDIUM);
	assert_int_equal(res.status, WIPE_ERR_REFUSED);
	assert_non_null(strstr(res.reason, "no LUKS header"));
	after = read_all(m.fd);
	for (size_t i = 0; i < SIZE; i++)
		if (after[i] != 0x5a)
			fail_msg("byte %zu written", i);
	free(after);
	close(m.fd);
	unlink(m.path);
}

static void a_data_offset_past_the_medium_is_refused(void **state)
{
	struct img m;
	struct wipe_luks_info info;
	struct wipe_result res;
	uint8_t key[WIPE_KEY_LEN] = {7};

	(void)state;
	make_file(&m, 0);
	luks2_format(m.path);
	/* The medium as the caller sees it is smaller than the header says. */
	assert_int_equal(
	    wipe_crypto_erase(&wipe_fd_ops, &m.fd, m.path, key, 8u << 20, 512, &info, &res),
	    -EINVAL);
	assert_int_equal(res.status, WIPE_ERR_REFUSED);
	assert_non_null(strstr(res.reason, "not within the medium"));
	assert_int_equal(wipe_luks_present(m.path), 1);
	close(m.fd);
	unlink(m.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(erase_leaves_no_header_and_the_data_area_alone),
	    cmocka_unit_test(no_header_is_refused_untouched),
	    cmocka_unit_test(a_data_offset_past_the_medium_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
