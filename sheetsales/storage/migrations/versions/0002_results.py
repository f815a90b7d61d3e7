"""Results: lost-deal reports, targets, conversion (issue 9)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database from before versioning gets every table of the release that opens it (Store._migrate's
    # create_all) before it is stamped 0001 and upgraded: the table and the column may be there already.
    inspector = sa.inspect(op.get_bind())
    if 'qualification' not in {c['name'] for c in inspector.get_columns('opportunities')}:
        with op.batch_alter_table('opportunities', schema=None) as batch_op:
            batch_op.add_column(sa.Column('qualification', sa.Text(), nullable=True))
    if inspector.has_table('lost_reports'):
        return
    op.create_table('lost_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('sheet', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('opp_key', sa.Text(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('report_date', sa.Date(), nullable=True),
    sa.Column('customer_region', sa.Text(), nullable=True),
    sa.Column('agent', sa.Text(), nullable=True),
    sa.Column('previous_equipment', sa.Text(), nullable=True),
    sa.Column('purchase_method', sa.Text(), nullable=True),
    sa.Column('purchase_date', sa.Date(), nullable=True),
    sa.Column('winner', sa.Text(), nullable=True),
    sa.Column('winner_model', sa.Text(), nullable=True),
    sa.Column('winner_config', sa.Text(), nullable=True),
    sa.Column('winner_price', sa.Float(), nullable=True),
    sa.Column('winner_terms', sa.Text(), nullable=True),
    sa.Column('our_model', sa.Text(), nullable=True),
    sa.Column('our_config', sa.Text(), nullable=True),
    sa.Column('our_price', sa.Float(), nullable=True),
    sa.Column('our_terms', sa.Text(), nullable=True),
    sa.Column('others', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('analysis', sa.Text(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lost_reports', schema=None) as batch_op:
        batch_op.create_index('ix_lost_fv', ['file_version_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lost_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_lost_fv')
    op.drop_table('lost_reports')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_column('qualification')
