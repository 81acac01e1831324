"""Published centering bands and sub-grade estimates, read from the shipped tables (or a grader's copy)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from cardgrader import paths
from cardgrader.errors import ConfigError
from cardgrader.grading import bands

SHIPPED = paths.configs_dir() / "grading" / "centering.yaml"
SHIPPED_RULES = paths.configs_dir() / "grading" / "subgrades.yaml"
_TABLE = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["companies"]


def _boundary_cases():
    """Every grade's limit, front and back, on either axis: (company, side, axis, row index)."""
    cases = []
    for company, entry in _TABLE.items():
        for i, row in enumerate(entry["grades"]):
            for side in ("front", "back"):
                for axis in ("lr", "tb"):
                    cases.append(pytest.param(company, side, axis, i,
                                              id=f"{company}-{row['grade']}-{row['label']}-{side}-{axis}"))
    return cases


CASES = _boundary_cases()


def _measure(side_axis_value: tuple[str, float]) -> tuple[float, float]:
    axis, value = side_axis_value
    return (value, 50.0) if axis == "lr" else (50.0, value)


def test_shipped_table_covers_the_three_companies_front_and_back():
    assert set(_TABLE) == {"psa", "bgs", "cgc"}
    assert {c: len(e["grades"]) for c, e in _TABLE.items()} == {"psa": 11, "bgs": 12, "cgc": 8}
    assert len(CASES) == 4 * (11 + 12 + 8)  # every grade x front/back x lr/tb
    for entry in _TABLE.values():
        assert entry["sources"] and entry["read"]
        assert all(row["source"] for row in entry["grades"])


@pytest.mark.parametrize("company, side, axis, i", CASES)
def test_a_value_at_the_limit_meets_it_and_just_past_it_does_not(company, side, axis, i):
    rows = _TABLE[company]["grades"]
    limit = float(rows[i][f"{side}_max"])
    at = bands.band(company, side, *_measure((axis, limit)))
    # at the limit: the best grade allowing that much (an equal limit further up wins, e.g. PSA 5 over 4)
    best = next(r for r in rows if float(r[f"{side}_max"]) >= limit)
    assert (at.grade, at.label) == (str(best["grade"]), best["label"])
    assert at.limit == f"{limit:g}/{100 - limit:g}"
    if limit >= 100:
        return
    past = bands.band(company, side, *_measure((axis, limit + 0.1)))
    worse = next((r for r in rows if float(r[f"{side}_max"]) > limit), None)
    if worse is None:
        assert past.grade is None and "the last grade the table lists" in past.limited_by
    else:
        assert (past.grade, past.label) == (str(worse["grade"]), worse["label"])
        assert bands.grade_value(past.grade) <= bands.grade_value(at.grade)
        assert past.limited_by == f"{side} {axis} {limit + 0.1:.1f}"


@pytest.mark.parametrize("company, side, lr, tb, grade, label", [
    ("psa", "front", 55.0, 50.0, "10", "Gem Mint"),
    ("psa", "front", 55.1, 50.0, "9", "Mint"),
    ("psa", "front", 60.0, 59.0, "9", "Mint"),
    ("psa", "front", 60.1, 50.0, "8", "Near Mint-Mint"),
    ("psa", "front", 80.0, 50.0, "6", "Excellent-Mint"),
    ("psa", "front", 85.0, 50.0, "5", "Excellent"),
    ("psa", "front", 90.0, 50.0, "3", "Very Good"),
    ("psa", "front", 91.0, 50.0, "1.5", "Fair"),
    ("psa", "back", 75.0, 50.0, "10", "Gem Mint"),
    ("psa", "back", 75.5, 50.0, "9", "Mint"),
    ("psa", "back", 90.0, 50.0, "9", "Mint"),
    ("bgs", "front", 50.0, 50.0, "10", "Pristine"),
    ("bgs", "front", 50.5, 50.0, "9.5", "Gem Mint"),
    ("bgs", "front", 55.5, 50.0, "9", "Mint"),
    ("bgs", "back", 55.0, 50.0, "10", "Pristine"),
    ("bgs", "back", 56.0, 50.0, "9.5", "Gem Mint"),
    ("bgs", "back", 64.0, 50.0, "9", "Mint"),
    ("cgc", "front", 50.0, 50.0, "10", "Pristine"),
    ("cgc", "front", 52.0, 50.0, "10", "Gem Mint"),
    ("cgc", "front", 55.0, 50.0, "10", "Gem Mint"),
    ("cgc", "front", 55.1, 50.0, "9", "Mint"),
    ("cgc", "back", 75.0, 50.0, "10", "Gem Mint"),
    ("cgc", "back", 76.0, 50.0, "9", "Mint"),
])
def test_published_numbers(company, side, lr, tb, grade, label):
    result = bands.band(company, side, lr, tb)
    assert (result.grade, result.label) == (grade, label)


