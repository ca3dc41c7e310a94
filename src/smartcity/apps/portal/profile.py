"""A citizen's profile: registry facts joined with what the citizen edited."""

from __future__ import annotations

import datetime as dt

from smartcity.apps.portal import storage
from smartcity.apps.portal.interests import BY_CODE
from smartcity.apps.portal.models import (
    HouseholdMember,
    InterestView,
    OccupationView,
    ProfileSummary,
    ProfileView,
)
from smartcity.kernel.errors import PermissionDenied
from smartcity.kernel.identity.models import Citizen
from smartcity.kernel.identity.principal import AccountKind, Principal
from smartcity.kernel.identity.queries import citizens_in_household, get_citizen
from smartcity.kernel.platform import Platform


def citizen_of(platform: Platform, principal: Principal) -> Citizen:
    """The registry person a signed-in citizen is (NotFound when not in the registry)."""
    if principal.kind is not AccountKind.CITIZEN:
        raise PermissionDenied("the citizen page is for citizens", kind=principal.kind.value)
    return get_citizen(platform.store, principal.subject)


def age_on(birth_date: dt.date, today: dt.date) -> int:
    """Whole years completed on ``today`` (a 29 February birthday counts on 1 March)."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def mask_national_id(national_id: str) -> str:
    """Division code and last four characters only, as printed on receipts: 440106********1234."""
    return national_id[:6] + "*" * (len(national_id) - 10) + national_id[-4:]


def mask_name(name: str) -> str:
    """How a citizen is named in public (comments): the family name only, 陈**."""
    return name[:1] + "*" * max(1, len(name) - 1)


def today_of(platform: Platform) -> dt.date:
    return platform.clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()


def load_profile(platform: Platform, citizen: Citizen) -> ProfileView:
    """The whole profile the page shows and edits."""
    today = today_of(platform)
    household = (
        [person for person in citizens_in_household(platform.store, citizen.household_id)]
        if citizen.household_id is not None
        else []
    )
    with platform.store.connect() as conn:
        row = storage.profile_row(conn, citizen.id)
        names = storage.areas(conn, [citizen.community_code, citizen.district_code])
    corrected = row is not None and row.occupation is not None
    return ProfileView(
        name=citizen.name,
        national_id_masked=mask_national_id(citizen.national_id),
        gender=citizen.gender.value,
        birth_year=citizen.birth_date.year,
        age=age_on(citizen.birth_date, today),
        community=names[citizen.community_code],
        district=names[citizen.district_code],
        household=[
            HouseholdMember(
                name=person.name,
                gender=person.gender.value,
                age=age_on(person.birth_date, today),
            )
            for person in household
            if person.id != citizen.id
        ],
        occupation=OccupationView(
            value=row.occupation if corrected and row is not None else citizen.occupation,
            registry=citizen.occupation,
            corrected=corrected,
        ),
        interests=[
            InterestView(
                code=code, label_zh=BY_CODE[code].label_zh, label_en=BY_CODE[code].label_en
            )
            for code in storage.interests_of(row)
        ],
        contact=storage.contact_of(row),
        updated_at=storage.aware(row.updated_at) if row is not None else None,
    )


def summarise(profile: ProfileView) -> ProfileSummary:
    return ProfileSummary(
        name=profile.name,
        age=profile.age,
        community=profile.community,
        district=profile.district,
        occupation=profile.occupation.value,
        interests=[interest.code for interest in profile.interests],
    )
