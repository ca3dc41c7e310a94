"""A journey as the page shows it: department names, documents in storage, steps done."""

from __future__ import annotations

from smartcity.apps.portal import storage
from smartcity.apps.portal.journeys import Journey, catalogue
from smartcity.apps.portal.models import JourneyView, NeededDocument, StepView
from smartcity.kernel.identity.models import Citizen
from smartcity.kernel.platform import Platform


def journey_view(platform: Platform, journey: Journey, citizen: Citizen | None) -> JourneyView:
    """``journey`` for ``citizen`` (or for anyone when None: nothing personal filled in)."""
    kinds = catalogue().documents
    with platform.store.connect() as conn:
        names = storage.departments(conn, [step.department for step in journey.steps])
        stored = storage.documents_of(conn, citizen.id) if citizen is not None else []
        row = storage.journey_row(conn, citizen.id, journey.slug) if citizen is not None else None
    done = storage.done_steps_of(row)
    steps = []
    for step in journey.steps:
        needed = []
        for code in step.documents:
            kind = kinds[code]
            matching = [document.id for document in stored if kind.matches(document.name)]
            needed.append(
                NeededDocument(
                    kind=code,
                    label_zh=kind.label_zh,
                    label_en=kind.label_en,
                    in_storage=bool(matching) if citizen is not None else None,
                    document_ids=matching,
                )
            )
        steps.append(
            StepView(
                slug=step.slug,
                title_zh=step.title_zh,
                title_en=step.title_en,
                department=names[step.department],
                service=step.service,
                documents=needed,
                done=(step.slug in done) if citizen is not None else None,
            )
        )
    return JourneyView(
        slug=journey.slug,
        title_zh=journey.title_zh,
        title_en=journey.title_en,
        summary_zh=journey.summary_zh,
        summary_en=journey.summary_en,
        started=(row is not None) if citizen is not None else None,
        started_at=row.started_at if row is not None else None,
        done_steps=len(done & {s.slug for s in journey.steps}) if citizen is not None else None,
        steps=steps,
    )
