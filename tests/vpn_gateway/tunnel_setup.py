"""Seeds the tunnel test's database (tests/vpn_gateway/test_tunnel.py): an organisation,
fay (owns the device), gus (borrows it), sam (supervisor), an approved device with a
server-made key, an agent credential; prints them and access tokens as JSON.

Run as a script against the DATABASE_URL of the API under test; never imported by pytest.
"""

from __future__ import annotations

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")
    django.setup()
    from api.accounts.tokens import issue_tokens, open_session
    from api.vpn import actions
    from tests.personas import Role, make_org, make_user

    org = make_org()
    fay = make_user("fay", org.office, Role.STAFF)
    gus = make_user("gus", org.office, Role.STAFF)
    sam = make_user("sam", org.city, Role.SUPERVISOR)
    ivy = make_user("ivy", org.city, Role.CITY_IT_ADMIN)
    device = actions.request_access(fay, name="fay 的手机", public_key=None, expires_on=None)
    device = actions.approve(ivy, device.pk, expires_on=None)
    _agent, credential = actions.issue_agent_credential(ivy, name="gw-tunnel-test")
    tokens = {
        user.username: issue_tokens(user, open_session(user, device_name="tunnel test")).access
        for user in (fay, gus, sam)
    }
    json.dump(
        {
            "device_id": device.pk,
            "address": device.address,
            "fay": fay.pk,
            "gus": gus.pk,
            "credential": credential,
            "tokens": tokens,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
