from nzr_common.entrypoint import main
from nzr_funding.app import create_app
from nzr_funding.settings import FundingSettings

main(settings_class=FundingSettings, create_app=create_app, migrations_package="nzr_funding")
