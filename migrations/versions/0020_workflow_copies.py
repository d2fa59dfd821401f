"""workflow copies (抄送, issue 13): who was copied in on which workflow record, by whom

Revision ID: 0020_workflow_copies
Revises: 0019_list_page_indexes
Create Date: 2026-11-30 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_workflow_copies'
down_revision = '0019_list_page_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workflow_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('copied_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['copied_by_id'], ['user.id'], name=op.f('fk_workflow_copy_copied_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_workflow_copy_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_copy')),
    sa.UniqueConstraint('object_type', 'object_id', 'user_id', name='uq_workflow_copy')
    )
    op.create_index('ix_workflow_copy_user', 'workflow_copy', ['user_id', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_workflow_copy_user', table_name='workflow_copy')
    op.drop_table('workflow_copy')
