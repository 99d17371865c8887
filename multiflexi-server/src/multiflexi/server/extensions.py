"""The Flask extensions, bound to the database package's one MetaData and history."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from multiflexi.database import MIGRATIONS_DIR, metadata

#: models and migrations agree because both use multiflexi.database's MetaData
db = SQLAlchemy(metadata=metadata)
migrate = Migrate(directory=str(MIGRATIONS_DIR))
