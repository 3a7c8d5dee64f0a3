"""Profile files: versioning, validation with located problems, built-in loading."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from criteria_testkit import MINIMAL_PROFILE

import criteria
from criteria import (
    ProfileError,
    builtin_profile_ids,
    check_profile_file,
    format_problems,
    load_builtin_profile,
    load_profile,
    resolve_profile,
)

BUILTIN_DIR = Path(criteria.__file__).parent / "profiles"


def write(tmp_path: Path, text: str, name: str = "profile.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- #
# Version = SHA-256 of the file's bytes


@pytest.mark.parametrize("profile_id", ["abduction", "expanded"])
def test_builtin_version_is_sha256_of_file_bytes(profile_id: str) -> None:
    expected = hashlib.sha256((BUILTIN_DIR / f"{profile_id}.toml").read_bytes()).hexdigest()
    assert load_builtin_profile(profile_id).version == expected


def test_version_changes_when_one_byte_changes(tmp_path: Path) -> None:
    original = (BUILTIN_DIR / "abduction.toml").read_bytes()
    copy = tmp_path / "abduction.toml"
    copy.write_bytes(original)
    before = load_profile(copy)
    assert before.version == load_builtin_profile("abduction").version

    position = original.index(b"# Criteria profile") + 2  # a byte inside the first comment
    changed = bytearray(original)
    changed[position] = ord("c") if changed[position] != ord("c") else ord("k")
    copy.write_bytes(bytes(changed))
    after = load_profile(copy)

    assert after.version != before.version
    assert after.version == hashlib.sha256(bytes(changed)).hexdigest()
    assert after.criteria == before.criteria  # same rules, new auditable version


# --------------------------------------------------------------------------- #
# Invalid files: every problem is reported with its location


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"test setup: {old!r} not in base profile"
        return text.replace(old, new, 1)

    return edit


def drop_checklist(text: str) -> str:
    return text[: text.index("[[approval_checklist]]")]


INVALID = [
    ("unknown_rule", replace('rule = "is_true"', 'rule = "is_truthy"'), "criteria[1].rule", "unknown rule 'is_truthy' (did you mean 'is_true'?)"),
    ("bad_param_value", replace("max = 17", 'max = "seventeen"'), "criteria[0].params.max", "must be a finite number"),
    ("unknown_param", replace("max = 17", "maximum = 17"), "criteria[0].params.maximum", "unknown parameter 'maximum'"),
    ("missing_param", replace('params = { field = "police.confirmed" }', "params = {}"), "criteria[1].params.field", "missing required parameter"),
    ("min_above_max", replace("max = 17", "min = 10, max = 3"), "criteria[0].params.min", "greater than max"),
    ("duplicate_id", replace('id = "confirmed"', 'id = "child_age"'), "criteria[1].id", "duplicate id 'child_age'"),
    ("unknown_field", replace('field = "child.age"', 'field = "child.agee"'), "criteria[0].params.field", "unknown fact field 'child.agee' (did you mean 'child.age'?)"),
    ("field_of_wrong_kind", replace('field = "police.confirmed"', 'field = "child.age"'), "criteria[1].params.field", "needs a bool fact"),
    (
        "equals_on_free_text",
        replace('rule = "is_true"\nparams = { field = "police.confirmed" }', 'rule = "equals"\nparams = { field = "child.name", value = "Ana" }'),
        "criteria[1].params.field",
        "free-text",
    ),
    ("equals_bad_choice", replace('rule = "is_true"\nparams = { field = "police.confirmed" }', 'rule = "equals"\nparams = { field = "child.sex", value = "female" }'), "criteria[1].params.value", "must be one of"),
    ("hours_not_positive", replace('rule = "is_true"\nparams = { field = "police.confirmed" }', 'rule = "within_hours"\nparams = { field = "last_seen.at", hours = 0 }'), "criteria[1].params.hours", "greater than 0"),
    (
        "nested_rule_error",
        replace(
            'rule = "is_true"\nparams = { field = "police.confirmed" }',
            'rule = "any_of"\nparams = { rules = [ { rule = "is_true", params = { field = "police.confirmed" } }, { rule = "present", params = { field = "child.size" } } ] }',
        ),
        "criteria[1].params.rules[1].params.field",
        "unknown fact field 'child.size'",
    ),
    ("empty_any_of", replace('rule = "is_true"\nparams = { field = "police.confirmed" }', 'rule = "any_of"\nparams = { rules = [] }'), "criteria[1].params.rules", "non-empty list"),
    ("missing_checklist", drop_checklist, "approval_checklist", "missing required key"),
    ("empty_checklist", lambda text: "approval_checklist = []\n" + drop_checklist(text), "approval_checklist", "non-empty"),
    ("unknown_source", replace('sources = ["src"]', 'sources = ["nope"]'), "criteria[0].sources[0]", "unknown source id 'nope'"),
    ("bad_profile_id", replace('id = "minimal"', 'id = "Minimal Profile"'), "id", "must be a slug"),
    ("unknown_top_key", lambda text: 'colour = "red"\n' + text, "colour", "unknown key"),
    ("unknown_criterion_key", replace('text = "The child is 17 or younger."', 'text = "The child is 17 or younger."\nweight = 2'), "criteria[0].weight", "unknown key"),
    ("blank_text", replace('text = "The child is 17 or younger."', 'text = "  "'), "criteria[0].text", "non-empty string"),
    ("required_not_bool", replace('sources = ["src"]', 'sources = ["src"]\nrequired = "yes"'), "criteria[0].required", "true or false"),
    ("bad_url", replace('url = "https://example.org/criteria"', 'url = "example.org"'), "sources[0].url", "http(s) URL"),
    (
        "nothing_required",
        lambda text: text.replace('sources = ["src"]', 'sources = ["src"]\nrequired = false').replace(
            'params = { field = "police.confirmed" }', 'params = { field = "police.confirmed" }\nrequired = false'
        ),
        "criteria",
        "at least one criterion must be required",
    ),
]


@pytest.mark.parametrize(("edit", "path", "fragment"), [pytest.param(e, p, f, id=name) for name, e, p, f in INVALID])
def test_invalid_profile_is_reported_at_its_location(tmp_path: Path, edit: Callable[[str], str], path: str, fragment: str) -> None:
    file = write(tmp_path, edit(MINIMAL_PROFILE))

    problems = check_profile_file(file)

    assert any(problem.path == path and fragment in problem.message for problem in problems), problems
    with pytest.raises(ProfileError) as raised:
        load_profile(file)
    assert raised.value.problems == problems
    assert path in str(raised.value)


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    text = MINIMAL_PROFILE.replace('title = "Minimal profile"', 'title = "Minimal profile')
    problems = check_profile_file(write(tmp_path, text))
    assert len(problems) == 1
    (problem,) = problems
    assert (problem.line, problem.column) == (2, 25)  # the end of the unterminated string
    assert problem.message.startswith("TOML syntax error at line 2, column 25")
    assert problem.location == "line 2, column 25"
    assert str(problem) == problem.message  # the position is not repeated


def test_all_problems_are_listed_not_just_the_first(tmp_path: Path) -> None:
    text = (
        MINIMAL_PROFILE.replace('field = "child.age"', 'field = "child.agee"')
        .replace('rule = "is_true"', 'rule = "is_truthy"')
        .replace('id = "benefit"', 'id = "Benefit!"')
    )
    locations = {problem.path for problem in check_profile_file(write(tmp_path, text))}
    assert {"criteria[0].params.field", "criteria[1].rule", "approval_checklist[0].id"} <= locations


def test_check_never_raises_for_unreadable_files(tmp_path: Path) -> None:
    missing = check_profile_file(tmp_path / "missing.toml")
    assert len(missing) == 1 and "cannot read profile file" in missing[0].message
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"id = \"x\"\n\xff\xfe")
    assert "not UTF-8" in check_profile_file(binary)[0].message
    assert "cannot read profile file" in check_profile_file(tmp_path)[0].message  # a directory


def test_load_profile_wraps_io_errors(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile file"):
        load_profile(tmp_path / "missing.toml")


@pytest.mark.parametrize("profile_id", ["abduction", "expanded"])
def test_builtin_profiles_check_clean(profile_id: str) -> None:
    assert check_profile_file(BUILTIN_DIR / f"{profile_id}.toml") == []


def test_format_problems_for_the_cli(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL_PROFILE, "good.toml")
    bad = write(tmp_path, MINIMAL_PROFILE.replace("max = 17", 'max = "x"'), "bad.toml")
    assert format_problems(good, check_profile_file(good)) == f"{good}: OK"
    assert format_problems(bad, check_profile_file(bad)) == f"{bad}: criteria[0].params.max: max must be a finite number"


# --------------------------------------------------------------------------- #
# Built-in profiles and resolution


def test_builtin_profile_ids() -> None:
    assert builtin_profile_ids() == ["abduction", "expanded"]


def test_unknown_builtin_profile() -> None:
    with pytest.raises(ProfileError, match="unknown built-in profile 'missing'"):
        load_builtin_profile("missing")
    with pytest.raises(ProfileError):
        load_builtin_profile("../abduction")


def test_resolve_profile_builtin_or_path(tmp_path: Path) -> None:
    assert resolve_profile("abduction") == load_builtin_profile("abduction")
    custom = resolve_profile(str(write(tmp_path, MINIMAL_PROFILE)))
    assert custom.id == "minimal"
    with pytest.raises(ProfileError, match="neither a built-in profile"):
        resolve_profile("nosuchprofile")


def test_builtin_profiles_load_from_a_zip_archive(tmp_path: Path) -> None:
    """Built-ins are read via importlib.resources, not file paths, so they work from a wheel/zip."""
    package = Path(criteria.__file__).parent
    archive = tmp_path / "criteria_only.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in package.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                bundle.write(file, Path("criteria") / file.relative_to(package))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import criteria; "
        "assert criteria.__file__.startswith(sys.argv[1]), criteria.__file__; "
        "print(criteria.builtin_profile_ids(), criteria.load_builtin_profile('expanded').version)"
    )
    completed = subprocess.run([sys.executable, "-I", "-c", script, str(archive)], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["['abduction',", "'expanded']", load_builtin_profile("expanded").version]


def test_builtin_profiles_are_package_resources() -> None:
    shipped = sorted(entry.name for entry in (resources.files("criteria") / "profiles").iterdir() if entry.name.endswith(".toml"))
    assert shipped == ["abduction.toml", "expanded.toml"]


# --------------------------------------------------------------------------- #
# Content guarantees of the shipped profiles


@pytest.mark.parametrize("profile_id", ["abduction", "expanded"])
def test_builtin_profile_cites_sources_and_has_a_checklist(profile_id: str) -> None:
    profile = load_builtin_profile(profile_id)
    assert 5 <= len(profile.approval_checklist) <= 7
    assert all(source.url.startswith(("https://", "http://")) and source.note for source in profile.sources)
    assert all(criterion.sources for criterion in profile.criteria), "every criterion says which sources it follows"
    required = {criterion.id for criterion in profile.criteria if criterion.required}
    assert {"child_age", "police_confirmed", "descriptive_information", "recent_sighting"} <= required


def test_to_public_is_json_with_the_documented_shape() -> None:
    public = load_builtin_profile("abduction").to_public()
    assert json.loads(json.dumps(public)) == public
    assert set(public) == {"id", "title", "version", "description", "criteria", "approval_checklist", "sources"}
    assert all(set(item) == {"id", "text", "rule", "params", "required"} for item in public["criteria"])
    assert all(set(item) == {"id", "text"} for item in public["approval_checklist"])
    abduction = next(item for item in public["criteria"] if item["id"] == "abduction")
    assert abduction["params"] == {
        "rules": [
            {"rule": "is_true", "params": {"field": "circumstances.abduction_suspected"}},
            {"rule": "is_true", "params": {"field": "circumstances.abduction_witnessed"}},
        ]
    }


def test_loaded_profile_params_are_read_only() -> None:
    criterion = load_builtin_profile("abduction").criteria[0]
    with pytest.raises(TypeError):
        criterion.params["max"] = 99  # type: ignore[index]
