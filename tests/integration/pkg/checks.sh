# checks.sh - sourced by the package tests (test_pkg.sh on the host, systemd_inside.sh in
# the container): count failed checks, print each result. Test-only code.
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
