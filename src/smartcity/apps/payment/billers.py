"""The billers every payer can pay through the platform (付费通), seeded at start.

Each biller belongs to the department (utility or bureau) whose staff and systems issue
its bills; the codes are stable because they appear in ledger ids and reports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BillerSpec:
    code: str
    department_code: str
    name: str
    name_en: str


BILLERS: tuple[BillerSpec, ...] = (
    BillerSpec(
        "electricity", "GZ-GDJ", "电费（广州供电局）", "Electricity (Guangzhou Power Supply)"
    ),
    BillerSpec("water", "GZ-ZLS", "水费（广州市自来水公司）", "Water (Guangzhou Water Supply)"),
    BillerSpec("gas", "GZ-RQ", "燃气费（广州燃气集团）", "Gas (Guangzhou Gas Group)"),
    BillerSpec("telecom", "GZ-DX", "通信费（广州电信）", "Telecom (China Telecom Guangzhou)"),
    BillerSpec(
        "medical_insurance",
        "GZ-YBJ",
        "医疗保险费（市医保局）",
        "Medical insurance (Healthcare Security)",
    ),
    BillerSpec(
        "traffic_fines", "GZ-JJZD", "交通罚款（交警支队）", "Traffic fines (Traffic Police)"
    ),
    BillerSpec("taxes", "GZ-SUWJ", "税费（广州市税务局）", "Taxes (Guangzhou Tax Service)"),
)