def test_the_worse_of_lr_and_tb_counts_and_is_named():
    result = bands.band("psa", "front", 50.0, 56.0)
    assert result.grade == "9" and result.limited_by == "front tb 56.0" and result.limit == "60/40"
    assert bands.band("psa", "front", 50.0, 50.0).limited_by is None  # the best grade: nothing limits it


def test_a_measurement_exactly_at_the_limit_survives_float_rounding():
    left, right = 0.55, 0.45
    lr = 100 * max(left, right) / (left + right)
    assert lr > 55.0  # 55.00000000000001: the case the tolerance is for
    assert bands.band("psa", "front", lr, 50.0).grade == "10"


def test_the_smaller_share_is_read_as_its_larger_complement():
    assert bands.band("psa", "front", 45.0, 50.0) == bands.band("psa", "front", 55.0, 50.0)


def test_a_side_worse_than_the_whole_table_has_no_grade():
    result = bands.band("cgc", "front", 92.0, 50.0)
    assert result.grade is None and result.limit is None
    assert "front lr 92.0" in result.limited_by and "3.5 Very Good+" in result.limited_by


@pytest.mark.parametrize("value", [float("nan"), -1.0, 101.0, "55"])
def test_a_centering_that_is_not_a_percentage_is_refused(value):
    with pytest.raises(ConfigError, match="percentage from 0 to 100"):
        bands.band("psa", "front", value, 50.0)


def test_an_unknown_company_or_side_is_a_sentence():
    with pytest.raises(ConfigError, match="no centering table for 'sgc'; it has psa, bgs, cgc"):
        bands.band("sgc", "front", 50, 50)
    with pytest.raises(ConfigError, match="front or back; got 'top'"):
        bands.band("psa", "top", 50, 50)


# ---------------------------------------------------------------- ceilings


def test_ceiling_is_the_lower_of_front_and_back():
    result = bands.ceiling("psa", front=(56.2, 52.0), back=(70.0, 60.0))
    data = result.to_json()
    assert {"grade", "label", "limit", "side_grades", "limited_by", "source"} <= set(data)
    assert (data["grade"], data["label"], data["limit"]) == ("9", "Mint", "60/40")
    assert data["limited_by"] == "front lr 56.2"
    assert data["side_grades"]["front"]["grade"] == "9" and data["side_grades"]["back"]["grade"] == "10"
    assert data["source"].startswith("https://blog.psacard.com/") and data["note"] is None


def test_a_perfect_front_is_capped_by_the_back():
    assert bands.ceiling("psa", front=(50, 50), back=(75.0, 50)).grade == "10"
    past = bands.ceiling("psa", front=(50, 50), back=(75.5, 50))
    assert (past.grade, past.limited_by, past.limit) == ("9", "back lr 75.5", "90/10")
    bgs = bands.ceiling("bgs", front=(50, 50), back=(50, 56.0))
    assert (bgs.grade, bgs.label, bgs.limited_by) == ("9.5", "Gem Mint", "back tb 56.0")
    cgc = bands.ceiling("cgc", front=(50, 50), back=(50, 60))
    assert (cgc.grade, cgc.label) == ("10", "Gem Mint")
    assert bands.ceiling("cgc", front=(50, 50), back=(50, 50)).label == "Pristine"


def test_both_sides_at_the_same_grade_are_both_named():
    result = bands.ceiling("psa", front=(58, 50), back=(80, 50))
    assert result.grade == "9" and result.limited_by == "front lr 58.0 and back lr 80.0"


