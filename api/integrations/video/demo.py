"""Demo data of the video connector for ``manage.py seed_demo`` (docs/integrations.md#video,
docs/demo.md).

Idempotent. Viewing grants, made by the demo's city IT admin (admin 马超):
* the city's leaders (mayor, leader1–3, deputy1; role leader at 新城市) view every camera;
* the police bureau 市公安局 (XC-GA) views its own 天网 and traffic cameras;
* the government office 市政府办公室 (XC-OFF) views the city cameras (城市).
When the video platform is configured (``make demo`` runs the fake), the catalogue is
pulled at once so a newcomer sees the camera list without waiting for beat; a platform
that does not answer leaves the catalogue to the connector's next pull.
"""

from __future__ import annotations

import logging

from api.accounts.models import Role, Unit, User
from api.integrations.errors import IntegrationError
from api.integrations.video import platform, sync
from api.integrations.video.models import Camera, CameraGrant, CameraType

logger = logging.getLogger(__name__)

# (grantee unit code, role, camera type, owner unit code)
DEMO_GRANTS = (
    ("XC", Role.LEADER, "", None),
    ("XC-GA", "", CameraType.TIANWANG, "XC-GA"),
    ("XC-GA", "", CameraType.TRAFFIC, "XC-GA"),
    ("XC-OFF", "", CameraType.CITY, None),
)


def seed() -> dict[str, int]:
    stats = {"camera_grants_created": 0, "cameras_synced": 0}
    admin = User.objects.filter(username="admin").first()
    units = {u.code: u for u in Unit.objects.filter(code__in=["XC", "XC-GA", "XC-OFF"])}
    if admin is None or len(units) < 3:
        return stats
    for grantee, role, camera_type, owner in DEMO_GRANTS:
        _, created = CameraGrant.objects.get_or_create(
            grantee_unit=units[grantee],
            role=role,
            camera_type=camera_type,
            owner_unit=units.get(owner) if owner else None,
            revoked_at=None,
            defaults={"created_by": admin},
        )
        stats["camera_grants_created"] += int(created)
    if platform.config().configured:
        try:
            sync.sync_all()
        except IntegrationError as exc:
            logger.warning("video demo: the camera catalogue was not pulled: %s", exc)
        stats["cameras_synced"] = Camera.objects.filter(retired_at__isnull=True).count()
    return stats
