from sqlalchemy import inspect

from tracker import migrations


def test_upgrade_downgrade_and_upgrade_again(bare_engine):
    migrations.upgrade(bare_engine)
    assert migrations.current(bare_engine) == migrations.head(bare_engine)
    assert "deadlines" in inspect(bare_engine).get_table_names()
    migrations.downgrade(bare_engine, "base")
    assert migrations.current(bare_engine) is None
    assert "deadlines" not in inspect(bare_engine).get_table_names()
    migrations.upgrade(bare_engine)
    assert migrations.current(bare_engine) == migrations.head(bare_engine)


def test_models_and_migrations_agree(engine):
    assert migrations.differences(engine) == []
