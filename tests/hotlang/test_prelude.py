"""The library's types written in Hot (hotlang/stdlib/hot/*.hot), `::hot::md`, and box's
honest answers."""

from .helpers import expr, run, value


def test_media_types_variants_and_helpers():
    src = """
FileMeta ::hot::file/FileMeta
Media ::hot::media/Media
file fn (path: Str): FileMeta {
  FileMeta({file-id: "f1", path: path, size: 3, etag: null, content-type: "image/png",
            storage-backend: "local", created-at: 1, updated-at: 1})
}
main fn () {
  img Media.Image({file: file("a.png"), width: 10, height: 20, format: "png", prompt: "p"})
  aud Media.Audio(::hot::media/Audio({file: file("a.mp3"), duration_seconds: 3.5}))
  kind match img { Media.Image => "image", _ => "other" }
  [::hot::media/is-image(img), ::hot::media/is-audio(img), ::hot::media/has-duration(aud),
   ::hot::media/duration(aud), ::hot::media/duration(img), img.file.path, img.prompt, kind,
   is-type(img, Media.Image)]
}
"""
    assert value(src) == [True, False, True, 3.5, None, "a.png", "p", "image", True]


def test_a_library_record_checks_its_required_fields():
    out = run('main fn () { ::hot::file/FileMeta({path: "x"}) }\n')
    assert out.status == "failed"
    assert "missing field(s)" in out.error


def test_task_and_run_record_types():
    src = """
main fn () {
  info ::hot::task/TaskInfo({id: "t1", stream: ::hot::stream/Stream({id: "s"}),
    origin-run: ::hot::run/Run({id: "r", type: "event", status: "ok", start-time: null,
      retry-attempt: 0, max-retries: 0, retry-delay: 0, origin-run-id: null})})
  [info.origin-run.id, is-type(info, ::hot::task/TaskInfo),
   ::hot::task/TaskOptions({timeout: null, type: null}).timeout]
}
"""
    assert value(src) == ["r", True, None]


def test_md_frontmatter():
    md = "::hot::md/parse-frontmatter"
    raw = '"---\\nname: tone\\ntags: [a, b]\\nratio: 0.5\\n---\\nBody text\\n"'
    assert expr(f"{md}({raw})") == {
        "frontmatter": {"name": "tone", "tags": ["a", "b"], "ratio": 0.5},
        "body": "Body text\n",
    }
    assert expr(f'{md}("# just markdown")') == {"frontmatter": {}, "body": "# just markdown"}
    assert expr(f'is-err({md}("---\\nname: x\\n"))') is True
    assert expr(f'is-err({md}("---\\n[unclosed\\n---\\n"))') is True


def test_box_is_never_enabled_and_fails_at_its_use():
    assert expr("[::hot::box/enabled(), ::hot::box/stats().enabled]") == [False, False]
    out = run('main fn () { ::hot::box/start({image: "alpine"}) }\n')
    assert out.status == "failed"
    assert "::hot::box/start is not supported by this runtime" in out.error
