"""designer: drafts of diagrams and forms, and the record of instance migrations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import service.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('designer_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['process_definition.id'], name=op.f('fk_designer_draft_based_on_id_process_definition'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_designer_draft')),
    sa.UniqueConstraint('kind', 'filename', name=op.f('uq_designer_draft_kind'))
    )
    op.create_table('instance_migration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('from_definition_id', sa.Integer(), nullable=False),
    sa.Column('to_definition_id', sa.Integer(), nullable=False),
    sa.Column('serialized_before', sa.Text(), nullable=False),
    sa.Column('instance_version_after', sa.Integer(), nullable=True),
    sa.Column('migrated_by_id', sa.Integer(), nullable=True),
    sa.Column('migrated_by', sa.String(length=64), nullable=True),
    sa.Column('migrated_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reverted_by', sa.String(length=64), nullable=True),
    sa.Column('reverted_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['from_definition_id'], ['process_definition.id'], name=op.f('fk_instance_migration_from_definition_id_process_definition')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_instance_migration_instance_id_process_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['migrated_by_id'], ['user_account.id'], name=op.f('fk_instance_migration_migrated_by_id_user_account')),
    sa.ForeignKeyConstraint(['to_definition_id'], ['process_definition.id'], name=op.f('fk_instance_migration_to_definition_id_process_definition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_migration'))
    )
    with op.batch_alter_table('instance_migration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_migration_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instance_migration_migrated_at'), ['migrated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('instance_migration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_migration_migrated_at'))
        batch_op.drop_index(batch_op.f('ix_instance_migration_instance_id'))
    op.drop_table('instance_migration')
    op.drop_table('designer_draft')
