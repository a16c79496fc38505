"""Where Kinline's own files live, whatever the working directory is."""

import os
from pathlib import Path


def project_root() -> Path:
    """KINLINE_HOME if set, else the checkout this package was installed from."""
    home = os.environ.get("KINLINE_HOME")
    return Path(home).resolve() if home else Path(__file__).resolve().parents[2]


def config_dir() -> Path:
    return project_root() / "config"


def web_dir() -> Path:
    return project_root() / "web"


def var_dir() -> Path:
    return project_root() / "var"
