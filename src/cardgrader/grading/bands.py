"""Grade bands: the companies' published centering limits, and the rules that estimate the corner, edge and
surface sub-grades from a model's findings.

Both tables are data (`configs/grading/centering.yaml`, `configs/grading/subgrades.yaml`); a grader's
edited copy in `<data folder>/grading/` wins over the shipped one. Each file is read and checked once and
cached by path and modification time, so a lookup per photo costs a dict access.

Centering is the larger share in percent (`lr = 100·max(L,R)/(L+R)`, 50 = perfect); a side reaches the
best grade whose limit both its lr and its tb meet, a value exactly at the limit meeting it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from cardgrader import paths
from cardgrader.errors import ConfigError

CENTERING_FILE = "centering.yaml"
SUBGRADES_FILE = "subgrades.yaml"
SIDES = ("front", "back")
EPSILON = 1e-9  # 100*0.55 is 55.00000000000001: a measurement at the limit still meets it
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_CACHE: dict[tuple[str, str, int, int], Any] = {}


# ---------------------------------------------------------------- files


def table_path(name: str, path: str | Path | None = None) -> Path:
    """The file to read: the one given, else the grader's copy in the data folder, else the shipped one."""
    if path is not None:
        return Path(path)
    user = paths.home() / "grading" / name
    return user if user.is_file() else paths.configs_dir() / "grading" / name


def _cached(kind: str, path: Path, parse) -> Any:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"The grading table {path} does not exist.", field=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"The grading table {path} cannot be read: {exc.strerror or exc}.", field=str(path)) from None
    key = (kind, str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"The grading table {path} cannot be read: {exc}.", field=str(path)) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"The grading table {path} is not valid YAML{where}; fix it or delete it to use "
                              f"the shipped one.", field=str(path)) from None
        _CACHE[key] = parse(values, path)
    return _CACHE[key]


