"""inventory: manufacturers, categories, models and their identifier fields, locations, items, stock, movements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:01:46.357334
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inventory_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_inventory_categories_name'))
    )
    op.create_table('inventory_manufacturers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_manufacturers')),
    sa.UniqueConstraint('name', name=op.f('uq_inventory_manufacturers_name'))
    )
    op.create_table('inventory_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manufacturer_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('tracking', sa.String(length=12), nullable=False),
    sa.Column('unit', sa.String(length=12), nullable=False),
    sa.Column('min_stock', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("tracking IN ('serialized', 'quantity')", name=op.f('ck_inventory_models_tracking')),
    sa.ForeignKeyConstraint(['category_id'], ['inventory_categories.id'], name=op.f('fk_inventory_models_category_id_inventory_categories')),
    sa.ForeignKeyConstraint(['manufacturer_id'], ['inventory_manufacturers.id'], name=op.f('fk_inventory_models_manufacturer_id_inventory_manufacturers')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_inventory_models_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_models')),
    sa.UniqueConstraint('manufacturer_id', 'name', name=op.f('uq_inventory_models_manufacturer_id_name'))
    )
    with op.batch_alter_table('inventory_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_models_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inventory_models_manufacturer_id'), ['manufacturer_id'], unique=False)

    op.create_table('inventory_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['address_id'], ['serviceable_addresses.id'], name=op.f('fk_inventory_locations_address_id_serviceable_addresses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['inventory_locations.id'], name=op.f('fk_inventory_locations_parent_id_inventory_locations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_inventory_locations_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_inventory_locations_code'))
    )
    with op.batch_alter_table('inventory_locations', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_locations_parent_id', ['parent_id', 'name'], unique=False)

    op.create_table('inventory_model_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=30), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['inventory_models.id'], name=op.f('fk_inventory_model_fields_model_id_inventory_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_model_fields')),
    sa.UniqueConstraint('model_id', 'key', name=op.f('uq_inventory_model_fields_model_id_key'))
    )
    op.create_table('inventory_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('in_stock', 'assigned', 'installed', 'faulty', 'rma', 'retired')", name=op.f('ck_inventory_items_state')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_inventory_items_account_id_accounts')),
    sa.ForeignKeyConstraint(['location_id'], ['inventory_locations.id'], name=op.f('fk_inventory_items_location_id_inventory_locations')),
    sa.ForeignKeyConstraint(['model_id'], ['inventory_models.id'], name=op.f('fk_inventory_items_model_id_inventory_models')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_inventory_items_staff_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_inventory_items_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_items')),
    sa.UniqueConstraint('tag', name=op.f('uq_inventory_items_tag'))
    )
    with op.batch_alter_table('inventory_items', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_items_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_inventory_items_location_id', ['location_id'], unique=False)
        batch_op.create_index('ix_inventory_items_model_state', ['model_id', 'state'], unique=False)
        batch_op.create_index('ix_inventory_items_staff_id', ['staff_id'], unique=False)

    op.create_table('inventory_stock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_inventory_stock_quantity_not_negative')),
    sa.ForeignKeyConstraint(['location_id'], ['inventory_locations.id'], name=op.f('fk_inventory_stock_location_id_inventory_locations')),
    sa.ForeignKeyConstraint(['model_id'], ['inventory_models.id'], name=op.f('fk_inventory_stock_model_id_inventory_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_stock')),
    sa.UniqueConstraint('model_id', 'location_id', name=op.f('uq_inventory_stock_model_id_location_id'))
    )
    with op.batch_alter_table('inventory_stock', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_stock_location_id', ['location_id'], unique=False)

    op.create_table('inventory_identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('value', sa.String(length=120), nullable=False),
    sa.Column('lookup', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['inventory_items.id'], name=op.f('fk_inventory_identifiers_item_id_inventory_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_id'], ['inventory_models.id'], name=op.f('fk_inventory_identifiers_model_id_inventory_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_identifiers')),
    sa.UniqueConstraint('item_id', 'key', name=op.f('uq_inventory_identifiers_item_id_key')),
    sa.UniqueConstraint('model_id', 'key', 'lookup', name=op.f('uq_inventory_identifiers_model_id_key_lookup'))
    )
    with op.batch_alter_table('inventory_identifiers', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_identifiers_lookup', ['lookup'], unique=False,
                              postgresql_ops={'lookup': 'varchar_pattern_ops'})
        batch_op.create_index('uq_inventory_identifiers_mac', ['lookup'], unique=True,
                              sqlite_where=sa.text("kind = 'mac'"), postgresql_where=sa.text("kind = 'mac'"))

    op.create_table('inventory_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('from_kind', sa.String(length=12), nullable=False),
    sa.Column('from_id', sa.Integer(), nullable=True),
    sa.Column('from_label', sa.String(length=200), nullable=False),
    sa.Column('to_kind', sa.String(length=12), nullable=False),
    sa.Column('to_id', sa.Integer(), nullable=True),
    sa.Column('to_label', sa.String(length=200), nullable=False),
    sa.Column('state_from', sa.String(length=12), nullable=False),
    sa.Column('state_to', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['inventory_items.id'], name=op.f('fk_inventory_movements_item_id_inventory_items')),
    sa.ForeignKeyConstraint(['model_id'], ['inventory_models.id'], name=op.f('fk_inventory_movements_model_id_inventory_models')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inventory_movements_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_movements'))
    )
    with op.batch_alter_table('inventory_movements', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_movements_from', ['from_kind', 'from_id'], unique=False)
        batch_op.create_index('ix_inventory_movements_item_id', ['item_id', 'id'], unique=False)
        batch_op.create_index('ix_inventory_movements_to', ['to_kind', 'to_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inventory_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_movements_to')
        batch_op.drop_index('ix_inventory_movements_item_id')
        batch_op.drop_index('ix_inventory_movements_from')

    op.drop_table('inventory_movements')
    with op.batch_alter_table('inventory_identifiers', schema=None) as batch_op:
        batch_op.drop_index('uq_inventory_identifiers_mac')
        batch_op.drop_index('ix_inventory_identifiers_lookup')

    op.drop_table('inventory_identifiers')
    with op.batch_alter_table('inventory_stock', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_stock_location_id')

    op.drop_table('inventory_stock')
    with op.batch_alter_table('inventory_items', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_items_staff_id')
        batch_op.drop_index('ix_inventory_items_model_state')
        batch_op.drop_index('ix_inventory_items_location_id')
        batch_op.drop_index('ix_inventory_items_account_id')

    op.drop_table('inventory_items')
    op.drop_table('inventory_model_fields')
    with op.batch_alter_table('inventory_locations', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_locations_parent_id')

    op.drop_table('inventory_locations')
    with op.batch_alter_table('inventory_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inventory_models_manufacturer_id'))
        batch_op.drop_index(batch_op.f('ix_inventory_models_category_id'))

    op.drop_table('inventory_models')
    op.drop_table('inventory_manufacturers')
    op.drop_table('inventory_categories')
