"""evaluation.files: content hashes and writes that never leave half a file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from evaluation import files
from evaluation.render import manifest


def test_hash_file_is_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"year,unit_id\n2024,S1\n" * 100_000)  # several 1 MiB blocks
    assert files.hash_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_write_atomically_leaves_the_old_file_when_the_writer_crashes(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old report", encoding="utf-8")

    def crash_half_way(tmp: Path) -> None:
        tmp.write_text("<html><body>half of a new rep", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(target, crash_half_way)
    assert target.read_text(encoding="utf-8") == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"], "temporary file removed"


def test_write_text_atomically_replaces_in_one_step(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src).name, Path(dst).name, Path(src).read_text(encoding="utf-8")))
        real_replace(src, dst)

    monkeypatch.setattr(manifest.os, "replace", spy)
    files.write_text_atomically(target, "complete")
    [(src, dst, text)] = seen
    assert src.startswith(".index.") and src.endswith(".html") and dst == "index.html"
    assert text == "complete" and target.read_text(encoding="utf-8") == "complete"


# SHA-256 test vectors (FIPS 180-2): "abc" and the empty input
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_hashes_of_known_bytes(tmp_path):
    (tmp_path / "abc.txt").write_bytes(b"abc")
    (tmp_path / "empty.txt").write_bytes(b"")
    assert files.hash_file(tmp_path / "abc.txt") == SHA256_ABC
    assert files.hash_file(tmp_path / "empty.txt") == SHA256_EMPTY
    assert files.hash_text("abc") == SHA256_ABC
    assert files.hash_text("Æ") == hashlib.sha256(b"\xc3\x86").hexdigest()  # UTF-8 bytes


def test_write_text_atomically_keeps_the_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "index.html"
    target.write_text("old index", encoding="utf-8")
    with pytest.raises(TypeError):
        files.write_text_atomically(target, None)  # not text: the write fails half way
    assert target.read_text(encoding="utf-8") == "old index"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"], "temporary file removed"


def test_write_text_atomically_makes_the_folder_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "run" / "tables" / "a.csv"
    assert files.write_text_atomically(target, "x;y\n1;æ\n") == target
    assert target.read_bytes() == "x;y\n1;æ\n".encode()
    assert [p.name for p in target.parent.iterdir()] == ["a.csv"]


def test_write_json_atomically_is_indented_utf8_with_a_final_newline(tmp_path):
    target = tmp_path / "manifest.json"
    files.write_json_atomically(target, {"skole": "Åskolen", "år": [2023, 2024]})
    assert target.read_text(encoding="utf-8") == (
        '{\n  "skole": "Åskolen",\n  "år": [\n    2023,\n    2024\n  ]\n}\n'
    )


def test_temporary_name_is_a_hidden_sibling_with_the_same_suffix(tmp_path):
    tmp = files.temporary_name(tmp_path / "index.html")
    assert tmp == tmp_path / f".index.{os.getpid()}.tmp.html"
