"""``python -m nzr_funding serve|migrate`` (the web app is imported only to serve)."""

from nzr_common.entrypoint import main
from nzr_funding.settings import FundingSettings

main(
    settings_class=FundingSettings, create_app="nzr_funding.app:create_app", migrations_package="nzr_funding"
)
