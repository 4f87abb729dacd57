"""Bundling a Hot project directory without the Hot CLI (``manage.py bundle``,
``python -m builds.bundle``): the zip the CLI would make, accepted by the upload check."""

import io
import subprocess
import sys
import zipfile

import pytest
from django.core.management import CommandError, call_command

from builds.bundle import inspect_bundle
from builds.bundle.writer import BundleWriteError, bundle_project
from tests import bundles
from tests.live import BASE_DIR

EXAMPLE = BASE_DIR / "examples" / "hello"


def test_the_example_project_bundles_as_the_cli_lays_it_out():
    bundle = bundle_project(EXAMPLE)
    info = inspect_bundle(bundle.data, client_hash=bundle.bundle_hash)
    assert info.hash_matched == "bundle_hash" and info.manifest_consistent
    assert info.manifest.project_name == "hello"
    assert sorted(h.event_type for h in info.event_handlers if not h.system) == [
        "user.greeted",
        "user.signup",
    ]
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == [
        "manifest.hot",
        "hot/src/hello/main.hot",
        "docs/project/docs.json",
    ]
    assert {i.compress_type for i in infos} == {93}  # zstd, as the CLI writes
    source = (EXAMPLE / "hot/src/hello/main.hot").read_bytes()
    assert bundle.bundle_hash == bundles.compute_bundle_hash([source])  # independent check


def test_layout_from_hot_conf_sources_resources_and_defaults(tmp_path):
    project = tmp_path / "shop"
    (project / "code" / "orders").mkdir(parents=True)
    (project / "code" / "orders" / "main.hot").write_text(
        '::orders::main ns\n\nplaced\nmeta {on-event: "order.placed", once: true}\n'
        'fn (event) { event.data }\n\nnightly\nmeta {schedule: "0 3 * * *"}\nfn (e) { 1 }\n'
    )
    (project / "code" / "notes.txt").write_text("not a source")
    (project / "assets").mkdir()
    (project / "assets" / "prompt.md").write_text("Hello")
    (project / "hot.hot").write_text(
        '::hot::conf ns\nhot.set.project "shop"\nhot.project.shop.src.paths ["./code"]\n'
        'hot.project.shop.resources.paths ["./assets"]\n'
    )
    bundle = bundle_project(project)
    info = inspect_bundle(bundle.data, client_hash=bundle.bundle_hash)
    assert bundle.project == "shop" and bundle.resource_count == 1
    assert {"hot/src/orders/main.hot", "resources/prompt.md"} <= set(info.files)
    assert not any("notes.txt" in path for path in info.files)  # only .hot files are sources
    (handler,) = [h for h in info.event_handlers if not h.system]
    assert (handler.event_type, handler.fn, handler.once) == (
        "order.placed",
        "::orders::main/placed",
        True,
    )
    (schedule,) = info.schedules
    assert schedule.cron == "0 3 * * *" and schedule.file == "hot/src/orders/main.hot"
    assert [f.path for f in info.manifest.resources] == ["prompt.md"]


def test_default_layout_uses_the_folder_name(tmp_path):
    project = tmp_path / "tiny"
    (project / "hot" / "src").mkdir(parents=True)
    (project / "hot" / "src" / "a.hot").write_text("::tiny ns\nx 1\n")
    assert bundle_project(project).project == "tiny"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: None, "is not a directory"),
        (lambda root: root.mkdir(), "No .hot files found"),
    ],
)
def test_unusable_directories_are_refused_with_a_reason(tmp_path, setup, message):
    root = tmp_path / "project"
    setup(root)
    with pytest.raises(BundleWriteError, match=message):
        bundle_project(root)
    with pytest.raises(CommandError, match=message):
        call_command("bundle", str(root), "-o", str(tmp_path / "out.zip"))


def test_symlinked_sources_are_refused(tmp_path):
    src = tmp_path / "p" / "hot" / "src"
    src.mkdir(parents=True)
    (tmp_path / "elsewhere.hot").write_text("::x ns\n")
    (src / "link.hot").symlink_to(tmp_path / "elsewhere.hot")
    with pytest.raises(BundleWriteError, match="symbolic links"):
        bundle_project(tmp_path / "p")


def test_the_command_writes_the_zip_and_prints_the_hash(tmp_path, capsys):
    target = tmp_path / "hello.hot.zip"
    call_command("bundle", str(EXAMPLE), "-o", str(target))
    captured = capsys.readouterr()
    assert captured.out.strip() == bundle_project(EXAMPLE).bundle_hash
    assert "project hello" in captured.err and "user.signup" in captured.err
    assert inspect_bundle(target).bundle_hash == captured.out.strip()


def test_python_dash_m_needs_no_django(tmp_path):
    target = tmp_path / "out.zip"
    result = subprocess.run(
        [sys.executable, "-m", "builds.bundle", str(EXAMPLE), "-o", str(target)],
        cwd=BASE_DIR,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == inspect_bundle(target).bundle_hash
    missing = subprocess.run(
        [sys.executable, "-m", "builds.bundle", str(tmp_path / "nope")],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "is not a directory" in missing.stderr
    assert "Traceback" not in missing.stderr
