"""`nzr dlq --service` offers exactly the services `nzr run` starts."""

from nzr_cli.dlq import ServiceName
from nzr_cli.supervisor import SERVICE_PORTS


def test_dlq_service_choices_are_the_services_nzr_run_starts() -> None:
    assert [service.value for service in ServiceName] == list(SERVICE_PORTS)
