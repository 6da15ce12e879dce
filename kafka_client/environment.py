"""Every crsmon process reads its settings from `CRSMON_*` environment variables, so that one
environment configures a whole deployment and a container needs no config file."""

import os


def crsmon_setting(name: str, default: str) -> str:
    """The value of `CRSMON_<name>`, or `default` when it is not set."""
    return os.environ.get(f"CRSMON_{name}", default)
