"""``python -m nzr_reporting serve|migrate|rebuild`` (the web app is imported only to serve)."""

import sys

from nzr_common.entrypoint import main
from nzr_reporting.settings import ReportingSettings

if sys.argv[1:2] == ["rebuild"]:
    from nzr_reporting.rebuild.cli import app

    app(sys.argv[1:], prog_name="python -m nzr_reporting")
else:
    main(
        settings_class=ReportingSettings,
        create_app="nzr_reporting.app:create_app",
        migrations_package="nzr_reporting",
    )
