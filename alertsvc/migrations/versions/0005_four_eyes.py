"""four eyes over content: approved facts snapshot, every fatigue override kept, updates approved by a second person

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00

* ``alert.facts`` holds what the public sees, as approved; ``alert.case_revision`` / ``approved_revision`` name the
  case revisions requested and approved. Alerts already published get a snapshot of their case as it is now.
* ``alert_override`` keeps every fatigue override (``alert.override_by`` / ``override_reason`` kept only the last).
* ``alert_update`` gains a status (existing rows were sent), the facts it publishes and who decided it.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import alertsvc.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
PUBLISHED = ("active", "resolved", "expired")


def _snapshot(reference, child, seen, circ):
    child, seen, circ = child or {}, seen or {}, circ or {}
    return {"reference": reference,
            "child": {k: child.get(k) for k in ("name", "age", "sex", "description")},
            "last_seen": {"place": seen.get("place"), "at": seen.get("at")},
            "vehicle": circ.get("vehicle"), "plate": circ.get("plate"), "suspect": circ.get("suspect")}


def upgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_revision', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('approved_revision', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('facts', JSON, nullable=True))
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.alter_column('case_revision', server_default=None)

    op.create_table('alert_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=False),
    sa.Column('granted_at', alertsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], ),
    sa.ForeignKeyConstraint(['granted_by'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_override_alert_id'), ['alert_id'], unique=False)

    bind = op.get_bind()
    alert, case = sa.table('alert', sa.column('id'), sa.column('case_id'), sa.column('status'),
                           sa.column('override_by'), sa.column('override_reason'), sa.column('decided_at'),
                           sa.column('requested_at'), sa.column('facts', JSON),
                           sa.column('approved_revision'), sa.column('case_revision')), \
        sa.table('case', sa.column('id'), sa.column('reference'), sa.column('child', JSON),
                 sa.column('last_seen', JSON), sa.column('circumstances', JSON), sa.column('revision'))
    rows = bind.execute(sa.select(alert.c.id, alert.c.status, alert.c.override_by, alert.c.override_reason,
                                  alert.c.decided_at, alert.c.requested_at, case.c.reference, case.c.child,
                                  case.c.last_seen, case.c.circumstances, case.c.revision)
                        .join(case, case.c.id == alert.c.case_id)).all()
    override = sa.table('alert_override', sa.column('alert_id'), sa.column('granted_by'), sa.column('reason'),
                        sa.column('granted_at', alertsvc.db.UTCDateTime(timezone=True)))
    for r in rows:
        if r.override_by is not None:
            bind.execute(override.insert().values(alert_id=r.id, granted_by=r.override_by,
                                                  reason=r.override_reason or "(before 0005)",
                                                  granted_at=r.decided_at or r.requested_at))
        values = {"case_revision": r.revision}
        if r.status in PUBLISHED:
            values.update(facts=_snapshot(r.reference, r.child, r.last_seen, r.circumstances),
                          approved_revision=r.revision)
        bind.execute(alert.update().where(alert.c.id == r.id).values(**values))

    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_column('override_reason')
        batch_op.drop_column('override_by')

    with op.batch_alter_table('alert_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='sent'))
        batch_op.add_column(sa.Column('facts', JSON, nullable=True))
        batch_op.add_column(sa.Column('case_revision', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', alertsvc.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sa.String(length=2000), nullable=True))
        batch_op.create_foreign_key('fk_alert_update_decided_by_staff', 'staff', ['decided_by'], ['id'])
    with op.batch_alter_table('alert_update', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('alert_update', schema=None) as batch_op:
        batch_op.drop_constraint('fk_alert_update_decided_by_staff', type_='foreignkey')
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('case_revision')
        batch_op.drop_column('facts')
        batch_op.drop_column('status')

    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('override_reason', sa.String(length=2000), nullable=True))
        batch_op.create_foreign_key('fk_alert_override_by_staff', 'staff', ['override_by'], ['id'])
    # the last override of each alert goes back into the alert's columns
    op.execute("UPDATE alert SET override_by = (SELECT o.granted_by FROM alert_override o WHERE o.alert_id = alert.id "
               "ORDER BY o.id DESC LIMIT 1), override_reason = (SELECT o.reason FROM alert_override o "
               "WHERE o.alert_id = alert.id ORDER BY o.id DESC LIMIT 1)")
    with op.batch_alter_table('alert_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_override_alert_id'))
    op.drop_table('alert_override')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_column('facts')
        batch_op.drop_column('approved_revision')
        batch_op.drop_column('case_revision')
    del bind
