"""Service methods name their caller; these tests act as an admin of a server with access
control off, which is what every HTTP request is when no API keys are configured."""

from app.service.caller import UNRESTRICTED, Caller

ADMIN: Caller = UNRESTRICTED
