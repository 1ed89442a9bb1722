"""`host dns --format resolver --apply`: the systemd-resolved drop-in is installed once, never replaces a file
calicotool did not write, and unenroll's removal takes only calicotool's file (real files in a temp dir)."""

from __future__ import annotations

import io
from pathlib import Path

from calicotool.cli.context import Environment
from calicotool.cli.main import main
from calicotool.overlay import resolver


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {"CALICOTOOL_RESOLVED_DIR": str(tmp_path / "resolved.conf.d")}
    code = main(["--datastore", f"dir:{tmp_path / 'ds'}", "host", "dns", *args],
                env=Environment(stdout=out, stderr=err, environ=environ))
    return code, out.getvalue(), err.getvalue()


def test_install_once_then_nothing_to_do(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "--format", "resolver", "--cluster-dns", "10.244.7.10", "--apply")
    path = tmp_path / "resolved.conf.d" / resolver.FILE_NAME
    assert code == 0 and f"wrote {path}" in out, err
    assert "DNS=10.244.7.10" in path.read_text() and "Domains=~cluster.local" in path.read_text()
    code, out, _ = run(tmp_path, "--format", "resolver", "--cluster-dns", "10.244.7.10", "--apply")
    assert code == 0 and out.startswith("nothing to do")
    code, out, _ = run(tmp_path, "--format", "resolver", "--cluster-dns", "10.244.7.11", "--apply")
    assert code == 0 and "DNS=10.244.7.11" in path.read_text()
    environ = {"CALICOTOOL_RESOLVED_DIR": str(path.parent)}
    assert resolver.remove(environ) == f"removed {path}" and not path.exists()
    assert resolver.remove(environ) is None


def test_foreign_file_and_resolv_conf_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "resolved.conf.d" / resolver.FILE_NAME
    path.parent.mkdir()
    path.write_text("[Resolve]\nDNS=192.0.2.53\n")
    code, _, err = run(tmp_path, "--format", "resolver", "--cluster-dns", "10.244.7.10", "--apply")
    assert code == 4 and "was not written by calicotool" in err
    assert resolver.remove({"CALICOTOOL_RESOLVED_DIR": str(path.parent)}) is None
    assert path.read_text() == "[Resolve]\nDNS=192.0.2.53\n"
    code, _, err = run(tmp_path, "--format", "resolv.conf", "--cluster-dns", "10.244.7.10", "--apply")
    assert code == 2 and "--apply installs the systemd-resolved drop-in" in err
