from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from service.cli import alembic_config
from service.models import metadata


def test_migrations_have_exactly_one_head(config):
    script = ScriptDirectory.from_config(alembic_config(config.sqlalchemy_url))
    assert len(script.get_heads()) == 1


def test_models_match_the_migrations(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    assert compare_metadata(context, metadata) == []


def test_database_is_at_the_head_revision(config, connection):
    script = ScriptDirectory.from_config(alembic_config(config.sqlalchemy_url))
    current = MigrationContext.configure(connection).get_current_revision()
    assert current == script.get_current_head()
