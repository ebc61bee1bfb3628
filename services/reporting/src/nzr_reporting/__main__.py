"""``python -m nzr_reporting serve|migrate|rebuild``."""

import sys

from nzr_common.entrypoint import main
from nzr_reporting.app import create_app
from nzr_reporting.settings import ReportingSettings

if sys.argv[1:2] == ["rebuild"]:
    from nzr_reporting.cli import app

    app(sys.argv[1:], prog_name="python -m nzr_reporting")
else:
    main(settings_class=ReportingSettings, create_app=create_app, migrations_package="nzr_reporting")
