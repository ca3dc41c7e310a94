"""Administrative division codes (GB/T 2260) as far as the identity checks need them.

A citizen ID or a unified social credit code carries a six-digit division code. We do not
ship the full, yearly-revised GB/T 2260 table: codes of districts that were merged or
renamed stay valid in IDs issued before the change, so an exact table would reject real
people. Instead a code is *plausible* when it is six digits and starts with one of the 31
mainland province-level codes.
"""

from __future__ import annotations

from types import MappingProxyType

# The 31 mainland province-level divisions (GB/T 2260). Hong Kong (81), Macao (82) and
# Taiwan (71) use other identity documents and are not accepted here.
PROVINCE_CODES: MappingProxyType[str, str] = MappingProxyType(
    {
        "11": "北京市",
        "12": "天津市",
        "13": "河北省",
        "14": "山西省",
        "15": "内蒙古自治区",
        "21": "辽宁省",
        "22": "吉林省",
        "23": "黑龙江省",
        "31": "上海市",
        "32": "江苏省",
        "33": "浙江省",
        "34": "安徽省",
        "35": "福建省",
        "36": "江西省",
        "37": "山东省",
        "41": "河南省",
        "42": "湖北省",
        "43": "湖南省",
        "44": "广东省",
        "45": "广西壮族自治区",
        "46": "海南省",
        "50": "重庆市",
        "51": "四川省",
        "52": "贵州省",
        "53": "云南省",
        "54": "西藏自治区",
        "61": "陕西省",
        "62": "甘肃省",
        "63": "青海省",
        "64": "宁夏回族自治区",
        "65": "新疆维吾尔自治区",
    }
)

# The eleven districts of Guangzhou, the platform's reference city.
GUANGZHOU_DISTRICTS: MappingProxyType[str, str] = MappingProxyType(
    {
        "440103": "荔湾区",
        "440104": "越秀区",
        "440105": "海珠区",
        "440106": "天河区",
        "440111": "白云区",
        "440112": "黄埔区",
        "440113": "番禺区",
        "440114": "花都区",
        "440115": "南沙区",
        "440117": "从化区",
        "440118": "增城区",
    }
)


def division_problem(code: str) -> str | None:
    """Why ``code`` is not a plausible six-digit division code, or ``None`` if it is."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return f"division code {code!r} must be 6 digits"
    if code[:2] not in PROVINCE_CODES:
        return (
            f"division code {code!r} does not start with a mainland province code "
            f"(got {code[:2]!r}, expected one of 11..65)"
        )
    return None


def is_plausible_division(code: str) -> bool:
    """Whether ``code`` is six digits under a real mainland province."""
    return division_problem(code) is None


def place_problem(district_code: str, community_code: str, grid_code: str) -> str | None:
    """Why a residence's codes do not fit together, or ``None`` if they do.

    Community codes are 12 digits (GB/T 10114: county 6 + street 3 + community 3) and
    unit-grid codes 15 digits (GB/T 30428: the community's 12 + a 3-digit sequence), so a
    grid code starts with its community code and a community code with its district code.
    """
    problem = division_problem(district_code)
    if problem is not None:
        return problem
    if len(community_code) != 12 or not community_code.isascii() or not community_code.isdigit():
        return f"community code {community_code!r} must be 12 digits"
    if len(grid_code) != 15 or not grid_code.isascii() or not grid_code.isdigit():
        return f"grid code {grid_code!r} must be 15 digits"
    if not community_code.startswith(district_code):
        return f"community code {community_code!r} is not in district {district_code!r}"
    if not grid_code.startswith(community_code):
        return f"grid code {grid_code!r} is not in community {community_code!r}"
    return None
