/*
 * fidoh_helper.c - the fido helper's body, run in a child forked by the portcullis CLI.
 * In order: keep only the CLI's socket, open the key (hidraw, or the simulator's
 * socket for "sim:" paths), drop groups, gid and uid (root becomes nobody; anyone else
 * stays themselves), clear every capability, set no_new_privs, install SANDBOX_FIDO;
 * only then does libfido2 read the first byte from the key, through I/O functions on
 * the descriptor opened before. Bytes from the key are untrusted (libfido2 parses
 * them here, inside the sandbox); the request from the CLI is decoded bounds-checked.
 */
#include "fidoh.h"

#include <errno.h>
#include <fcntl.h>
#include <fido.h>
#include <grp.h>
#include <linux/close_range.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "fidosim.h"
#include "sandbox.h"

#define SOCK_FD	 3
#define REPORT	 64
#define NOBODY	 65534
#define KEY_NAME "portcullis-fido-helper-key"

/* The key's descriptor, opened before the sandbox; libfido2 reaches it through io. */
static struct key_fd {
	int fd;
	bool sim; /* simulator: 64-byte SEQPACKET reports, no report ID */
} key = {-1, false};

static void *io_open(const char *path)
{
	return strcmp(path, KEY_NAME) == 0 && key.fd >= 0 ? &key : NULL;
}

