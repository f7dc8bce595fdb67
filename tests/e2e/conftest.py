# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures of the end-to-end tests.

  backend   which box sits between the guests: 'vdevpeer' (the product:
            build/app/dpdk-vdevpeer with net_vdevpeer ports, the default) or
            'vhost' (stock dpdk-testpmd with DPDK's own net_vhost, the
            reference the harness is checked against).  Chosen with
            VDP_BACKEND=vdevpeer|vhost|both (both: each test runs twice).
  procs     a ProcGroup: start processes with unique --file-prefix and logs
            in the test's tmp dir; all stopped and cleaned up after the test,
            pass or fail; their logs are attached to a failed test's report.
  middle    factory: middle(ports, app_args=..., kind=...) -> Middle (not
            started) for the current backend.

Run:  python3 -m pytest tests/e2e        (Debian's python3, which has
      python3-pytest and python3-scapy; /usr/bin/python3 if a pyenv or venv
      python comes first in PATH)
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from lib import procs as P  # noqa: E402

BACKENDS = ("vdevpeer", "vhost")


def _backends():
    want = os.environ.get("VDP_BACKEND", "vdevpeer").strip()
    if want == "both":
        return list(BACKENDS)
    if want not in BACKENDS:
        raise pytest.UsageError("VDP_BACKEND=%r: expected vdevpeer, vhost or both" % want)
    return [want]


def pytest_configure(config):
    config.addinivalue_line("markers", "vdevpeer_only: the test is about dpdk-vdevpeer/net_vdevpeer "
                            "behaviour that net_vhost does not have; skipped for backend vhost")
    if os.geteuid() != 0:
        # vhost-user with --no-huge works unprivileged, but /var/run/dpdk
        # does not.
        config.issue_config_time_warning(pytest.PytestWarning("e2e tests expect to run as root"), 2)


def pytest_report_header(config):
    return ["vdevpeer e2e: backend(s) %s, app %s (%s), pmd %s (%s), testpmd %s" % (
        ",".join(_backends()), P.APP, "built" if os.path.exists(P.APP) else "MISSING",
        P.PMD_SO, "built" if os.path.exists(P.PMD_SO) else "MISSING", P.TESTPMD)]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _backends())


@pytest.fixture(autouse=True)
def _vdevpeer_only(request):
    if request.node.get_closest_marker("vdevpeer_only") and "backend" in request.fixturenames:
        if request.getfixturevalue("backend") != "vdevpeer":
            pytest.skip("about net_vdevpeer behaviour; not applicable to backend vhost")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    group = getattr(item, "_vdp_group", None)
    if group is None:
        return
    if rep.failed:
        for title, text in group.report():
            rep.sections.append(("process " + title, text))
    if rep.when == "teardown" and getattr(item, "_vdp_cleanup_errors", None):
        rep.sections.append(("cleanup", "\n".join(item._vdp_cleanup_errors)))


@pytest.fixture
def procs(request, tmp_path):
    group = P.ProcGroup(tmp_path, request.node.name)
    request.node._vdp_group = group

    def fin():
        request.node._vdp_cleanup_errors = group.cleanup()
    request.addfinalizer(fin)
    return group


def need_app():
    if not os.path.exists(P.APP):
        pytest.fail("%s is not built (meson setup build && ninja -C build); "
                    "VDP_BACKEND=vhost runs the harness against net_vhost" % P.APP, pytrace=False)


def need_pmd():
    if not os.path.exists(P.PMD_SO):
        pytest.fail("%s is not built (meson setup build && ninja -C build)" % P.PMD_SO, pytrace=False)


@pytest.fixture
def app(request):
    """Path of the dpdk-vdevpeer binary; tests of the app itself.  Under
    VDP_BACKEND=vhost a missing binary skips them instead of failing."""
    if not os.path.exists(P.APP) and "vdevpeer" not in _backends():
        pytest.skip("app not built; backend vhost run")
    need_app()
    return P.APP


@pytest.fixture
def middle(backend, procs):
    """middle(ports, kind=None, **kw) -> Middle for the backend (or kind)."""
    def make(ports, kind=None, **kw):
        kind = kind or backend
        if kind == "vdevpeer":
            need_app()
        elif kind == "plugin":
            need_pmd()
        return P.MIDDLES[kind](procs, ports, **kw)
    return make


@pytest.fixture(scope="session")
def guest_kit():
    """The Linux guest kit (kernel + initramfs, ci/guest-kit.sh), built when
    missing; the tests that boot Linux guests skip only if that fails."""
    from lib.qemu import GuestKitMissing, ensure_guest_kit
    try:
        return ensure_guest_kit()
    except GuestKitMissing as e:
        pytest.skip(f"Linux guest kit unavailable: {e}  (prepare it with: ci/guest-kit.sh)")


@pytest.fixture(scope="session", autouse=True)
def _state_dir_cleanup():
    """net_vdevpeer ports make <runtime base>/dpdk/vdevpeer-state when they
    start and leave it (other processes may use it); after the session it
    goes if the tests left it empty."""
    yield
    import dpdk_runtime
    dpdk_runtime.remove_state_files("/nonexistent-socket-dir")
