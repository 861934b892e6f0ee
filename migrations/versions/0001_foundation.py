"""foundation: companies, staff, audit, addresses, accounts

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 12:53:11.512518
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('colour', sa.String(length=9), nullable=False),
    sa.Column('activates', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_statuses')),
    sa.UniqueConstraint('name', name=op.f('uq_account_statuses_name'))
    )
    op.create_table('account_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('colour', sa.String(length=9), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_types')),
    sa.UniqueConstraint('name', name=op.f('uq_account_types_name'))
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('name', name=op.f('uq_roles_name'))
    )
    op.create_table('role_permissions',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('permission', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_role_permissions_role_id_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'permission', name=op.f('pk_role_permissions'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('username_key', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_users_role_id_roles')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_users_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username_key', name=op.f('uq_users_username_key'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_role_id'), ['role_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_entries_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('website', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_companies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies')),
    sa.UniqueConstraint('name', name=op.f('uq_companies_name'))
    )
    op.create_table('serviceable_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building', sa.String(length=120), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('postal_code', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_serviceable_addresses_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_serviceable_addresses'))
    )
    with op.batch_alter_table('serviceable_addresses', schema=None) as batch_op:
        batch_op.create_index('ix_serviceable_addresses_place', ['street', 'city', 'unit'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('account_type_id', sa.Integer(), nullable=False),
    sa.Column('status_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_type_id'], ['account_types.id'], name=op.f('fk_accounts_account_type_id_account_types')),
    sa.ForeignKeyConstraint(['address_id'], ['serviceable_addresses.id'], name=op.f('fk_accounts_address_id_serviceable_addresses')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_accounts_company_id_companies')),
    sa.ForeignKeyConstraint(['parent_id'], ['accounts.id'], name=op.f('fk_accounts_parent_id_accounts')),
    sa.ForeignKeyConstraint(['status_id'], ['account_statuses.id'], name=op.f('fk_accounts_status_id_account_statuses')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_accounts_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('number', name=op.f('uq_accounts_number'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_account_type_id', ['account_type_id'], unique=False)
        batch_op.create_index('ix_accounts_address_id', ['address_id'], unique=False)
        batch_op.create_index('ix_accounts_company_id', ['company_id'], unique=False)
        batch_op.create_index('ix_accounts_name', ['name', 'id'], unique=False)
        batch_op.create_index('ix_accounts_parent_id', ['parent_id'], unique=False)
        batch_op.create_index('ix_accounts_status_id', ['status_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('mobile', sa.String(length=40), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('is_financial', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contacts_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_account_id'), ['account_id'], unique=False)
    _trigram_search_index()
    _sqlite_trigram_search_table()


def _sqlite_trigram_search_table() -> None:
    """On SQLite, an FTS5 trigram table over accounts.search_text serves '%term%' searches
    from an index; triggers keep it in step with the accounts. Where this SQLite lacks FTS5 or
    its trigram tokenizer (older than 3.34), search scans the column instead.

    Note for later migrations: Alembic's batch mode rebuilds a SQLite table by copying it,
    which drops its triggers. A migration that batch-alters ``accounts`` must create these
    three triggers again (and run ``INSERT INTO accounts_search(accounts_search) VALUES
    ('rebuild')``); tests/integration/test_accounts.py finds a broken index by searching."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    try:
        bind.exec_driver_sql(
            "CREATE VIRTUAL TABLE accounts_search USING fts5("
            "search_text, content='accounts', content_rowid='id', tokenize='trigram')"
        )
    except sa.exc.DBAPIError:
        return
    bind.exec_driver_sql(
        "CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN "
        "INSERT INTO accounts_search(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN "
        "INSERT INTO accounts_search(accounts_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
    )
    bind.exec_driver_sql(
        "CREATE TRIGGER accounts_search_update AFTER UPDATE OF search_text ON accounts BEGIN "
        "INSERT INTO accounts_search(accounts_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO accounts_search(rowid, search_text) VALUES (new.id, new.search_text); END"
    )


def _trigram_search_index() -> None:
    """On Postgres, a trigram index makes search-as-you-type ('%term%') use an index.

    pg_trgm is a trusted extension (PG 13+), so the database owner may create it; where it is
    not allowed the search still works, only slower (a sequential scan).
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    nested = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        bind.exec_driver_sql(
            "CREATE INDEX ix_accounts_search_trgm ON accounts USING gin (search_text gin_trgm_ops)"
        )
        nested.commit()
    except sa.exc.DBAPIError:
        nested.rollback()


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_accounts_search_trgm")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("accounts_search_insert", "accounts_search_delete", "accounts_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS accounts_search")
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_account_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_status_id')
        batch_op.drop_index('ix_accounts_parent_id')
        batch_op.drop_index('ix_accounts_name')
        batch_op.drop_index('ix_accounts_company_id')
        batch_op.drop_index('ix_accounts_address_id')
        batch_op.drop_index('ix_accounts_account_type_id')

    op.drop_table('accounts')
    with op.batch_alter_table('serviceable_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_serviceable_addresses_place')

    op.drop_table('serviceable_addresses')
    op.drop_table('companies')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_entity')
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_role_id'))

    op.drop_table('users')
    op.drop_table('role_permissions')
    op.drop_table('roles')
    op.drop_table('counters')
    op.drop_table('account_types')
    op.drop_table('account_statuses')