static void io_close(void *h)
{
	struct key_fd *k = h;

	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

/* One report within ms milliseconds (-1: wait). */
static int io_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct key_fd *k = h;
	struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
	int rc;

	do
		rc = poll(&pfd, 1, ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	ssize_t n = read(k->fd, buf, len);
	if (n <= 0 || (k->sim && (size_t)n != len))
		return -1;
	return (int)n;
}

/* libfido2 writes the report ID (0) and the report: hidraw takes both, the simulator
 * only the report. */
static int io_write(void *h, const unsigned char *buf, size_t len)
{
	struct key_fd *k = h;
	size_t skip = k->sim ? 1 : 0;

	if (len != REPORT + 1 || buf[0] != 0)
		return -1;
	if (write(k->fd, buf + skip, len - skip) != (ssize_t)(len - skip))
		return -1;
	return (int)len;
}

static int connect_sim(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *p = path + strlen(FIDOSIM_PREFIX);
	int fd;

	if (strlen(p) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, p, strlen(p) + 1);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The key's descriptor, or a FIDOH_ST_* status. */
static int open_key(const char *path)
{
	char found[512];
	int fd;

	if (path == NULL) {
		fido_dev_info_t *list = fido_dev_info_new(16);
		size_t n = 0;
		if (list == NULL || fido_dev_info_manifest(list, 16, &n) != FIDO_OK || n == 0) {
			fido_dev_info_free(&list, 16);
			return FIDOH_ST_NO_DEVICE;
		}
		snprintf(found, sizeof(found), "%s",
			 fido_dev_info_path(fido_dev_info_ptr(list, 0)));
		fido_dev_info_free(&list, 16);
		path = found;
	}
	if (fidosim_is_sim_path(path)) {
		key.sim = true;
		fd = connect_sim(path);
		return fd < 0 ? FIDOH_ST_ERRNO(-fd) : fd;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return FIDOH_ST_ERRNO(errno);
	/* Like libfido2's own hidraw transport: one client at a time. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		return FIDOH_ST_ERRNO(e);
	}
	return fd;
}

/* Groups, gid, uid; then capabilities; then no_new_privs. 0 or -1. */
static int drop_privileges(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	cap_t none;

	if (geteuid() == 0 || uid == 0) {
		struct passwd *pw = getpwnam("nobody");
		uid = pw ? pw->pw_uid : NOBODY;
		gid = pw ? pw->pw_gid : NOBODY;
		if (setgroups(0, NULL) != 0)
			return -1;
	} else if (getgroups(0, NULL) > 0 && setgroups(0, NULL) != 0 && errno != EPERM) {
		return -1; /* an unprivileged user cannot shed groups: keeps them */
	}
	if (setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
		return -1;
	if (uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		return -1; /* root must be gone for good */
	if ((none = cap_init()) == NULL)
		return -1;
	int rc = cap_set_proc(none);
	cap_free(none);
	if (rc != 0 || prctl(PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* Load what OpenSSL would otherwise open files for once sandboxed: its configuration,
 * the algorithms libfido2 uses for the PIN protocol, the random generator's seed. */
static void warm_up_crypto(void)
{
	uint8_t b[16];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;

	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG | OPENSSL_INIT_ADD_ALL_CIPHERS |
				OPENSSL_INIT_ADD_ALL_DIGESTS,
			    NULL);
	if (RAND_bytes(b, sizeof(b)) != 1)
		return;
	explicit_bzero(b, sizeof(b));
	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL)) != NULL &&
	    EVP_PKEY_keygen_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1)
		EVP_PKEY_keygen(ctx, &pk);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
}

static void answer(struct fidoh_msg *res, int status)
{
	res->status = status;
	fidoh_send(SOCK_FD, res);
	fidoh_msg_wipe(res);
}

static void make_cred(fido_dev_t *dev, struct fidoh_msg *req, struct fidoh_msg *res)
{
	fido_cred_t *c = fido_cred_new();
	int rc = FIDO_ERR_INTERNAL;

	res->kind = FIDOH_CRED;
	if (c && fido_cred_set_type(c, COSE_ES256) == FIDO_OK &&
	    fido_cred_set_clientdata_hash(c, req->cdh, sizeof(req->cdh)) == FIDO_OK &&
	    fido_cred_set_rp(c, req->rp, "Portcullis approvals") == FIDO_OK &&
	    fido_cred_set_user(c, req->user_id, sizeof(req->user_id), req->user, req->user, NULL) ==
		FIDO_OK &&
	    fido_cred_set_rk(c, FIDO_OPT_TRUE) == FIDO_OK &&
	    fido_cred_set_prot(c, req->prot) == FIDO_OK)
		rc = fido_dev_make_cred(dev, c, req->has_pin ? req->pin : NULL);
	fidoh_msg_wipe(req);
	if (rc == FIDO_OK &&
	    (fido_cred_authdata_raw_len(c) > sizeof(res->authdata) ||
	     fido_cred_sig_len(c) > sizeof(res->sig) || fido_cred_x5c_len(c) > sizeof(res->x5c) ||
	     fido_cred_fmt(c) == NULL || strlen(fido_cred_fmt(c)) >= sizeof(res->fmt)))
		rc = FIDO_ERR_INVALID_CBOR; /* larger than the CLI takes */
	if (rc == FIDO_OK) {
		snprintf(res->fmt, sizeof(res->fmt), "%s", fido_cred_fmt(c));
		res->authdata_len = fido_cred_authdata_raw_len(c);
		memcpy(res->authdata, fido_cred_authdata_raw_ptr(c), res->authdata_len);
		res->sig_len = fido_cred_sig_len(c);
		memcpy(res->sig, fido_cred_sig_ptr(c), res->sig_len);
		res->x5c_len = fido_cred_x5c_len(c);
		if (res->x5c_len)
			memcpy(res->x5c, fido_cred_x5c_ptr(c), res->x5c_len);
	}
	fido_cred_free(&c);
	answer(res, rc);
}

static void get_assert(fido_dev_t *dev, struct fidoh_msg *req, struct fidoh_msg *res)
{
	fido_assert_t *a = fido_assert_new();
	int rc = FIDO_ERR_INTERNAL;
	bool ok = a && fido_assert_set_rp(a, req->rp) == FIDO_OK &&
		  fido_assert_set_clientdata_hash(a, req->cdh, sizeof(req->cdh)) == FIDO_OK &&
		  fido_assert_set_up(a, FIDO_OPT_TRUE) == FIDO_OK;

	res->kind = FIDOH_ASSERTION;
	for (size_t i = 0; ok && i < req->n_allow; i++)
		ok = fido_assert_allow_cred(a, req->allow[i], req->allow_len[i]) == FIDO_OK;
	if (ok)
		rc = fido_dev_get_assert(dev, a, req->has_pin ? req->pin : NULL);
	fidoh_msg_wipe(req);
	if (rc == FIDO_OK && fido_assert_count(a) < 1)
		rc = FIDO_ERR_NO_CREDENTIALS;
	if (rc == FIDO_OK && (fido_assert_id_len(a, 0) > sizeof(res->cred) ||
			      fido_assert_authdata_len(a, 0) > sizeof(res->authdata) ||
			      fido_assert_sig_len(a, 0) > sizeof(res->sig)))
		rc = FIDO_ERR_INVALID_CBOR;
	if (rc == FIDO_OK) {
		res->cred_len = fido_assert_id_len(a, 0);
		memcpy(res->cred, fido_assert_id_ptr(a, 0), res->cred_len);
		res->authdata_len = fido_assert_authdata_len(a, 0);
		memcpy(res->authdata, fido_assert_authdata_ptr(a, 0), res->authdata_len);
		res->sig_len = fido_assert_sig_len(a, 0);
		memcpy(res->sig, fido_assert_sig_ptr(a, 0), res->sig_len);
	}
	fido_assert_free(&a);
	answer(res, rc);
}

void fidoh_helper_main(int sock, const char *path, void *arg)
{
	static const fido_dev_io_t io = {io_open, io_close, io_read, io_write};
	static struct fidoh_msg req, res;
	struct pcl_diag diag = {0};
	fido_dev_t *dev = NULL;
	int rc;

	(void)arg;
	/* The CLI's socket becomes fd 3; nothing else of the CLI's stays open but stdio. */
	signal(SIGPIPE, SIG_DFL);
	if ((sock != SOCK_FD && dup2(sock, SOCK_FD) != SOCK_FD) ||
	    syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0) != 0)
		_exit(1);
	fido_init(0);
	warm_up_crypto();
	res.kind = FIDOH_OPENED;
	if ((rc = open_key(path)) < 0) {
		answer(&res, rc);
		_exit(1);
	}
	key.fd = rc;
	if (drop_privileges() != 0 || sandbox_apply(SANDBOX_FIDO) != 0) {
		answer(&res, FIDOH_ST_SANDBOX);
		_exit(1);
	}
	/* From here on, bytes from the key. */
	if ((dev = fido_dev_new()) == NULL)
		rc = FIDO_ERR_INTERNAL;
	else if ((rc = fido_dev_set_io_functions(dev, &io)) == FIDO_OK)
		rc = fido_dev_open(dev, KEY_NAME);
	answer(&res, rc);
	if (rc != FIDO_OK)
		_exit(1);
	rc = fidoh_recv(SOCK_FD, &req, -1, &diag);
	if (rc == 0 && req.kind == FIDOH_MAKE_CRED)
		make_cred(dev, &req, &res);
	else if (rc == 0 && req.kind == FIDOH_ASSERT)
		get_assert(dev, &req, &res);
	else if (rc != -EPIPE) {
		res.kind = FIDOH_ASSERTION;
		answer(&res, FIDOH_ST_BAD_REQ);
	}
	fidoh_msg_wipe(&req);
	fido_dev_close(dev);
	fido_dev_free(&dev);
	_exit(0);
}
