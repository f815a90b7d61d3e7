"""Help requests, customer cards and care (issue 10)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('help_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('sheet', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('no', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('tried', sa.Text(), nullable=True),
    sa.Column('keyword', sa.Text(), nullable=True),
    sa.Column('effective', sa.Text(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.create_index('ix_hr_fv', ['file_version_id'], unique=False)

    op.create_table('help_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('sheet', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('help_answers', schema=None) as batch_op:
        batch_op.create_index('ix_ha_fv', ['file_version_id'], unique=False)

    op.create_table('card_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('founded', sa.Date(), nullable=True),
    sa.Column('referred_by', sa.Text(), nullable=True),
    sa.Column('referred_norm', sa.Text(), nullable=True),
    sa.Column('signed', sa.Date(), nullable=True),
    sa.Column('revisit_days', sa.Integer(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('card_customers', schema=None) as batch_op:
        batch_op.create_index('ix_card_customers_fv', ['file_version_id'], unique=False)

    op.create_table('card_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('card_people', schema=None) as batch_op:
        batch_op.create_index('ix_card_people_fv', ['file_version_id'], unique=False)

    op.create_table('card_equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('maker', sa.Text(), nullable=False),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('bought', sa.Date(), nullable=True),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('usage', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('card_equipment', schema=None) as batch_op:
        batch_op.create_index('ix_card_equipment_fv', ['file_version_id'], unique=False)

    op.create_table('card_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('product', sa.Text(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('budget', sa.Float(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('card_plans', schema=None) as batch_op:
        batch_op.create_index('ix_card_plans_fv', ['file_version_id'], unique=False)

    op.create_table('card_appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('time', sa.Text(), nullable=True),
    sa.Column('person', sa.Text(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('card_appointments', schema=None) as batch_op:
        batch_op.create_index('ix_card_appointments_fv', ['file_version_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('card_appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_card_appointments_fv')
    op.drop_table('card_appointments')
    with op.batch_alter_table('card_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_card_plans_fv')
    op.drop_table('card_plans')
    with op.batch_alter_table('card_equipment', schema=None) as batch_op:
        batch_op.drop_index('ix_card_equipment_fv')
    op.drop_table('card_equipment')
    with op.batch_alter_table('card_people', schema=None) as batch_op:
        batch_op.drop_index('ix_card_people_fv')
    op.drop_table('card_people')
    with op.batch_alter_table('card_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_card_customers_fv')
    op.drop_table('card_customers')
    with op.batch_alter_table('help_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_ha_fv')
    op.drop_table('help_answers')
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_hr_fv')
    op.drop_table('help_requests')
