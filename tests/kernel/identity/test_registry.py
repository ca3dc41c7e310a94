"""The write path and read side of the base registries, on the test backend."""

from __future__ import annotations

from datetime import date

import pytest

from smartcity.kernel.errors import Conflict, InvalidInput, NotFound
from smartcity.kernel.identity import (
    DEPARTMENTS,
    Department,
    DepartmentKind,
    Gender,
    Role,
    add_department,
    add_staff,
    citizens_in_household,
    count_citizens_by_district,
    get_citizen,
    get_department,
    get_enterprise,
    list_departments,
    list_staff,
    make_citizen_id,
    make_uscc,
    register_citizen,
    register_enterprise,
)
from smartcity.kernel.storage import Store

TODAY = date(2026, 11, 21)
TIANHE_GRID = "440106001002003"
TIANHE_COMMUNITY = "440106001002"


def _citizen(store: Store, national_id: str, **fields: object) -> object:
    values: dict[str, object] = {
        "name": "陈小明",
        "community_code": TIANHE_COMMUNITY,
        "grid_code": TIANHE_GRID,
        "phone": "13800138000",
        "today": TODAY,
    }
    values.update(fields)
    return register_citizen(store, national_id=national_id, **values)  # type: ignore[arg-type]


def test_register_and_get_citizen(store: Store) -> None:
    made = make_citizen_id("440113", date(1978, 11, 7), 8)  # check character X
    registered = register_citizen(
        store,
        national_id=made.text.lower(),
        name=" 梁嘉欣 ",
        community_code=TIANHE_COMMUNITY,
        grid_code=TIANHE_GRID,
        phone="13912345678",
        gender=Gender.FEMALE,
        birth_date=date(1978, 11, 7),
        occupation="教师",
        household_id=42,
        today=TODAY,
    )
    assert registered.national_id == made.text
    assert registered.name == "梁嘉欣"
    assert registered.district_code == "440106"
    fetched = get_citizen(store, made.text.lower())
    assert fetched == registered
    assert citizens_in_household(store, 42) == [registered]


def test_duplicate_national_id_is_a_conflict(store: Store) -> None:
    text = make_citizen_id("440106", date(1990, 5, 17), 123).text
    _citizen(store, text)
    with pytest.raises(Conflict) as caught:
        _citizen(store, text.lower(), name="另一个人")
    assert "already registered" in caught.value.reason
    assert caught.value.details["part"] == "national id"


