"""The NGSI-LD core @context, shipped inside the package so the broker works offline.

The file is ETSI's ``ngsi-ld-core-context-v1.8.jsonld`` (BSD 3-Clause, licence beside it
in ``contexts/``). Every published URL of the core context, of any 1.x version, resolves
to it and is never fetched: the core terms a client means are the ones the platform
implements.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from smartcity.kernel.context.jsonld_context import LdContext
from smartcity.kernel.context.jsonld_processing import ContextProcessor

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
NGSI_LD_PREFIX = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_CONTEXT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE_CONTEXT_RESOURCE = "ngsi-ld-core-context-v1.8.jsonld"

# ETSI's URLs of the core context across versions (and the unversioned one); clients
# written against an older version name one of these and mean the core context.
CORE_CONTEXT_URL_PATTERN = re.compile(
    r"https?://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context(?:-v1\.\d+)?\.jsonld"
)


def is_core_context_url(url: str) -> bool:
    """Whether ``url`` names the NGSI-LD core context (any 1.x version, http or https)."""
    return CORE_CONTEXT_URL_PATTERN.fullmatch(url) is not None


@cache
def core_context_document() -> dict[str, Any]:
    """The core context document as shipped (a JSON object with one ``@context``)."""
    text = (
        resources.files("smartcity.kernel.context")
        .joinpath("contexts", CORE_CONTEXT_RESOURCE)
        .read_text(encoding="utf-8")
    )
    document: dict[str, Any] = json.loads(text)
    return document


def _no_remote(url: str) -> Any:
    # The core context references nothing remote; reaching here means the shipped
    # file was altered, which is an installation fault, not a caller's.
    raise RuntimeError(f"the shipped core context refers to a remote context {url!r}")


@cache
def core_context() -> LdContext:
    """The NGSI-LD core context alone: what a request without a user context uses."""
    processor = ContextProcessor(_no_remote)
    processor.apply(core_context_document()["@context"])
    return processor.result(None)


def apply_core_last(processor: ContextProcessor) -> None:
    """Apply the core context after the user's, as NGSI-LD requires.

    ETSI GS CIM 009 says the core @context "shall always be considered as the last
    one": its terms override any user definition of the same term (a user context cannot
    make ``location`` mean something else) and its ``@vocab`` sends undefined terms to
    the default context.
    """
    # Overlaying the processed core terms equals processing the core document again
    # with protection overridden: none of its definitions depends on earlier contexts.
    core = core_context()
    processor.terms.update(core.terms)
    processor.vocab = core.vocab
