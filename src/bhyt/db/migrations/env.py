"""Alembic environment: runs on the connection that ``bhyt.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context

import bhyt.assessment.models  # registers the assessment tables
import bhyt.claims.models
import bhyt.fraud.models
import bhyt.registry.models
import bhyt.security.models  # noqa: F401  (registers the claims, assessment, detection, registry and audit tables)
from bhyt.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