class _Check:
    """Plain-sentence errors that name the file and the field."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, field: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {field} {problem}.", field=field)

    def mapping(self, value: Any, field: str, allowed: Iterable[str] | None = None,
                required: Sequence[str] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, "must be a mapping of name: value")
        if allowed is not None:
            unknown = sorted(set(map(str, value)) - set(allowed))
            if unknown:
                raise self.fail(f"{field}.{unknown[0]}", f"is not a known field; use {', '.join(allowed)}")
        for name in required:
            if value.get(name) in (None, ""):
                raise self.fail(f"{field}.{name}", "is missing")
        return value

    def text(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"must be text; got {value!r}")
        return value.strip()

    def grade(self, value: Any, field: str) -> str:
        text = grade_text(value)
        if text is None:
            raise self.fail(field, f'must be a grade number such as "10" or "9.5"; got {value!r}')
        return text

    def number(self, value: Any, field: str, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise self.fail(field, f"must be a number from {low:g} to {high:g}; got {value!r}")
        return float(value)


def grade_text(value: Any) -> str | None:
    """A grade as the tables write it ("10", "9.5"), or None if it is not a grade number from 1 to 10."""
    if isinstance(value, bool) or value is None:
        return None
    text = f"{value:g}" if isinstance(value, (int, float)) else str(value).strip()
    return text if _NUMBER.match(text) and 1 <= float(text) <= 10 else None


def grade_value(grade: Any) -> float:
    """A grade as a number for comparing grades of one company ("9.5" → 9.5)."""
    text = grade_text(grade)
    if text is None:
        raise ValueError(f"not a grade: {grade!r}")
    return float(text)


def _entry(entries: dict[str, Any], key: str, missing: str, field: str) -> Any:
    if key not in entries:
        raise ConfigError(f"{missing} {key!r}; it has {', '.join(entries) or 'none'}.", field=f"{field}.{key}")
    return entries[key]


def share_text(limit: float) -> str:
    """55 → "55/45"."""
    return f"{limit:g}/{100 - limit:g}"


# ---------------------------------------------------------------- centering table


@dataclass(frozen=True)
class GradeBand:
    grade: str
    label: str
    front_max: float
    back_max: float
    source: str
    note: str | None = None

    def limit(self, side: str) -> float:
        return self.front_max if side == "front" else self.back_max


@dataclass(frozen=True)
class CompanyTable:
    key: str
    name: str
    sources: tuple[str, ...]
    read: str
    grades: tuple[GradeBand, ...]
    note: str | None = None


@dataclass(frozen=True)
class CenteringTable:
    path: Path
    companies: dict[str, CompanyTable]

    def company(self, key: str) -> CompanyTable:
        return _entry(self.companies, key, f"{self.path} has no centering table for", "companies")


_GRADE_FIELDS = ("grade", "label", "front_max", "back_max", "source", "note")
_COMPANY_FIELDS = ("name", "sources", "read", "note", "grades")


def _parse_centering(values: Any, path: Path) -> CenteringTable:
    check = _Check(path)
    top = check.mapping(values, "the file", allowed=("companies",), required=("companies",))
    companies_raw = check.mapping(top["companies"], "companies")
    if not companies_raw:
        raise check.fail("companies", "lists no company")
    companies = {}
    for key, raw in companies_raw.items():
        where = f"companies.{key}"
        raw = check.mapping(raw, where, allowed=_COMPANY_FIELDS, required=("name", "sources", "read", "grades"))
        sources = raw["sources"]
        if not isinstance(sources, list) or not sources:
            raise check.fail(f"{where}.sources", "must be a list of the URLs the table was read from")
        if not isinstance(raw["grades"], list) or not raw["grades"]:
            raise check.fail(f"{where}.grades", "must be a list of grades, best first")
        grades: list[GradeBand] = []
        for i, entry in enumerate(raw["grades"]):
            field = f"{where}.grades[{i}]"
            entry = check.mapping(entry, field, allowed=_GRADE_FIELDS,
                                  required=("grade", "label", "front_max", "back_max", "source"))
            band = GradeBand(grade=check.grade(entry["grade"], f"{field}.grade"),
                             label=check.text(entry["label"], f"{field}.label"),
                             front_max=check.number(entry["front_max"], f"{field}.front_max", 50, 100),
                             back_max=check.number(entry["back_max"], f"{field}.back_max", 50, 100),
                             source=check.text(entry["source"], f"{field}.source"),
                             note=check.text(entry["note"], f"{field}.note") if entry.get("note") else None)
            if grades:
                above = grades[-1]
                name = f"({key.upper()} {band.grade} {band.label})"
                if grade_value(band.grade) > grade_value(above.grade):
                    raise check.fail(f"{field}.grade", f"{name} is higher than the {above.grade} above it; list "
                                                       f"grades from best to worst")
                for side in SIDES:
                    if band.limit(side) < above.limit(side):
                        raise check.fail(f"{field}.{side}_max",
                                         f"{name} is {share_text(band.limit(side))}, stricter than the "
                                         f"{share_text(above.limit(side))} of {above.grade} {above.label} above it; "
                                         f"a worse grade must allow at least as much")
                if (band.grade, band.label) in {(g.grade, g.label) for g in grades}:
                    raise check.fail(f"{field}", f"{name} is listed twice")
            grades.append(band)
        companies[str(key)] = CompanyTable(
            key=str(key), name=check.text(raw["name"], f"{where}.name"),
            sources=tuple(check.text(s, f"{where}.sources[{j}]") for j, s in enumerate(sources)),
            read=check.text(str(raw["read"]), f"{where}.read"), grades=tuple(grades),
            note=check.text(raw["note"], f"{where}.note") if raw.get("note") else None)
    return CenteringTable(path=path, companies=companies)


def load_table(path: str | Path | None = None) -> CenteringTable:
    """The centering table (checked; cached by path and modification time)."""
    return _cached("centering", table_path(CENTERING_FILE, path), _parse_centering)


# ---------------------------------------------------------------- centering evaluation


@dataclass(frozen=True)
class SideBand:
    """The best grade one side's centering reaches."""

    company: str
    side: str
    lr: float
    tb: float
    rank: int  # index in the company's list; len(grades) when no grade is reached
    grade: str | None
    label: str | None
    limit: str | None
    limited_by: str | None
    source: str | None

    def to_json(self) -> dict[str, Any]:
        return {"grade": self.grade, "label": self.label, "limit": self.limit, "lr": round(self.lr, 2),
                "tb": round(self.tb, 2), "limited_by": self.limited_by, "source": self.source}