def test_one_side_alone_gives_a_ceiling_that_says_so():
    data = bands.ceiling("bgs", back=(52.0, 50.0)).to_json()
    assert data["grade"] == "10" and data["side_grades"]["front"] is None
    assert data["note"] == "only the back was measured; the ceiling is from it alone"
    with pytest.raises(ConfigError, match="needs the front or the back"):
        bands.ceiling("psa")


def test_a_side_below_the_table_makes_the_ceiling_gradeless():
    result = bands.ceiling("cgc", front=(95.0, 50), back=(50, 50))
    assert result.grade is None and result.label is None and "front lr 95.0" in result.limited_by


# ---------------------------------------------------------------- a grader's own copy


def _user_copy(home: Path, edit) -> Path:
    target = home / "grading" / "centering.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    values = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    edit(values)
    target.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return target


def test_an_edited_copy_in_the_data_folder_wins_over_the_shipped_table(home):
    assert bands.band("psa", "front", 53.0, 50).grade == "10"

    def stricter(values):
        values["companies"]["psa"]["grades"][0]["front_max"] = 52
    target = _user_copy(home, stricter)
    assert bands.band("psa", "front", 53.0, 50).grade == "9"
    assert bands.load_table().path == target
    assert bands.band("psa", "front", 53.0, 50, path=SHIPPED).grade == "10"  # an explicit path is read as given


def test_an_edit_is_seen_without_restarting(home):
    def edit(limit):
        def apply(values):
            values["companies"]["psa"]["grades"][0]["front_max"] = limit
        return apply
    target = _user_copy(home, edit(52))
    assert bands.band("psa", "front", 53.0, 50).grade == "9"
    stat = target.stat()
    _user_copy(home, edit(54))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert bands.band("psa", "front", 53.0, 50).grade == "10"


def test_the_table_is_parsed_once_per_version_of_the_file():
    assert bands.load_table(SHIPPED) is bands.load_table(SHIPPED)


@pytest.mark.parametrize("edit, field, words", [
    (lambda v: v["companies"]["psa"]["grades"][1].update(front_max=54),
     "companies.psa.grades[1].front_max", "stricter than the 55/45 of 10 Gem Mint above it"),
    (lambda v: v["companies"]["bgs"]["grades"][3].update(back_max=62),
     "companies.bgs.grades[3].back_max", "stricter than the 65/35 of 9 Mint above it"),
    (lambda v: v["companies"]["psa"]["grades"][2].update(grade="9.5"),
     "companies.psa.grades[2].grade", "higher than the 9 above it"),
    (lambda v: v["companies"]["psa"]["grades"][0].pop("label"),
     "companies.psa.grades[0].label", "is missing"),
    (lambda v: v["companies"]["psa"]["grades"][0].update(front_mx=55),
     "companies.psa.grades[0].front_mx", "is not a known field"),
    (lambda v: v["companies"]["psa"]["grades"][0].update(front_max="55/45"),
     "companies.psa.grades[0].front_max", "must be a number from 50 to 100; got '55/45'"),
    (lambda v: v["companies"]["psa"]["grades"][0].update(back_max=40),
     "companies.psa.grades[0].back_max", "must be a number from 50 to 100; got 40"),
    (lambda v: v["companies"]["bgs"]["grades"][0].update(grade="Pristine"),
     "companies.bgs.grades[0].grade", 'must be a grade number such as "10" or "9.5"'),
    (lambda v: v["companies"]["cgc"].update(grades=[]),
     "companies.cgc.grades", "must be a list of grades, best first"),
])
def test_a_broken_user_file_is_a_sentence_naming_the_file_and_field(home, edit, field, words):
    target = _user_copy(home, edit)
    with pytest.raises(ConfigError) as caught:
        bands.band("psa", "front", 50, 50)
    message = str(caught.value)
    assert message.startswith(f"{target}: {field} ") and words in message and message.endswith(".")
    assert caught.value.field == field and caught.value.exit_code == 2


def test_a_user_file_that_is_not_yaml_names_the_line(home):
    target = home / "grading" / "centering.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("companies:\n  psa: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not valid YAML at line \d+; fix it or delete it"):
        bands.load_table()
    target.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="the file must be a mapping"):
        bands.load_table()


def test_a_missing_table_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nowhere.yaml does not exist"):
        bands.load_table(tmp_path / "nowhere.yaml")


# ---------------------------------------------------------------- sub-grade estimates


