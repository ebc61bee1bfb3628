from nzr_common.entrypoint import main

from nzr_reporting.app import create_app
from nzr_reporting.settings import ReportingSettings

main(settings_class=ReportingSettings, create_app=create_app, migrations_package="nzr_reporting")