def _share(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= 100:
        raise ConfigError(f"The centering {field} must be a percentage from 0 to 100; got {value!r}.", field=field)
    return max(float(value), 100.0 - float(value))  # 45 means 45/55: the larger share counts


def band(company: str, side: str, lr: float, tb: float, path: str | Path | None = None) -> SideBand:
    """The best grade of `company` whose `side` limit both lr and tb meet (the worse of the two counts)."""
    if side not in SIDES:
        raise ConfigError(f"A centering side is front or back; got {side!r}.", field="side")
    table = load_table(path).company(company)
    lr, tb = _share(lr, f"{side} lr"), _share(tb, f"{side} tb")
    axis, worst = ("tb", tb) if tb > lr else ("lr", lr)
    for rank, row in enumerate(table.grades):
        if worst <= row.limit(side) + EPSILON:
            limited = None if rank == 0 else f"{side} {axis} {worst:.1f}"
            return SideBand(company, side, lr, tb, rank, row.grade, row.label, share_text(row.limit(side)), limited,
                            row.source)
    last = table.grades[-1]
    return SideBand(company, side, lr, tb, len(table.grades), None, None, None,
                    f"{side} {axis} {worst:.1f} (worse than {share_text(last.limit(side))}, the limit of "
                    f"{last.grade} {last.label}, the last grade the table lists)", last.source)


@dataclass(frozen=True)
class Ceiling:
    """One company's centering ceiling from the front and back together: the lower of the two sides."""

    company: str
    name: str
    grade: str | None
    label: str | None
    limit: str | None
    limited_by: str | None
    source: str | None
    side_grades: dict[str, SideBand | None]

    def to_json(self) -> dict[str, Any]:
        measured = [s for s in SIDES if self.side_grades.get(s) is not None]
        note = None if len(measured) == 2 else f"only the {measured[0]} was measured; the ceiling is from it alone"
        return {"grade": self.grade, "label": self.label, "limit": self.limit, "limited_by": self.limited_by,
                "source": self.source, "company": self.name,
                "side_grades": {s: (b.to_json() if b else None) for s, b in self.side_grades.items()}, "note": note}


def ceiling(company: str, front: tuple[float, float] | None = None, back: tuple[float, float] | None = None,
            path: str | Path | None = None) -> Ceiling:
    """The centering ceiling of `company` from front and/or back (lr, tb): the lower of the sides' grades."""
    if front is None and back is None:
        raise ConfigError("A centering ceiling needs the front or the back centering (lr, tb).", field="front")
    table = load_table(path).company(company)
    sides = {side: band(company, side, *values, path=path) if values is not None else None
             for side, values in (("front", front), ("back", back))}
    given = [b for b in sides.values() if b is not None]
    worst_rank = max(b.rank for b in given)
    limiting = [b for b in given if b.rank == worst_rank]
    first = limiting[0]
    reasons = [b.limited_by for b in limiting if b.limited_by]
    return Ceiling(company=company, name=table.name, grade=first.grade, label=first.label,
                   limit=first.limit,
                   limited_by=" and ".join(reasons) or None, source=first.source, side_grades=sides)


# ---------------------------------------------------------------- sub-grade estimates


@dataclass(frozen=True)
class Rule:
    finding_class: str
    count_at_least: int
    min_area_frac: float | None
    source: str
    ceilings: dict[str, tuple[str, str]]  # company → (grade, why)


@dataclass(frozen=True)
class Category:
    name: str
    min_confidence: float
    clean: dict[str, str]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class SubgradeRules:
    path: Path
    categories: dict[str, Category]

    def category(self, name: str) -> Category:
        return _entry(self.categories, name, f"{self.path} has no rules for", "categories")


def _parse_subgrades(values: Any, path: Path) -> SubgradeRules:
    check = _Check(path)
    top = check.mapping(values, "the file", allowed=("categories",), required=("categories",))
    categories = {}
    for name, raw in check.mapping(top["categories"], "categories").items():
        where = f"categories.{name}"
        raw = check.mapping(raw, where, allowed=("min_confidence", "clean", "rules"),
                            required=("min_confidence", "clean", "rules"))
        clean_raw = check.mapping(raw["clean"], f"{where}.clean")
        if not clean_raw:
            raise check.fail(f"{where}.clean", "names no company")
        clean = {str(c): check.grade(g, f"{where}.clean.{c}") for c, g in clean_raw.items()}
        if not isinstance(raw["rules"], list):
            raise check.fail(f"{where}.rules", "must be a list of rules")
        rules = []
        for i, rule in enumerate(raw["rules"]):
            field = f"{where}.rules[{i}]"
            rule = check.mapping(rule, field, allowed=("class", "count_at_least", "min_area_frac", "source", *clean),
                                 required=("class", "count_at_least", "source", *clean))
            count = rule["count_at_least"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise check.fail(f"{field}.count_at_least", f"must be a whole number of at least 1; got {count!r}")
            ceilings = {}
            for company in clean:
                entry = check.mapping(rule[company], f"{field}.{company}", allowed=("grade", "why"),
                                      required=("grade", "why"))
                ceilings[company] = (check.grade(entry["grade"], f"{field}.{company}.grade"),
                                     check.text(entry["why"], f"{field}.{company}.why"))
            area = rule.get("min_area_frac")
            rules.append(Rule(finding_class=check.text(rule["class"], f"{field}.class"), count_at_least=count,
                              min_area_frac=None if area is None else check.number(area, f"{field}.min_area_frac", 0, 1),
                              source=check.text(rule["source"], f"{field}.source"), ceilings=ceilings))
        categories[str(name)] = Category(str(name), check.number(raw["min_confidence"], f"{where}.min_confidence", 0, 1),
                                         clean, tuple(rules))
    return SubgradeRules(path=path, categories=categories)


def load_subgrade_rules(path: str | Path | None = None) -> SubgradeRules:
    """The sub-grade rules table (checked; cached by path and modification time)."""
    return _cached("subgrades", table_path(SUBGRADES_FILE, path), _parse_subgrades)


def _estimate(category: Category, findings: list[dict], company: str) -> dict[str, Any]:
    if company not in category.clean:
        raise ConfigError(f"The {category.name} rules have no grades for {company!r}; they have "
                          f"{', '.join(category.clean)}.", field=f"categories.{category.name}.clean")
    kept = [f for f in findings if float(f.get("confidence", 0.0)) >= category.min_confidence]
    best: tuple[float, str, str, str, int] | None = None  # (value, grade, why, source, count)
    for rule in category.rules:
        hits = [f for f in kept if f.get("class") == rule.finding_class
                and (rule.min_area_frac is None or float(f.get("area_frac") or 0.0) >= rule.min_area_frac)]
        if len(hits) < rule.count_at_least:
            continue
        grade, why = rule.ceilings[company]
        size = f" of at least {rule.min_area_frac:g} of the photo" if rule.min_area_frac is not None else ""
        reason = f"{len(hits)} {rule.finding_class}{size} (confidence ≥ {category.min_confidence:.2f}): {why}"
        if best is None or grade_value(grade) < best[0]:
            best = (grade_value(grade), grade, reason, rule.source, len(hits))
    if best is None:
        counted = sorted({r.finding_class for r in category.rules})
        return {"category": category.name, "company": company, "grade": category.clean[company],
                "reason": f"no {' / '.join(counted)} at confidence ≥ {category.min_confidence:.2f}",
                "estimate": True, "source": None, "findings_used": 0}
    _value, grade, reason, source, count = best
    return {"category": category.name, "company": company, "grade": grade, "reason": reason, "estimate": True,
            "source": source, "findings_used": count}


def subgrade(category: str, findings: list[dict], company: str | None = None,
             path: str | Path | None = None) -> dict[str, Any]:
    """An ESTIMATE of a corners/edges/surface sub-grade ceiling from findings ({class, confidence, area_frac?}).

    With `company`, that company's estimate. Without, PSA's at the top level (the scale the report leads
    with) and every company's under `by_company`: {"psa": {...}, "bgs": {...}, "cgc": {...}}.
    """
    rules = load_subgrade_rules(path).category(category)
    findings = list(findings or [])
    if company is not None:
        return _estimate(rules, findings, company)
    by_company = {c: _estimate(rules, findings, c) for c in rules.clean}
    lead = by_company.get("psa") or next(iter(by_company.values()))
    return {**lead, "by_company": by_company}