@pytest.mark.parametrize(
    ("national_id", "fields", "part"),
    [
        ("440106199005171237", {}, "check character"),
        ("44010619900517123", {}, "length"),
        ("440106199005171236", {"gender": Gender.FEMALE}, "gender"),
        ("440106199005171236", {"birth_date": date(1990, 5, 18)}, "birth date"),
        ("440106199005171236", {"phone": "12345"}, "phone"),
        ("440106199005171236", {"name": "  "}, "name"),
        ("440106199005171236", {"grid_code": "440106001003001"}, "residence"),
        ("440106199005171236", {"community_code": "44010600100"}, "residence"),
    ],
)
def test_register_citizen_names_the_failing_part(
    store: Store, national_id: str, fields: dict[str, object], part: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _citizen(store, national_id, **fields)
    assert caught.value.details["part"] == part


def test_birth_in_the_future_is_refused(store: Store) -> None:
    text = make_citizen_id("440106", date(2026, 11, 22), 1).text
    with pytest.raises(InvalidInput) as caught:
        _citizen(store, text)
    assert caught.value.details["part"] == "birth date"


def test_unknown_citizen_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        get_citizen(store, "440106199005171236")


def test_count_citizens_by_district(store: Store) -> None:
    for sequence in (1, 2, 3):
        _citizen(store, make_citizen_id("440106", date(1990, 1, 1), sequence).text)
    _citizen(
        store,
        make_citizen_id("440111", date(1990, 1, 1), 1).text,
        community_code="440111002001",
        grid_code="440111002001001",
    )
    assert count_citizens_by_district(store) == {"440106": 3, "440111": 1}


def _representative() -> str:
    return make_citizen_id("440106", date(1980, 2, 29), 15).text


def test_register_and_get_enterprise(store: Store) -> None:
    uscc = make_uscc("9", "1", "440106", "MA5D8K2L").text
    registered = register_enterprise(
        store,
        uscc=uscc.lower(),
        name="广州市天河区华盛科技有限公司",
        legal_representative=_representative(),
        industry="信息传输、软件和信息技术服务业",
        registered_at=date(2019, 3, 1),
        today=TODAY,
    )
    assert registered.uscc == uscc
    assert registered.district_code == "440106"
    assert get_enterprise(store, uscc) == registered
    with pytest.raises(Conflict) as caught:
        register_enterprise(
            store,
            uscc=uscc,
            name="另一家公司",
            legal_representative=_representative(),
            industry="制造业",
            registered_at=date(2020, 1, 1),
            today=TODAY,
        )
    assert caught.value.details["part"] == "uscc"


@pytest.mark.parametrize(
    ("fields", "part"),
    [
        ({"uscc": "91440106MA5D8K2L0N"}, "check character"),
        ({"uscc": "91440106MA5D8K2L0"}, "length"),
        ({"legal_representative": "440106199005171237"}, "check character"),
        ({"registered_at": date(2027, 1, 1)}, "registered at"),
        ({"name": ""}, "name"),
    ],
)
def test_register_enterprise_names_the_failing_part(
    store: Store, fields: dict[str, object], part: str
) -> None:
    values: dict[str, object] = {
        "uscc": "91440106MA5D8K2L0M",
        "name": "广州华盛贸易有限公司",
        "legal_representative": _representative(),
        "industry": "批发和零售业",
        "registered_at": date(2015, 6, 1),
        "today": TODAY,
    }
    values.update(fields)
    with pytest.raises(InvalidInput) as caught:
        register_enterprise(store, **values)  # type: ignore[arg-type]
    assert caught.value.details["part"] == part


def _bureau(code: str = "GZ-TEST") -> Department:
    return Department(
        code=code,
        name="广州市测试局",
        name_en="Guangzhou Test Bureau",
        short_name="测试局",
        kind=DepartmentKind.BUREAU,
    )


def test_departments_and_staff(store: Store) -> None:
    add_department(store, _bureau())
    add_department(store, DEPARTMENTS[-1])
    with pytest.raises(Conflict):
        add_department(store, _bureau())
    assert [d.code for d in list_departments(store)] == sorted(["GZ-TEST", DEPARTMENTS[-1].code])
    assert list_departments(store, DepartmentKind.DISTRICT_GOVERNMENT) == [DEPARTMENTS[-1]]
    assert get_department(store, "GZ-TEST") == _bureau()

    staff = add_staff(
        store,
        department_code="GZ-TEST",
        name="黄志强",
        roles=["supervisor", Role.OFFICER, "officer"],
        employee_number="GZ-TEST-0001",
    )
    assert staff.roles == (Role.OFFICER, Role.SUPERVISOR)
    assert list_staff(store, "GZ-TEST") == [staff]
    with pytest.raises(Conflict) as caught:
        add_staff(
            store,
            department_code="GZ-TEST",
            name="林静",
            roles=[Role.INSPECTOR],
            employee_number="GZ-TEST-0001",
        )
    assert caught.value.details["part"] == "employee number"


@pytest.mark.parametrize(
    ("fields", "error", "part"),
    [
        ({"department_code": "GZ-NONE"}, NotFound, "department"),
        ({"roles": []}, InvalidInput, "roles"),
        ({"roles": ["mayor"]}, InvalidInput, "roles"),
        ({"employee_number": "no spaces allowed"}, InvalidInput, "employee number"),
    ],
)
def test_add_staff_errors(
    store: Store, fields: dict[str, object], error: type[Exception], part: str
) -> None:
    add_department(store, _bureau())
    values: dict[str, object] = {
        "department_code": "GZ-TEST",
        "name": "黄志强",
        "roles": [Role.OFFICER],
        "employee_number": "GZ-TEST-0002",
    }
    values.update(fields)
    with pytest.raises(error) as caught:
        add_staff(store, **values)  # type: ignore[arg-type]
    assert caught.value.details["part"] == part  # type: ignore[attr-defined]


def test_bad_department_code_is_refused(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        add_department(store, _bureau("gz test"))
    assert caught.value.details["part"] == "code"
