"""multiflexi.server: the Flask application (``create_app``), the API and the scheduler."""

from importlib.metadata import version as _version

from multiflexi.server.app import create_app

__version__ = _version("multiflexi-server")

__all__ = ["__version__", "create_app"]
