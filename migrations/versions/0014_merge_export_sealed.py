"""merge the batch-export (0012) and sealed-files (0013) branches, both made on 0011_archive

Revision ID: 0014_merge_export_sealed
Revises: 0012_archive_export, 0013_sealed_files
Create Date: 2026-11-29 11:30:00

"""

revision = '0014_merge_export_sealed'
down_revision = ('0012_archive_export', '0013_sealed_files')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