def _found(cls, confidence=0.9, area_frac=0.001, n=1):
    return [{"class": cls, "confidence": confidence, "area_frac": area_frac} for _ in range(n)]


def test_no_findings_leave_the_category_uncapped_but_still_an_estimate():
    result = bands.subgrade("corners", [])
    assert result["grade"] == "10" and result["estimate"] is True and result["findings_used"] == 0
    assert set(result["by_company"]) == {"psa", "bgs", "cgc"}
    assert "no corner_worn at confidence ≥ 0.50" in result["reason"]


@pytest.mark.parametrize("count, psa, bgs, cgc", [(1, "8", "8.5", "8"), (2, "8", "8", "7.5"), (3, "7", "7", "7"),
                                                  (4, "6", "6", "7")])
def test_worn_corners_cap_each_company_on_its_own_scale(count, psa, bgs, cgc):
    result = bands.subgrade("corners", _found("corner_worn", n=count) + _found("corner_sharp", n=4 - count))
    assert {c: e["grade"] for c, e in result["by_company"].items()} == {"psa": psa, "bgs": bgs, "cgc": cgc}
    assert result["grade"] == psa and result["company"] == "psa"
    assert result["reason"].startswith(f"{count} corner_worn (confidence ≥ 0.50): PSA")


def test_findings_below_the_confidence_do_not_count():
    assert bands.subgrade("corners", _found("corner_worn", confidence=0.49, n=4))["grade"] == "10"
    assert bands.subgrade("corners", _found("corner_worn", confidence=0.5))["grade"] == "8"


def test_a_large_edge_finding_caps_harder_than_its_count():
    small = bands.subgrade("edges", _found("edge_wear", area_frac=0.002), company="psa")
    large = bands.subgrade("edges", _found("edge_wear", area_frac=0.02), company="psa")
    assert (small["grade"], large["grade"]) == ("8", "5")
    assert "of at least 0.01 of the photo" in large["reason"] and "minor chipping on edges" in large["reason"]


def test_a_crease_caps_hard_and_the_lowest_rule_wins():
    findings = _found("scratch", n=2) + _found("crease")
    result = bands.subgrade("surface", findings)
    assert {c: e["grade"] for c, e in result["by_company"].items()} == {"psa": "4", "bgs": "4", "cgc": "5"}
    assert "1 crease" in result["reason"] and "psacard" in result["source"]
    assert bands.subgrade("surface", findings[:2], company="psa")["grade"] == "5"  # the scratches alone
    assert bands.subgrade("surface", _found("crease", n=2), company="psa")["grade"] == "2"
    # a later rule that also applies (one large crease: PSA 3) does not lift the lower cap (several: PSA 2)
    mixed = _found("crease") + _found("crease", area_frac=0.06)
    assert bands.subgrade("surface", mixed, company="psa")["grade"] == "2"


def test_photometric_regions_without_a_model_confidence_count():
    region = [{"class": "dent", "confidence": 1.0, "area_frac": 0.003, "source": "photometric"}]
    assert bands.subgrade("surface", region, company="cgc")["grade"] == "6.5"


def test_an_unknown_category_or_company_is_a_sentence():
    with pytest.raises(ConfigError, match="no rules for 'centering'; it has corners, edges, surface"):
        bands.subgrade("centering", [])
    with pytest.raises(ConfigError, match="no grades for 'sgc'"):
        bands.subgrade("corners", [], company="sgc")


def test_a_broken_rules_file_names_the_file_and_field(home):
    target = home / "grading" / "subgrades.yaml"
    target.parent.mkdir(parents=True)
    values = yaml.safe_load(SHIPPED_RULES.read_text(encoding="utf-8"))
    del values["categories"]["corners"]["rules"][0]["cgc"]
    target.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        bands.subgrade("corners", [])
    assert str(caught.value) == f"{target}: categories.corners.rules[0].cgc is missing."


def test_an_edited_rules_copy_wins(home):
    target = home / "grading" / "subgrades.yaml"
    target.parent.mkdir(parents=True)
    shutil.copy(SHIPPED_RULES, target)
    values = yaml.safe_load(target.read_text(encoding="utf-8"))
    values["categories"]["corners"]["rules"][0]["psa"]["grade"] = "7"
    target.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    assert bands.subgrade("corners", _found("corner_worn"), company="psa")["grade"] == "7"
