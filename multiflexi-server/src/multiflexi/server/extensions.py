"""The Flask extensions, bound to the database package's one MetaData and history."""

from __future__ import annotations

from alembic.config import Config
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from multiflexi.database import MIGRATIONS_DIR, metadata

#: models and migrations agree because both use multiflexi.database's MetaData
db = SQLAlchemy(metadata=metadata)
migrate = Migrate(directory=str(MIGRATIONS_DIR))


@migrate.configure
def _point_alembic_at_our_database(config: Config) -> Config:
    """Give the database package's env.py the URL of Flask-SQLAlchemy's engine."""
    url = db.engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
