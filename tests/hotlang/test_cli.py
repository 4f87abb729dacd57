from hotlang.cli import main

GOOD = """::demo::t ns

double fn (x) { mul(x, 2) }

test-double meta ["test"] fn () {
  assert-eq(4, double(2), "double 2")
}

test-map-meta meta {test: true} fn () {
  assert(eq(6, double(3)))
}
"""

FAILING = """::demo::f ns

test-wrong meta ["test"] fn () {
  assert-eq(5, add(2, 2), "two plus two")
}

test-halts meta ["test"] fn () {
  fail("stop here")
}
"""


def test_check_reports_parsed_and_failed(tmp_path, capsys):
    (tmp_path / "ok.hot").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.hot").write_text("::x ns\nv [1,\n")
    code = main(["check", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert out[-1] == "1 parsed, 1 failed"
    assert "bad.hot:3:1:" in out[0]


def test_check_succeeds_on_clean_files(tmp_path, capsys):
    (tmp_path / "ok.hot").write_text(GOOD)
    assert main(["check", str(tmp_path / "ok.hot")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1 parsed, 0 failed"


def test_check_reports_unknown_names_at_their_use_and_unsupported_names(tmp_path, capsys):
    src = "::demo::c ns\nclient ::hot::ws/connect\nf fn (x) {\n  add(x, missing-name)\n}\n"
    (tmp_path / "c.hot").write_text(src)
    code = main(["check", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert out[0].endswith("c.hot:4:10: error: unknown name 'missing-name'")
    assert out[1].endswith(
        "c.hot:2:8: unsupported: ::hot::ws/connect is not supported by this runtime"
    )
    assert out[-2:] == ["1 unknown names, 1 unsupported uses", "0 parsed, 1 failed"]


def test_test_command_passes(tmp_path, capsys):
    (tmp_path / "ok.hot").write_text(GOOD)
    assert main(["test", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "2 passed, 0 failed"


def test_test_command_reports_failures_with_locations(tmp_path, capsys):
    (tmp_path / "ok.hot").write_text(GOOD)
    (tmp_path / "f.hot").write_text(FAILING)
    code = main(["test", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.strip().splitlines()[-1] == "2 passed, 2 failed"
    assert "FAIL ::demo::f/test-wrong" in out and "f.hot:3)" in out
    assert "two plus two: expected 5, got 4" in out
    assert "halted: stop here" in out
