"""Is the person ordering a member? The registration service owns the member directory.

The orders service asks it over HTTP with short timeouts and a couple of retries. When it
cannot answer, `lookup` raises `DirectoryUnavailable`; the caller keeps the order as
"membership unverified" and a background actor asks again later (see `actors.py`).
"""
from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from shared.web import settings

#: seconds to connect, seconds to wait for the answer (per attempt)
TIMEOUT = (0.5, 2.0)
#: attempts after the first, on connection errors, timeouts and 5xx answers
RETRIES = Retry(
    total=2, backoff_factor=0.1, status_forcelist=(500, 502, 503, 504), allowed_methods={"GET"}, raise_on_status=False
)


class DirectoryUnavailable(Exception):
    """The member directory did not give a usable answer (down, slow, or a reply we cannot read)."""


@dataclass(frozen=True)
class Membership:
    member: bool
    #: the organisation's id and name in the member directory, for members
    organisation_id: int | None = None
    organisation_name: str | None = None


def lookup(email: str) -> Membership:
    """Ask the member directory whether `email` belongs to a member organisation.

    Raises `DirectoryUnavailable` when it cannot answer.
    """
    url = f"{settings().service_url('registration')}/api/v1/members/lookup"
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=RETRIES))
        session.mount("https://", HTTPAdapter(max_retries=RETRIES))
        try:
            response = session.get(url, params={"email": email}, timeout=TIMEOUT)
            body = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as error:
            raise DirectoryUnavailable(f"{url}: {type(error).__name__}: {error}") from error
    if not isinstance(body, dict) or not isinstance(body.get("member"), bool):
        raise DirectoryUnavailable(f"{url}: answered {response.status_code} without a membership")
    if not body["member"]:
        return Membership(member=False)
    organisation = body.get("organisation")
    if not isinstance(organisation, dict) or not isinstance(organisation.get("id"), int):
        raise DirectoryUnavailable(f"{url}: a member without its organisation's id")
    return Membership(member=True, organisation_id=organisation["id"], organisation_name=organisation.get("name"))
