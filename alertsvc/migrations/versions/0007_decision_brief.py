"""decision brief: the brief a supervisor decided on, stored with the alert

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00

* ``alert.decision_brief``: the decision brief (criteria, reach, territory budget, SMS size, facts to publish) as it
  stood when the alert was approved or rejected; decided alerts return it instead of computing it again. Alerts
  decided before this revision keep NULL.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_brief', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_column('decision_brief')
