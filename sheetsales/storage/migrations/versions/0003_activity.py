"""The immutable daily log, activity and plans (issue 10)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('log_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('week', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('deal', sa.Text(), nullable=True),
    sa.Column('types', sa.Text(), nullable=True),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('cost', sa.Float(), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('time', sa.Text(), nullable=True),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('person', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rep', 'seq', name='uq_log_rep_seq')
    )
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.create_index('ix_log_rep', ['rep', 'week'], unique=False)

    op.create_table('log_rewrites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.Column('rewritten', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['log_entries.id'], ),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'fingerprint', name='uq_rw_entry_fp')
    )

    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_version_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('rep', sa.Text(), nullable=False),
    sa.Column('week', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('task', sa.Text(), nullable=False),
    sa.Column('deal', sa.Text(), nullable=True),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['file_version_id'], ['file_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index('ix_plan_fv', ['file_version_id'], unique=False)

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deal', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('types', sa.Text(), nullable=True))
    _chain_existing_logs()


def _chain_existing_logs() -> None:
    """The weekly reports ingested before this revision, replayed version by version into the chains, as
    ingest would have accepted them (their rewrites kept as evidence)."""
    from sheetsales.method import logchain

    conn = op.get_bind()
    fv = sa.table('file_versions', sa.column('id', sa.Integer), sa.column('observed_on', sa.Date),
                  sa.column('kind', sa.Text), sa.column('rep', sa.Text), sa.column('week', sa.Text),
                  sa.column('readable', sa.Boolean))
    values = [sa.column(c, sa.Date if c == 'date' else sa.Float if c in ('hours', 'cost') else sa.Text)
              for c in ('date', 'time', 'content', 'unit', 'person', 'contact', 'result', 'hours', 'cost', 'remarks')]
    act = sa.table('activities', sa.column('file_version_id', sa.Integer), sa.column('row', sa.Integer), *values)
    entries = sa.table('log_entries', *(sa.column(c) for c in (
        'id', 'file_version_id', 'observed_on', 'rep', 'seq', 'week', 'row', 'fingerprint', *logchain.ROW_FIELDS,
        'prev_hash', 'hash')))
    rewrites = sa.table('log_rewrites', *(sa.column(c) for c in (
        'file_version_id', 'observed_on', 'rep', 'entry_id', 'kind', 'row', 'fingerprint', 'rewritten')))
    rows: dict[int, list] = {}
    for r in conn.execute(sa.select(act).order_by(act.c.file_version_id, act.c.row)).mappings():
        rows.setdefault(r['file_version_id'], []).append(
            logchain.LogRow(r['row'], {**{k: r.get(k) for k in logchain.ROW_FIELDS}, 'deal': None, 'types': None,
                                       'content': r['content'] or None}))  # "" stood for no content
    accepted: dict[tuple, list[dict]] = {}
    heads: dict[str, tuple[int, str]] = {}
    known: set[tuple[int, str]] = set()
    versions = conn.execute(sa.select(fv).where(fv.c.kind == 'weekly', fv.c.readable.is_(True), fv.c.rep.is_not(None),
                                                fv.c.week.is_not(None)).order_by(fv.c.observed_on, fv.c.id)).mappings()
    for v in list(versions):
        key = (v['rep'], v['week'])
        plan = logchain.settle(accepted.get(key, []), rows.get(v['id'], []))
        seq, prev = heads.get(v['rep'], (0, logchain.GENESIS))
        for r in sorted(plan.new, key=lambda r: r.row):
            seq += 1
            entry = {'file_version_id': v['id'], 'observed_on': v['observed_on'], 'rep': v['rep'], 'seq': seq,
                     'week': v['week'], 'row': r.row, 'fingerprint': r.fingerprint,
                     **{k: r.values.get(k) for k in logchain.ROW_FIELDS}}
            entry['hash'], entry['prev_hash'] = logchain.entry_hash(entry, prev), prev
            conn.execute(sa.insert(entries).values(**entry))
            entry['id'] = conn.execute(sa.select(entries.c.id).where(entries.c.rep == v['rep'],
                                                                     entries.c.seq == seq)).scalar_one()
            accepted.setdefault(key, []).append(entry)
            prev = entry['hash']
        heads[v['rep']] = (seq, prev)
        base = {'file_version_id': v['id'], 'observed_on': v['observed_on'], 'rep': v['rep']}
        for entry, r in plan.altered:
            if (entry['id'], r.fingerprint) not in known:
                known.add((entry['id'], r.fingerprint))
                conn.execute(sa.insert(rewrites).values(**base, entry_id=entry['id'], kind='altered', row=r.row,
                                                        fingerprint=r.fingerprint, rewritten=logchain.rewritten_json(r)))
        for entry in plan.dropped:
            if (entry['id'], '') not in known:
                known.add((entry['id'], ''))
                conn.execute(sa.insert(rewrites).values(**base, entry_id=entry['id'], kind='dropped', row=None,
                                                        fingerprint='', rewritten=None))


def downgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('types')
        batch_op.drop_column('deal')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_fv')
    op.drop_table('plans')
    op.drop_table('log_rewrites')
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_log_rep')
    op.drop_table('log_entries')
