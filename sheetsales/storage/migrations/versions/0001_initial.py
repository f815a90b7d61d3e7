"""The schema of the first versioned release

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-02 05:18:17.835420
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('file_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('recorded_ns', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('file_stats', schema=None) as batch_op:
        batch_op.create_index('ix_fs_path', ['path'], unique=False)

    op.create_table('ingests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('started_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('file_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ingest_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('archive', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('rep', sa.Text(), nullable=True),
    sa.Column('week', sa.Text(), nullable=True),
    sa.Column('readable', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['ingest_id'], ['ingests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path', 'parent_id', name='uq_fv_path_parent')
    )
    with op.batch_alter_table('file_versions', schema=None) as batch_op:
        batch_op.create_index('ix_fv_path', ['path', 'observed_on'], unique=False)
        batch_op.create_index('ix_fv_rep', ['rep', 'kind', 'observed_on'], unique=False)

    op.create_table('playbooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ingest_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ingest_id'], ['ingests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ingest_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['ingest_id'], ['ingests.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reads', schema=None) as batch_op:
        batch_op.create_index('ix_reads_sha', ['sha256', 'path'], unique=False)

    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('week', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('time', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('person', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('cost', sa.Float(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_act_rep', ['rep', 'week'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('week', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('sheet', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.Column('deal', sa.Text(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('to_person', sa.Text(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_dec_fp', ['fingerprint'], unique=False)

    op.create_table('expenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('week', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('travel', sa.Float(), nullable=True),
    sa.Column('entertainment', sa.Float(), nullable=True),
    sa.Column('other', sa.Float(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('held_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('opp_key', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('held_rows', schema=None) as batch_op:
        batch_op.create_index('ix_held_fv', ['file_version_id'], unique=False)

    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ingest_id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=True),
    sa.Column('playbook_id', sa.Integer(), nullable=True),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=True),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('file', sa.Text(), nullable=True),
    sa.Column('sheet', sa.Text(), nullable=True),
    sa.Column('cell', sa.Text(), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.ForeignKeyConstraint(['ingest_id'], ['ingests.id'], ),
    sa.ForeignKeyConstraint(['playbook_id'], ['playbooks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('opportunities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('opp_key', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('customer', sa.Text(), nullable=False),
    sa.Column('customer_norm', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('sign_date', sa.Date(), nullable=True),
    sa.Column('delivery_date', sa.Date(), nullable=True),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('win_rate', sa.Float(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('owner_name', sa.Text(), nullable=True),
    sa.Column('resources', sa.Text(), nullable=True),
    sa.Column('distributor', sa.Text(), nullable=True),
    sa.Column('milestones', sa.String(length=60), nullable=True),
    sa.Column('q_answered', sa.Integer(), nullable=True),
    sa.Column('c_clear', sa.Integer(), nullable=True),
    sa.Column('c_first', sa.Integer(), nullable=True),
    sa.Column('c_win', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opp_fv', ['file_version_id'], unique=False)
        batch_op.create_index('ix_opp_key', ['opp_key', 'observed_on'], unique=False)

    op.create_table('read_ends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('read_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('finished_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['read_id'], ['reads.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('read_id')
    )
    op.create_table('stage_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('opp_key', sa.Text(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('prev_stage', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stage_events', schema=None) as batch_op:
        batch_op.create_index('ix_se_key', ['opp_key', 'observed_on'], unique=False)

    op.create_table('weekly_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('week', sa.Text(), nullable=False),
    sa.Column('key_events', sa.Text(), nullable=True),
    sa.Column('market_news', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('decision_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_id', name='uq_dr_decision')
    )
    op.create_table('extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('deal', sa.Text(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('by_person', sa.Text(), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_id', name='uq_ext_decision')
    )
    op.create_table('transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ingest_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('deal', sa.Text(), nullable=False),
    sa.Column('from_person', sa.Text(), nullable=True),
    sa.Column('to_person', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['ingest_id'], ['ingests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('deal', 'parent_id', name='uq_tr_deal_parent')
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index('ix_tr_deal', ['deal', 'observed_on'], unique=False)



def downgrade() -> None:

    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_tr_deal')

    op.drop_table('transfers')
    op.drop_table('extensions')
    op.drop_table('decision_results')
    op.drop_table('weekly_notes')
    with op.batch_alter_table('stage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_se_key')

    op.drop_table('stage_events')
    op.drop_table('read_ends')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opp_key')
        batch_op.drop_index('ix_opp_fv')

    op.drop_table('opportunities')
    op.drop_table('issues')
    with op.batch_alter_table('held_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_held_fv')

    op.drop_table('held_rows')
    op.drop_table('expenses')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_dec_fp')

    op.drop_table('decisions')
    op.drop_table('contracts')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_act_rep')

    op.drop_table('activities')
    with op.batch_alter_table('reads', schema=None) as batch_op:
        batch_op.drop_index('ix_reads_sha')

    op.drop_table('reads')
    op.drop_table('playbooks')
    with op.batch_alter_table('file_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_fv_rep')
        batch_op.drop_index('ix_fv_path')

    op.drop_table('file_versions')
    op.drop_table('ingests')
    with op.batch_alter_table('file_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_fs_path')

    op.drop_table('file_stats')
