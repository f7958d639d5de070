"""components/files.py: the one reader of YAML and JSON files, each failure one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.files import FileError, read_document


class ToolError(Exception):
    pass


def test_yaml_and_json_are_read_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("config:\n  key: 1\n")
    (tmp_path / "a.json").write_text('{"key": [1, 2]}')
    (tmp_path / "empty.yaml").write_text("")
    assert read_document(tmp_path / "a.yaml") == {"config": {"key": 1}}
    assert read_document(tmp_path / "a.json") == {"key": [1, 2]}
    assert read_document(tmp_path / "empty.yaml") is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("missing.yaml", None, "missing.yaml: no such stack file"),
        ("bad.yaml", "a: [1\nb: 2\n", "bad.yaml: not valid YAML (expected ',' or ']', but got ':', line 2 column 2)"),
        ("bad.json", "{", "bad.json: not valid JSON (Expecting property name enclosed in double quotes"),
        ("latin.yaml", b"a: \xff\xfe", "latin.yaml: cannot be read (UnicodeDecodeError)"),
        ("date.yaml", "until: 2024-02-30\n", "date.yaml: not valid YAML (day is out of range for month)"),
    ],
)
def test_a_bad_file_is_one_line_in_the_callers_error(tmp_path: Path, name: str, text: str | bytes | None, message: str):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text)
    elif isinstance(text, bytes):
        path.write_bytes(text)
    with pytest.raises(ToolError) as raised:
        read_document(path, "stack file", ToolError)
    assert str(raised.value).startswith(f"{tmp_path}/{message}")
    assert "\n" not in str(raised.value)


def test_a_directory_is_named_as_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=rf"^{tmp_path}: cannot be read \(Is a directory\)$"):
        read_document(tmp_path)
