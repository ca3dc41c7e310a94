"""The fixed vocabulary of interests a citizen may pick (codes are stable; labels zh/en).

The codes are what ``portal_profile.interests`` stores and what the targeting app's
audience rules name, so a code is never renamed; a new interest gets a new code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interest:
    code: str
    label_zh: str
    label_en: str


INTERESTS: tuple[Interest, ...] = (
    Interest("sport", "体育健身", "Sport and fitness"),
    Interest("culture", "文化艺术", "Culture and arts"),
    Interest("education", "教育培训", "Education and training"),
    Interest("health", "医疗健康", "Health"),
    Interest("elderly_care", "养老服务", "Elderly care"),
    Interest("childcare", "托育与儿童", "Childcare"),
    Interest("technology", "科技创新", "Technology"),
    Interest("transport", "交通出行", "Transport"),
    Interest("environment", "生态环境", "Environment"),
    Interest("business", "创业营商", "Business and start-ups"),
    Interest("employment", "就业创业", "Jobs and employment"),
    Interest("housing", "住房保障", "Housing"),
    Interest("tourism", "旅游休闲", "Tourism and leisure"),
    Interest("volunteering", "志愿服务", "Volunteering"),
    Interest("public_safety", "公共安全", "Public safety"),
)
BY_CODE: dict[str, Interest] = {interest.code: interest for interest in INTERESTS}
# At most this many interests per citizen: a profile that picks everything targets nothing.
MAX_INTERESTS = 10


def parse_interests(text: str) -> list[str]:
    """Codes stored as ``a,b,c``; codes no longer in the vocabulary are dropped."""
    return [code for code in text.split(",") if code in BY_CODE]


def format_interests(codes: list[str]) -> str:
    """The stored form: known codes, sorted, without repeats."""
    return ",".join(sorted(set(codes)))
