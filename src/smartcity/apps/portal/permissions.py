"""Who may do what on the citizen page.

Citizens (``citizen.page``) use their own page; staff officers, supervisors and
administrators (``consultation.manage``) publish policy drafts and reply to comments
and suggestions within their own department (city administrators across departments).
Reading drafts, comments and replies is public.
"""

from __future__ import annotations

from smartcity.api.permissions import requires
from smartcity.kernel.identity.permissions import Permission

CITIZEN = requires(Permission.CITIZEN_PAGE)
CONSULTATION = requires(Permission.CONSULTATION_MANAGE)
