"""billing: catalogue, account services and packages, invoices, ledger, payments, bill runs, usage, delinquency; the outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:30:46.509427
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_payment_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deposited_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payment_batches'))
    )
    op.create_table('billing_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('started_by', sa.String(length=60), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_runs'))
    )
    with op.batch_alter_table('billing_runs', schema=None) as batch_op:
        batch_op.create_index('ix_billing_runs_state', ['state'], unique=False)

    op.create_table('billing_usage_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('allowance_mb', sa.BigInteger(), nullable=False),
    sa.Column('rollover_months', sa.Integer(), nullable=False),
    sa.Column('overage_block_mb', sa.BigInteger(), nullable=False),
    sa.Column('overage_price', sa.BigInteger(), nullable=False),
    sa.Column('topup_mb', sa.BigInteger(), nullable=False),
    sa.Column('topup_price', sa.BigInteger(), nullable=False),
    sa.Column('free_periods', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_usage_policies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_usage_policies')),
    sa.UniqueConstraint('name', name=op.f('uq_billing_usage_policies_name'))
    )
    op.create_table('billing_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('roll_up', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_billing_packages_company_id_companies')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_packages_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_packages')),
    sa.UniqueConstraint('company_id', 'name', name=op.f('uq_billing_packages_company_id_name'))
    )
    op.create_table('billing_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('frequency_months', sa.Integer(), nullable=False),
    sa.Column('prorates', sa.Boolean(), nullable=False),
    sa.Column('expires_after_cycles', sa.Integer(), nullable=True),
    sa.Column('gl_code', sa.String(length=40), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('download_kbps', sa.Integer(), nullable=True),
    sa.Column('upload_kbps', sa.Integer(), nullable=True),
    sa.Column('usage_policy_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('frequency_months BETWEEN 1 AND 60', name=op.f('ck_billing_services_frequency')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_billing_services_price_not_negative')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_billing_services_company_id_companies')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_services_updated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['usage_policy_id'], ['billing_usage_policies.id'], name=op.f('fk_billing_services_usage_policy_id_billing_usage_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_services')),
    sa.UniqueConstraint('company_id', 'name', name=op.f('uq_billing_services_company_id_name'))
    )
    op.create_table('billing_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('bill_day_mode', sa.String(length=12), nullable=False),
    sa.Column('bill_day', sa.Integer(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('status_switch_days', sa.Integer(), nullable=False),
    sa.Column('switch_status_id', sa.Integer(), nullable=True),
    sa.Column('delinquent_status_id', sa.Integer(), nullable=True),
    sa.Column('minimum_delinquent_balance', sa.BigInteger(), nullable=False),
    sa.Column('late_fee_kind', sa.String(length=8), nullable=False),
    sa.Column('late_fee_amount', sa.BigInteger(), nullable=False),
    sa.Column('late_fee_minimum', sa.BigInteger(), nullable=False),
    sa.Column('late_fee_days', sa.Integer(), nullable=False),
    sa.Column('printed_invoice_fee', sa.BigInteger(), nullable=False),
    sa.Column('prorate', sa.Boolean(), nullable=False),
    sa.Column('statement_mode', sa.Boolean(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('invoice_message', sa.Text(), nullable=False),
    sa.Column('remit_to', sa.Text(), nullable=False),
    sa.Column('logo_path', sa.String(length=500), nullable=False),
    sa.Column('check_weekdays', sa.String(length=7), nullable=False),
    sa.Column('excluded_account_type_ids', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("bill_day_mode IN ('fixed', 'anniversary')", name=op.f('ck_billing_settings_bill_day_mode')),
    sa.CheckConstraint('bill_day BETWEEN 1 AND 28', name=op.f('ck_billing_settings_bill_day')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_billing_settings_company_id_companies')),
    sa.ForeignKeyConstraint(['delinquent_status_id'], ['account_statuses.id'], name=op.f('fk_billing_settings_delinquent_status_id_account_statuses')),
    sa.ForeignKeyConstraint(['switch_status_id'], ['account_statuses.id'], name=op.f('fk_billing_settings_switch_status_id_account_statuses')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_settings')),
    sa.UniqueConstraint('company_id', name=op.f('uq_billing_settings_company_id'))
    )
    op.create_table('billing_taxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('zone', sa.JSON(), nullable=True),
    sa.Column('gl_code', sa.String(length=40), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_billing_taxes_company_id_companies')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_taxes_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_taxes'))
    )
    op.create_table('delinquency_exclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_delinquency_exclusions_company_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delinquency_exclusions')),
    sa.UniqueConstraint('company_id', 'year', 'month', 'day', name=op.f('uq_delinquency_exclusions_company_id_year_month_day'))
    )
    op.create_table('billing_account_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_account_packages_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['billing_packages.id'], name=op.f('fk_billing_account_packages_package_id_billing_packages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_account_packages'))
    )
    with op.batch_alter_table('billing_account_packages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_account_packages_account_id'), ['account_id'], unique=False)

    op.create_table('billing_accounts',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('bill_day', sa.Integer(), nullable=True),
    sa.Column('next_bill_on', sa.Date(), nullable=True),
    sa.Column('tax_exempt', sa.Boolean(), nullable=False),
    sa.Column('exemption_certificate', sa.String(length=80), nullable=False),
    sa.Column('paper_invoice', sa.Boolean(), nullable=False),
    sa.Column('roll_up_to_parent', sa.Boolean(), nullable=False),
    sa.Column('delinquency_excluded', sa.Boolean(), nullable=False),
    sa.Column('delinquent_since', sa.Date(), nullable=True),
    sa.Column('status_switched_on', sa.Date(), nullable=True),
    sa.Column('status_before_delinquency_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_before_delinquency_id'], ['account_statuses.id'], name=op.f('fk_billing_accounts_status_before_delinquency_id_account_statuses')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_accounts_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_billing_accounts'))
    )
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_accounts_next_bill_on'), ['next_bill_on'], unique=False)

    op.create_table('billing_discounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('recurrence', sa.String(length=10), nullable=False),
    sa.Column('cycles', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_billing_discounts_company_id_companies')),
    sa.ForeignKeyConstraint(['package_id'], ['billing_packages.id'], name=op.f('fk_billing_discounts_package_id_billing_packages')),
    sa.ForeignKeyConstraint(['service_id'], ['billing_services.id'], name=op.f('fk_billing_discounts_service_id_billing_services')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_billing_discounts_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_discounts'))
    )
    op.create_table('billing_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('bill_run_id', sa.Integer(), nullable=True),
    sa.Column('billing_key', sa.String(length=60), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('tax_total', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('paid', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('late_fee_applied_on', sa.Date(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('previous_balance', sa.BigInteger(), nullable=False),
    sa.Column('payments_since', sa.BigInteger(), nullable=False),
    sa.Column('printed_at', sa.DateTime(), nullable=True),
    sa.Column('emailed_at', sa.DateTime(), nullable=True),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_invoices_account_id_accounts')),
    sa.ForeignKeyConstraint(['bill_run_id'], ['billing_runs.id'], name=op.f('fk_billing_invoices_bill_run_id_billing_runs')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_billing_invoices_company_id_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoices')),
    sa.UniqueConstraint('billing_key', name=op.f('uq_billing_invoices_billing_key')),
    sa.UniqueConstraint('number', name=op.f('uq_billing_invoices_number'))
    )
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_billing_invoices_account_id', ['account_id', 'issued_on'], unique=False)
        batch_op.create_index('ix_billing_invoices_status', ['status', 'due_on'], unique=False)

    op.create_table('billing_package_services',
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_billing_package_services_quantity_positive')),
    sa.ForeignKeyConstraint(['package_id'], ['billing_packages.id'], name=op.f('fk_billing_package_services_package_id_billing_packages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['billing_services.id'], name=op.f('fk_billing_package_services_service_id_billing_services')),
    sa.PrimaryKeyConstraint('package_id', 'service_id', name=op.f('pk_billing_package_services'))
    )
    op.create_table('billing_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('reversed_at', sa.DateTime(), nullable=True),
    sa.Column('reversal_reason', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_billing_payments_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_payments_account_id_accounts')),
    sa.ForeignKeyConstraint(['batch_id'], ['billing_payment_batches.id'], name=op.f('fk_billing_payments_batch_id_billing_payment_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payments'))
    )
    with op.batch_alter_table('billing_payments', schema=None) as batch_op:
        batch_op.create_index('ix_billing_payments_account_id', ['account_id', 'received_on'], unique=False)

    op.create_table('billing_service_taxes',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('tax_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['billing_services.id'], name=op.f('fk_billing_service_taxes_service_id_billing_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tax_id'], ['billing_taxes.id'], name=op.f('fk_billing_service_taxes_tax_id_billing_taxes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'tax_id', name=op.f('pk_billing_service_taxes'))
    )
    op.create_table('billing_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=False),
    sa.Column('download_mb', sa.BigInteger(), nullable=False),
    sa.Column('upload_mb', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_usage_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_usage')),
    sa.UniqueConstraint('account_id', 'started_at', 'source', name=op.f('uq_billing_usage_account_id_started_at_source'))
    )
    with op.batch_alter_table('billing_usage', schema=None) as batch_op:
        batch_op.create_index('ix_billing_usage_account_id', ['account_id', 'started_at'], unique=False)

    op.create_table('billing_usage_rollovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('from_period_start', sa.Date(), nullable=False),
    sa.Column('mb_left', sa.BigInteger(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_usage_rollovers_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_usage_rollovers'))
    )
    with op.batch_alter_table('billing_usage_rollovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_usage_rollovers_account_id'), ['account_id'], unique=False)

    op.create_table('billing_usage_topups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('bought_on', sa.Date(), nullable=False),
    sa.Column('mb', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('invoiced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_usage_topups_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_usage_topups'))
    )
    with op.batch_alter_table('billing_usage_topups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_usage_topups_account_id'), ['account_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_outbox_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_account_id', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_outbox_pending', ['topic', 'processed_at', 'id'], unique=False)

    op.create_table('billing_account_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('account_package_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price_override', sa.BigInteger(), nullable=True),
    sa.Column('override_reason', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('billed_through', sa.Date(), nullable=True),
    sa.Column('cycles_billed', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_billing_account_services_quantity_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_account_services_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['account_package_id'], ['billing_account_packages.id'], name=op.f('fk_billing_account_services_account_package_id_billing_account_packages')),
    sa.ForeignKeyConstraint(['service_id'], ['billing_services.id'], name=op.f('fk_billing_account_services_service_id_billing_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_account_services'))
    )
    with op.batch_alter_table('billing_account_services', schema=None) as batch_op:
        batch_op.create_index('ix_billing_account_services_account_id', ['account_id', 'starts_on'], unique=False)

    op.create_table('billing_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_ledger_account_id_accounts')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_ledger_invoice_id_billing_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payments.id'], name=op.f('fk_billing_ledger_payment_id_billing_payments')),
    sa.ForeignKeyConstraint(['reverses_id'], ['billing_ledger.id'], name=op.f('fk_billing_ledger_reverses_id_billing_ledger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_ledger'))
    )
    with op.batch_alter_table('billing_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_billing_ledger_account_id', ['account_id', 'id'], unique=False)

    op.create_table('billing_account_discounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('discount_id', sa.Integer(), nullable=False),
    sa.Column('account_service_id', sa.Integer(), nullable=True),
    sa.Column('account_package_id', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('cycles_used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_account_discounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['account_package_id'], ['billing_account_packages.id'], name=op.f('fk_billing_account_discounts_account_package_id_billing_account_packages')),
    sa.ForeignKeyConstraint(['account_service_id'], ['billing_account_services.id'], name=op.f('fk_billing_account_discounts_account_service_id_billing_account_services')),
    sa.ForeignKeyConstraint(['discount_id'], ['billing_discounts.id'], name=op.f('fk_billing_account_discounts_discount_id_billing_discounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_account_discounts'))
    )
    with op.batch_alter_table('billing_account_discounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_account_discounts_account_id'), ['account_id'], unique=False)

    op.create_table('billing_invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('account_service_id', sa.Integer(), nullable=True),
    sa.Column('tax_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_amount', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('gl_code', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_invoice_lines_account_id_accounts')),
    sa.ForeignKeyConstraint(['account_service_id'], ['billing_account_services.id'], name=op.f('fk_billing_invoice_lines_account_service_id_billing_account_services')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_invoice_lines_invoice_id_billing_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tax_id'], ['billing_taxes.id'], name=op.f('fk_billing_invoice_lines_tax_id_billing_taxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoice_lines'))
    )
    with op.batch_alter_table('billing_invoice_lines', schema=None) as batch_op:
        batch_op.create_index('ix_billing_invoice_lines_invoice_id', ['invoice_id', 'position'], unique=False)

    op.create_table('billing_payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], name=op.f('fk_billing_payment_allocations_invoice_id_billing_invoices')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['billing_ledger.id'], name=op.f('fk_billing_payment_allocations_ledger_entry_id_billing_ledger')),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payments.id'], name=op.f('fk_billing_payment_allocations_payment_id_billing_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payment_allocations'))
    )
    with op.batch_alter_table('billing_payment_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_billing_payment_allocations_invoice_id', ['invoice_id'], unique=False)
        batch_op.create_index('ix_billing_payment_allocations_payment_id', ['payment_id'], unique=False)
        batch_op.create_index('ix_billing_payment_allocations_ledger_entry_id', ['ledger_entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('billing_payment_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_payment_allocations_ledger_entry_id')
        batch_op.drop_index('ix_billing_payment_allocations_payment_id')
        batch_op.drop_index('ix_billing_payment_allocations_invoice_id')

    op.drop_table('billing_payment_allocations')
    with op.batch_alter_table('billing_invoice_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_invoice_lines_invoice_id')

    op.drop_table('billing_invoice_lines')
    with op.batch_alter_table('billing_account_discounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_account_discounts_account_id'))

    op.drop_table('billing_account_discounts')
    with op.batch_alter_table('billing_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_ledger_account_id')

    op.drop_table('billing_ledger')
    with op.batch_alter_table('billing_account_services', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_account_services_account_id')

    op.drop_table('billing_account_services')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.drop_index('ix_outbox_account_id')

    op.drop_table('outbox')
    with op.batch_alter_table('billing_usage_topups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_usage_topups_account_id'))

    op.drop_table('billing_usage_topups')
    with op.batch_alter_table('billing_usage_rollovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_usage_rollovers_account_id'))

    op.drop_table('billing_usage_rollovers')
    with op.batch_alter_table('billing_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_usage_account_id')

    op.drop_table('billing_usage')
    op.drop_table('billing_service_taxes')
    with op.batch_alter_table('billing_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_payments_account_id')

    op.drop_table('billing_payments')
    op.drop_table('billing_package_services')
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_invoices_status')
        batch_op.drop_index('ix_billing_invoices_account_id')

    op.drop_table('billing_invoices')
    op.drop_table('billing_discounts')
    with op.batch_alter_table('billing_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_accounts_next_bill_on'))

    op.drop_table('billing_accounts')
    with op.batch_alter_table('billing_account_packages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_account_packages_account_id'))

    op.drop_table('billing_account_packages')
    op.drop_table('delinquency_exclusions')
    op.drop_table('billing_taxes')
    op.drop_table('billing_settings')
    op.drop_table('billing_services')
    op.drop_table('billing_packages')
    op.drop_table('billing_usage_policies')
    with op.batch_alter_table('billing_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_runs_state')

    op.drop_table('billing_runs')
    op.drop_table('billing_payment_batches')
