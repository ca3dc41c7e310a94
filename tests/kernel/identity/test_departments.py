"""The department catalogue."""

from __future__ import annotations

from collections import Counter

from smartcity.kernel.identity import DEPARTMENTS, DEPARTMENTS_BY_CODE, DepartmentKind
from smartcity.kernel.identity.divisions import GUANGZHOU_DISTRICTS


def test_catalogue_shape() -> None:
    kinds = Counter(d.kind for d in DEPARTMENTS)
    assert kinds[DepartmentKind.BUREAU] == 68  # the 68 departments of the seed text
    assert kinds[DepartmentKind.TELECOM] == 3
    assert kinds[DepartmentKind.UTILITY] >= 3
    assert kinds[DepartmentKind.DISTRICT_GOVERNMENT] == len(GUANGZHOU_DISTRICTS)
    assert len(DEPARTMENTS_BY_CODE) == len(DEPARTMENTS)  # codes are unique


def test_entries_are_complete() -> None:
    for department in DEPARTMENTS:
        assert department.code.startswith("GZ-")
        assert len(department.code) <= 16
        assert 0 < len(department.name) <= 64
        assert 0 < len(department.short_name) <= 16
        assert department.name_en.isascii()
        is_district = department.kind is DepartmentKind.DISTRICT_GOVERNMENT
        assert (department.district_code is not None) == is_district


def test_names_the_brief_asks_for() -> None:
    names = {d.name for d in DEPARTMENTS}
    for expected in (
        "广州市发展和改革委员会",
        "广州市公安局",
        "广州市交通运输局",
        "广州市城市管理和综合执法局",
        "广州市生态环境局",
        "广州市卫生健康委员会",
        "广州市人力资源和社会保障局",
        "广州市市场监督管理局",
        "国家税务总局广州市税务局",
        "广州市应急管理局",
        "广州市政务服务数据管理局",
        "广州市天河区人民政府",
    ):
        assert expected in names
