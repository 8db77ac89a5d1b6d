"""calls: the call ledger, its events and the townships ratings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import service.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('township', sa.String(length=64), nullable=False),
    sa.Column('holder_unit', sa.String(length=64), nullable=True),
    sa.Column('holder_role', sa.String(length=32), nullable=True),
    sa.Column('reporter_username', sa.String(length=64), nullable=True),
    sa.Column('reporter_name', sa.String(length=100), nullable=True),
    sa.Column('reporter_unit', sa.String(length=64), nullable=True),
    sa.Column('reported_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('found_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('onsite_action', sa.Text(), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('item_code', sa.String(length=32), nullable=True),
    sa.Column('item_name', sa.String(length=200), nullable=True),
    sa.Column('area', sa.String(length=50), nullable=True),
    sa.Column('list_type', sa.String(length=8), nullable=True),
    sa.Column('catalog_version', sa.Integer(), nullable=True),
    sa.Column('triage_decision', sa.String(length=16), nullable=True),
    sa.Column('triage_opinion', sa.Text(), nullable=True),
    sa.Column('triaged_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('caller_username', sa.String(length=64), nullable=True),
    sa.Column('caller_name', sa.String(length=100), nullable=True),
    sa.Column('calling_unit', sa.String(length=64), nullable=True),
    sa.Column('called_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('request', sa.Text(), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('main_units', sa.JSON(), nullable=False),
    sa.Column('coordinating_units', sa.JSON(), nullable=False),
    sa.Column('receiver_contact', sa.String(length=100), nullable=True),
    sa.Column('receiver_phone', sa.String(length=32), nullable=True),
    sa.Column('receiver_username', sa.String(length=64), nullable=True),
    sa.Column('receiver_name', sa.String(length=100), nullable=True),
    sa.Column('acknowledge_due_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handle_due_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('original_handle_due_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_out_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closer_name', sa.String(length=100), nullable=True),
    sa.Column('handling_working_days', sa.Float(), nullable=True),
    sa.Column('acknowledge_overdue', sa.Boolean(), nullable=False),
    sa.Column('handle_overdue', sa.Boolean(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('supervision_due_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('supervision_note', sa.Text(), nullable=True),
    sa.Column('sendback_count', sa.Integer(), nullable=False),
    sa.Column('extension_status', sa.String(length=16), nullable=True),
    sa.Column('extension_days', sa.Integer(), nullable=True),
    sa.Column('redo_count', sa.Integer(), nullable=False),
    sa.Column('assists', sa.JSON(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('rating', sa.String(length=8), nullable=True),
    sa.Column('rating_reason', sa.Text(), nullable=True),
    sa.Column('confirmed_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_call_record_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_record')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_call_record_instance_id')),
    sa.UniqueConstraint('number', name=op.f('uq_call_record_number'))
    )
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_record_called_at'), ['called_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_handle_due_at'), ['handle_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_item_code'), ['item_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_overdue'), ['overdue'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_rating'), ['rating'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_status'), ['status'], unique=False)
        batch_op.create_index('ix_call_record_township_called', ['township', 'called_at'], unique=False)

    op.create_table('call_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=64), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('user_name', sa.String(length=100), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call_record.id'], name=op.f('fk_call_event_call_id_call_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_event'))
    )
    with op.batch_alter_table('call_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_event_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_event_kind'), ['kind'], unique=False)

    op.create_table('call_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('township', sa.String(length=64), nullable=False),
    sa.Column('rater_username', sa.String(length=64), nullable=True),
    sa.Column('rater_name', sa.String(length=100), nullable=True),
    sa.Column('rated_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call_record.id'], name=op.f('fk_call_rating_call_id_call_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_rating'))
    )
    with op.batch_alter_table('call_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_rating_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_rating_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_rating_township'), ['township'], unique=False)



def downgrade():
    with op.batch_alter_table('call_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_rating_township'))
        batch_op.drop_index(batch_op.f('ix_call_rating_department'))
        batch_op.drop_index(batch_op.f('ix_call_rating_call_id'))

    op.drop_table('call_rating')
    with op.batch_alter_table('call_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_event_kind'))
        batch_op.drop_index(batch_op.f('ix_call_event_call_id'))
        batch_op.drop_index(batch_op.f('ix_call_event_at'))

    op.drop_table('call_event')
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.drop_index('ix_call_record_township_called')
        batch_op.drop_index(batch_op.f('ix_call_record_status'))
        batch_op.drop_index(batch_op.f('ix_call_record_rating'))
        batch_op.drop_index(batch_op.f('ix_call_record_overdue'))
        batch_op.drop_index(batch_op.f('ix_call_record_item_code'))
        batch_op.drop_index(batch_op.f('ix_call_record_handle_due_at'))
        batch_op.drop_index(batch_op.f('ix_call_record_department'))
        batch_op.drop_index(batch_op.f('ix_call_record_called_at'))

    op.drop_table('call_record')
