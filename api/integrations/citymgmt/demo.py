"""Demo city management cases for ``manage.py seed_demo`` (docs/integrations.md#city-management).

The same cases the demo's fake serves (cityfakes/citymgmt.py ``demo_cases``), applied
through the connector's own ``apply_case``, so the leaders' dashboard shows figures
before the first pull; the pull then finds the same versions and changes nothing.
Idempotent: a second run applies nothing new.
"""

from __future__ import annotations

from api.integrations.citymgmt.cases import apply_case, source_id_of
from cityfakes.citymgmt import demo_cases


def seed() -> int:
    """Apply the demo cases; the number created."""
    created = 0
    for case in demo_cases():
        created += apply_case(source_id_of(case), case) == "created"
    return created
