"""attention queue and alerts: assignments and snoozes of queue items, alert conditions (once per start),
per-person alert settings, in-app alerts and e-mail/webhook deliveries with their retries

Revision ID: 0020
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_conditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('cleared_at', sa.DateTime(), nullable=True),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_alert_conditions_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_conditions')),
    sa.UniqueConstraint('organisation_id', 'kind', 'subject', name=op.f('uq_alert_conditions_organisation_id_kind_subject'))
    )
    with op.batch_alter_table('alert_conditions', schema=None) as batch_op:
        batch_op.create_index('ix_alert_conditions_org_kind_active', ['organisation_id', 'kind', 'active'], unique=False)
        batch_op.create_index('ix_alert_conditions_org_started_at', ['organisation_id', 'started_at'], unique=False)

    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('digest_slot', sa.String(length=10), nullable=True),
    sa.Column('recipient', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'retrying', 'sent', 'failed', name='deliverystatus', native_enum=False,
                                length=16), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_alert_deliveries_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_deliveries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('user_id', 'channel', 'digest_slot', name=op.f('uq_alert_deliveries_user_id_channel_digest_slot'))
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_alert_deliveries_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_alert_deliveries_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('alert_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=False),
    sa.Column('webhook_secret', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_alert_settings_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_settings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_settings')),
    sa.UniqueConstraint('user_id', name=op.f('uq_alert_settings_user_id'))
    )
    with op.batch_alter_table('alert_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_settings_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('digest_slot', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_alerts_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alerts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('user_id', 'digest_slot', name=op.f('uq_alerts_user_id_digest_slot'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_alerts_user_id_read_at', ['user_id', 'read_at'], unique=False)

    op.create_table('attention_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.Column('snoozed_until', sa.DateTime(), nullable=True),
    sa.Column('snoozed_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_attention_marks_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_attention_marks_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['snoozed_by_id'], ['users.id'], name=op.f('fk_attention_marks_snoozed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attention_marks')),
    sa.UniqueConstraint('organisation_id', 'kind', 'subject', name=op.f('uq_attention_marks_organisation_id_kind_subject'))
    )
    with op.batch_alter_table('attention_marks', schema=None) as batch_op:
        batch_op.create_index('ix_attention_marks_assigned_to_id', ['assigned_to_id'], unique=False)



def downgrade():
    with op.batch_alter_table('attention_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_attention_marks_assigned_to_id')

    op.drop_table('attention_marks')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_user_id_read_at')
        batch_op.drop_index(batch_op.f('ix_alerts_organisation_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('alert_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_settings_organisation_id'))

    op.drop_table('alert_settings')
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_deliveries_user_id_id')
        batch_op.drop_index('ix_alert_deliveries_status_next')
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_organisation_id'))

    op.drop_table('alert_deliveries')
    with op.batch_alter_table('alert_conditions', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_conditions_org_started_at')
        batch_op.drop_index('ix_alert_conditions_org_kind_active')

    op.drop_table('alert_conditions')
